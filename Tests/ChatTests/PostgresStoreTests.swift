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
}
