// SQLiteStore: the store contract, plus what only a file shows — reopening, migrating, a second instance.
@testable import Chat
import CSQLite
import Foundation
import Store
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
}
