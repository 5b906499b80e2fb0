// The page cache: equal pages share one encoding; anything that changes the JSON changes the key.
import XCTest
@testable import API
import Chat

final class PageCacheTests: XCTestCase {
    func page(_ seqs: ClosedRange<Int64>, hasMore: Bool = false, lastSeq: Int64 = 9, text: String = "t") -> HistoryPage {
        HistoryPage(room: "general", messages: seqs.map {
            Message(id: "m\($0)", room: "general", seq: $0, user: "u", text: text, createdAt: Timestamp(milliseconds: 0), clientID: nil)
        }, hasMore: hasMore, lastSeq: lastSeq)
    }

    func testEqualPagesEncodeTheSameAndDifferentPagesDiffer() {
        let cache = PageCache()
        let a = cache.encoded(page(1...3))
        XCTAssertEqual(a, ChatJSON.page(page(1...3)))
        XCTAssertEqual(cache.encoded(page(1...3)), a)
        XCTAssertNotEqual(cache.encoded(page(1...3, lastSeq: 10)), a)
        XCTAssertNotEqual(cache.encoded(page(1...3, hasMore: true)), a)
        XCTAssertNotEqual(cache.encoded(page(2...3)), a)
        XCTAssertEqual(cache.encoded(page(2...3)), ChatJSON.page(page(2...3)))
    }

    func testLargePagesStayCorrectPastTheByteBudget() {
        let cache = PageCache()
        let big = String(repeating: "é", count: 4000)
        for round in 0..<2 {
            for start in stride(from: Int64(1), through: 2001, by: 200) {
                let p = page(start...(start + 199), lastSeq: 5000, text: big)
                XCTAssertEqual(cache.encoded(p), ChatJSON.page(p), "round \(round) page \(start)")
            }
        }
    }
}
