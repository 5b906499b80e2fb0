// SQLiteStore: the store contract, plus what only a file shows — reopening, migrating, a second instance.
@testable import Chat
import CSQLite
import Foundation
@testable import Store
import XCTest

final class SQLiteStoreTests: XCTestCase {
    var dir = TempDir()
    lazy var contract = StoreContract { [dir] in try SQLiteStore(path: dir.file("\(UUID().uuidString).db")) }

    override func tearDown() { dir.cleanUp() }

    func testAccounts() throws { try contract.accounts() }
    func testUsernamesIgnoreCase() throws { try contract.usernamesIgnoreCase() }
    func testThrottling() throws { try contract.throttling() }
    func testThrottlingBurst() throws { try contract.throttlingBurst() }
    func testValidationCodes() throws { try contract.validationCodes() }
    func testRooms() throws { try contract.rooms() }
    func testPagingThroughAThousand() throws { try contract.pagingThroughAThousand() }
    func testIdempotentRetry() throws { try contract.idempotentRetry() }
    func testCreatedAtNeverGoesBackwards() throws { try contract.createdAtNeverGoesBackwards() }
    func testConcurrentPosts() throws { try contract.concurrentPosts() }
    func testWaitersWokenByOnePost() throws { try contract.waitersWokenByOnePost() }
    func testWaiterAnswersAtOnce() throws { try contract.waiterAnswersAtOnce() }
    func testPrivateRoomsAreInvisibleToOthers() throws { try contract.privateRoomsAreInvisibleToOthers() }
    func testMembershipRules() throws { try contract.membershipRules() }
    func testDirectRooms() throws { try contract.directRooms() }
    func testRoomPaging() throws { try contract.roomPaging() }
    func testRemovedMemberWaiterGets404() throws { try contract.removedMemberWaiterGets404() }
    func testMembershipFreshAcrossInstances() throws {
        try contract.membershipFreshAcrossInstances { [dir] in
            let path = dir.file("\(UUID().uuidString).db")
            return (try SQLiteStore(path: path), try SQLiteStore(path: path))
        }
    }

    /// Message ids: 12 hex digits of the creation time in ms, then 16 that make them unique (SQLiteBatch).
    func testMessageIDs() throws {
        let chat = try contract.service()
        let user = try contract.register(chat, "ids")
        let messages = contract.postMany(chat, user, 300)
        XCTAssertEqual(messages.count, 300)
        for m in messages {
            XCTAssertEqual(m.id.utf8.count, 28, m.id)
            XCTAssertTrue(m.id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }, m.id)
            let ms = String(m.createdAt.milliseconds, radix: 16)
            XCTAssertEqual(String(m.id.prefix(12)), String(repeating: "0", count: 12 - ms.count) + ms, m.id)
        }
        XCTAssertEqual(Set(messages.map(\.id)).count, 300)
    }

    /// Issue 12: expired tokens are deleted by the store on a timer, not only when someone logs in.
    func testExpiredTokensArePurgedOnATimer() throws {
        let path = dir.file("purge.db")
        let store = try SQLiteStore(path: path, tokenPurgeInterval: 0.2)
        _ = try value(outcome { store.createUser(username: "old", passwordHash: "x", at: Timestamp.now(), completion: $0) })
        let past = Timestamp(milliseconds: Timestamp.now().milliseconds - 1000)
        let future = Timestamp(milliseconds: Timestamp.now().milliseconds + 3_600_000)
        let earlier = Timestamp(milliseconds: past.milliseconds - 1000)   // createToken itself purges as of its `now`
        _ = try value(outcome { store.createToken(hash: Array(repeating: 1, count: 32), username: "old", expiresAt: past, now: earlier, completion: $0) })
        _ = try value(outcome { store.createToken(hash: Array(repeating: 2, count: 32), username: "old", expiresAt: future, now: earlier, completion: $0) })
        let raw = try SQLiteConnection(path: path)
        func tokens() throws -> Int64 { try raw.query("SELECT count(*) FROM tokens", []) { $0.int(0) }.first ?? -1 }
        XCTAssertEqual(try tokens(), 2)
        let deadline = Date().addingTimeInterval(10)
        while try tokens() > 1 && Date() < deadline { usleep(50_000) }
        XCTAssertEqual(try tokens(), 1, "the expired one is gone without any login")
        XCTAssertNotNil(try value(outcome { store.user(tokenHash: Array(repeating: 2, count: 32), now: Timestamp.now(), completion: $0) }))
    }
}
