// PostgresStore: the store contract on a throwaway PostgreSQL, plus what only several instances show.
@testable import Chat
import Foundation
import Store
import XCTest

final class PostgresStoreTests: XCTestCase {
    var server: PostgresTestServer!
    lazy var contract = StoreContract { [server] in try PostgresStore(conninfo: server!.freshDatabase()) }

    override func setUpWithError() throws {
        server = try PostgresTestServer.shared()
    }

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
    func testCreatedAtNeverGoesBackwards() throws { try contract.createdAtNeverGoesBackwards() }
    func testPrivateRoomsAreInvisibleToOthers() throws { try contract.privateRoomsAreInvisibleToOthers() }
    func testMembershipRules() throws { try contract.membershipRules() }
    func testDirectRooms() throws { try contract.directRooms() }
    func testRoomPaging() throws { try contract.roomPaging() }
    func testRemovedMemberWaiterGets404() throws { try contract.removedMemberWaiterGets404() }
    /// Two PostgresStores (two instances) on one database.
    func testMembershipFreshAcrossInstances() throws {
        try contract.membershipFreshAcrossInstances { [server] in
            let conninfo = try server!.freshDatabase()
            return (try PostgresStore(conninfo: conninfo), try PostgresStore(conninfo: conninfo))
        }
    }

    /// The one-statement token check + page: 401 comes before 404, and an expired token is refused.
    func testAuthenticatedHistoryInOneStatement() throws {
        let clock = TestClock()
        let chat = try contract.service(clock: clock, tokenLifetime: 60)
        let user = try contract.register(chat, "reader")
        let token = try value(contract.login(chat, "reader")).token
        let message = try value(contract.post(chat, user, "hello")).message
        let page = try value(outcome { chat.history(token: token, room: "general", cursor: .after(0), limit: 10, completion: $0) })
        XCTAssertEqual(page.messages, [message])
        XCTAssertEqual(page.lastSeq, 1)
        let before = try value(outcome { chat.history(token: token, room: "general", cursor: .before(1), limit: 10, completion: $0) })
        XCTAssertEqual(before.messages, [])
        XCTAssertEqual(code(outcome { chat.history(token: token, room: "nowhere", cursor: .newest, limit: 10, completion: $0) }),
                       "room_not_found")
        XCTAssertEqual(code(outcome { chat.history(token: "wrong", room: "nowhere", cursor: .newest, limit: 10, completion: $0) }),
                       "unauthorized")
        clock.advance(seconds: 61)
        XCTAssertEqual(code(outcome { chat.history(token: token, room: "general", cursor: .newest, limit: 10, completion: $0) }),
                       "unauthorized")
    }
}
