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
        ]
        for (query, expected) in cases {
            switch HistoryQuery.parse(query) {
            case .success(let q): XCTAssertEqual(q, expected, query)
            case .failure(let refusal): XCTFail("\(query) refused: \(refusal.response.status)")
            }
        }
    }

    func testInvalidQueriesAreInvalidParameter() throws {
        let bad = [
            "limit=0", "limit=201", "limit=", "limit=abc", "limit=-1", "limit=+5", "limit=1.5", "limit=%201",
            "limit=99999999999999999999", "before=0", "before=-3", "before=x", "after=-1", "after=1e3",
            "before=5&after=3", "wait=5", "before=9&wait=5", "after=1&wait=abc", "after=1&wait=-1", "after=1&wait=",
            "after=1&wait=nan", "after=1&wait=inf", "after=1&wait=1..2", "after=1&wait=.5", "room=", "room=%FF",
            "room=%C3%28",
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
