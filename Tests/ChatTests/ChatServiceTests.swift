// ChatService's store-free logic: pages cut from committed messages, retry-after arithmetic.
@testable import Chat
import Dispatch
import Foundation
import XCTest

final class ChatServiceTests: XCTestCase {
    private func messages(_ seqs: ClosedRange<Int64>) -> [Message] {
        seqs.map { Message(id: "m\($0)", room: "r", seq: $0, user: "u", text: "t\($0)", createdAt: Timestamp(milliseconds: $0), clientID: nil) }
    }

    func testPageFromCommittedMessages() {
        let committed = messages(5...9)
        let cases: [(after: Int64, limit: Int, seqs: [Int64]?, hasMore: Bool)] = [
            (4, 50, [5, 6, 7, 8, 9], false),     // contiguous: the whole batch
            (6, 50, [7, 8, 9], false),           // saw part of the batch already
            (4, 2, [5, 6], true),                // limit cuts: more are there
            (3, 50, nil, false),                 // missed seq 4: needs a query
            (9, 50, nil, false),                 // nothing new
        ]
        for c in cases {
            let page = ChatService.page(room: "r", key: .init(after: c.after, limit: c.limit), lastSeq: 9, committed: committed)
            XCTAssertEqual(page?.messages.map(\.seq), c.seqs, "after \(c.after)")
            if let page {
                XCTAssertEqual(page.hasMore, c.hasMore)
                XCTAssertEqual(page.lastSeq, 9)
            }
        }
        XCTAssertNil(ChatService.page(room: "r", key: .init(after: 4, limit: 5), lastSeq: 9, committed: nil))
    }

    func testRetryAfterCountsFromTheFailureThatKeepsThePairOver() {
        let now = Timestamp(milliseconds: 1_000_000_000)
        let at = { (secondsAgo: Int64) in Timestamp(milliseconds: now.milliseconds - secondsAgo * 1000) }
        XCTAssertNil(ChatService.retryAfter(failures: [at(10), at(9), at(8), at(7)], now: now))
        XCTAssertEqual(ChatService.retryAfter(failures: [at(100), at(9), at(8), at(7), at(6)], now: now), 900 - 100)
        // Six failures (two racing requests): the pair stays over until the second oldest leaves too.
        XCTAssertEqual(ChatService.retryAfter(failures: [at(100), at(50), at(8), at(7), at(6), at(5)], now: now), 900 - 50)
    }

    func testTokensAreRandomAndHashed() {
        let a = SessionToken.generate()!
        let b = SessionToken.generate()!
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(a.utf8.count, 43)
        XCTAssertTrue(a.utf8.allSatisfy { c in (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 95 })
        XCTAssertEqual(SessionToken.hash(a).count, 32)
        XCTAssertEqual(SessionToken.hash(a), SessionToken.hash(a))
        XCTAssertEqual(SessionToken.base64url([0xFB, 0xFF]), "-_8")
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        XCTAssertEqual(SessionToken.hash("abc").map { String(format: "%02x", $0) }.joined(),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testPasswordHashesAreYescryptAndSalted() throws {
        let hasher = PasswordHasher(cost: 1)
        let one = try XCTUnwrap(hasher.hashNow("a long password"))
        let two = try XCTUnwrap(hasher.hashNow("a long password"))
        XCTAssertTrue(one.hasPrefix("$y$"))
        XCTAssertNotEqual(one, two, "salted")
        XCTAssertTrue(PasswordHasher.matches("a long password", one))
        XCTAssertFalse(PasswordHasher.matches("a long passworD", one))
        XCTAssertFalse(PasswordHasher.matches("a long password", "garbage"))
    }

    func testHashingLeavesTheCallersThread() {
        let hasher = PasswordHasher(cost: 1)
        let caller = pthread_self()
        let sameThread = Box<Bool>()
        let done = DispatchSemaphore(value: 0)
        let queued = hasher.hash("a long password") { _ in
            sameThread.value = pthread_equal(pthread_self(), caller) != 0
            done.signal()
        }
        XCTAssertTrue(queued)
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(sameThread.value, false)
    }
}
