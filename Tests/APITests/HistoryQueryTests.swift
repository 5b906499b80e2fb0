// Table tests for GET /messages query validation (../shared/API.md "GET /messages").
import XCTest
@testable import API
import Chat

final class HistoryQueryTests: XCTestCase {
    func testValidQueries() throws {
        let cases: [(String, HistoryQuery)] = [
            ("", HistoryQuery()),
            ("room=random", HistoryQuery(room: "random")),
            ("limit=1", HistoryQuery(limit: 1)),
            ("limit=200&before=7", HistoryQuery(limit: 200, cursor: .before(7))),
            ("after=0", HistoryQuery(cursor: .after(0))),
            ("after=5&wait=0", HistoryQuery(cursor: .after(5), wait: 0)),
            ("after=5&wait=2.5", HistoryQuery(cursor: .after(5), wait: 2.5)),
            ("after=5&wait=61", HistoryQuery(cursor: .after(5), wait: 60)),             // larger counts as 60
            ("after=5&wait=99999999999999999999", HistoryQuery(cursor: .after(5), wait: 60)),
            ("limit=007", HistoryQuery(limit: 7)),
            ("unknown=x&limit=3", HistoryQuery(limit: 3)),                               // unknown names ignored
            ("limit=3&limit=500", HistoryQuery(limit: 3)),                               // the first occurrence wins
            ("%6Cimit=4&limit=500", HistoryQuery(limit: 4)),                             // names are percent-decoded
            ("&&room=a+b%21&", HistoryQuery(room: "a b!")),                              // empty parts, + and %XX
            ("limits=9", HistoryQuery()),
            ("room=%E2%82%AC", HistoryQuery(room: "€")),
        ]
        for (query, expected) in cases {
            switch HistoryQuery.parse(query) {
            case .success(let q): XCTAssertEqual(q, expected, query)
            case .failure(let refusal): XCTFail("\(query) refused: \(refusal.response.status)")
            }
        }
    }

    /// The route's own scanner reads the same values as the general form decoder, tricky and random queries alike.
    func testFieldsMatchFormDecoding() throws {
        var queries = ["", "room", "room=", "=x", "room=a=b", "%72oom=x&room=y", "room=%zz&limit=%", "limit=1+2",
                       "wait=%FF", "before&after=1", "ROOM=x", "room=%C3%A9&room=z", "a&b&limit=9&&"]
        let alphabet = Array("rolimtbefaw=&%+2F9zé".unicodeScalars)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            queries.append(String(String.UnicodeScalarView((0..<Int.random(in: 0...24, using: &rng)).map { _ in
                alphabet.randomElement(using: &rng)!
            })))
        }
        for query in queries {
            let expected = FormFields.decode(Array(query.utf8), uri: true)
            let fields = HistoryQuery.Fields(query)
            for name in ["room", "limit", "before", "after", "wait"] {
                XCTAssertEqual(fields[name], expected[name], "\(name) in \(query)")
            }
        }
    }

    /// Contract v2: `wait` without `after` waits for the room's next message (the route resolves "now"); values
    /// above 60 count as 60.
    func testWaitWithoutAfterIsAllowed() throws {
        guard case .success(let q) = HistoryQuery.parse("wait=100&room=ops") else { return XCTFail("refused") }
        XCTAssertEqual(q.cursor, .newest)
        XCTAssertEqual(q.wait, 60)
        XCTAssertEqual(q.room, "ops")
    }

    func testInvalidQueriesAreInvalidParameter() throws {
        let bad = [
            "limit=0", "limit=201", "limit=", "limit=abc", "limit=-1", "limit=+5", "limit=1.5", "limit=%201",
            "limit=99999999999999999999", "before=0", "before=-3", "before=x", "after=-1", "after=1e3",
            "before=5&after=3", "before=9&wait=5", "after=1&wait=abc", "after=1&wait=-1", "after=1&wait=",
            "after=1&wait=nan", "after=1&wait=inf", "after=1&wait=1..2", "after=1&wait=.5", "room=", "room=%FF",
            "room=%C3%28", "room", "limit",
        ]
        for query in bad {
            switch HistoryQuery.parse(query) {
            case .success(let q): XCTFail("\(query) accepted as \(q)")
            case .failure(let refusal):
                XCTAssertEqual(refusal.response.status, 400, query)
                XCTAssertTrue(String(decoding: refusal.response.body, as: UTF8.self).contains("\"invalid_parameter\""), query)
            }
        }
    }
}
