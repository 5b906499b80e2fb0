// The hand-written JSON encoder: escaping, shapes, and timestamps identical to Chat's `Timestamp.rfc3339`.
import XCTest
@testable import API
import Chat

final class JSONWriterTests: XCTestCase {
    func testTimestampsMatchTheDomainsFormatter() {
        var samples: [Int64] = [0, 1, 999, 1000, 86_399_999, 86_400_000, 951_782_400_000, 1_795_000_000_123,
                                -1, -1000, -86_400_001, 253_402_300_799_999]
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<5000 {   // pseudo-random instants across 1970–2100
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            samples.append(Int64(x % 4_102_444_800_000))
        }
        for ms in samples {
            var w = JSONWriter()
            w.time(Timestamp(milliseconds: ms))
            XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), "\"" + Timestamp(milliseconds: ms).rfc3339 + "\"", "\(ms)")
        }
    }

    func testPageShapeAndEscaping() throws {
        let texts = ["plain", "quote \" backslash \\ newline \n tab \t", "nul \u{0} del \u{7F}", "ls \u{2028} ps \u{2029}",
                     "emoji 👩‍👩‍👧 and é", "</script><script>"]
        let messages = texts.enumerated().map { i, text in
            Message(id: "id\(i)", room: "general", seq: Int64(i + 1), user: "alice", text: text,
                    createdAt: Timestamp(milliseconds: 1_795_000_000_123), clientID: i == 0 ? "c\"1" : nil)
        }
        let bytes = ChatJSON.page(HistoryPage(room: "general", messages: messages, hasMore: true, lastSeq: 9))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        XCTAssertEqual(json["room"] as? String, "general")
        XCTAssertEqual(json["has_more"] as? Bool, true)
        XCTAssertEqual(json["last_seq"] as? Int, 9)
        let decoded = try XCTUnwrap(json["messages"] as? [[String: Any]])
        XCTAssertEqual(decoded.compactMap { $0["text"] as? String }.map { Array($0.utf8) }, texts.map { Array($0.utf8) })
        XCTAssertEqual(decoded.compactMap { $0["seq"] as? Int }, Array(1...texts.count))
        XCTAssertEqual(decoded[0]["client_id"] as? String, "c\"1")
        XCTAssertTrue(decoded[1]["client_id"] is NSNull)
        XCTAssertEqual(Set(decoded[0].keys), ["id", "room", "seq", "user", "text", "created_at", "client_id"])
        // U+2028/2029 are escaped so the JSON is also valid JavaScript.
        XCTAssertFalse(String(decoding: bytes, as: UTF8.self).contains("\u{2028}"))
    }

    func testEmptyPage() {
        let bytes = ChatJSON.page(HistoryPage(room: "r", messages: [], hasMore: false, lastSeq: 0))
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), #"{"room":"r","messages":[],"has_more":false,"last_seq":0}"# + "\n", "an answer ends its line")
    }
}
