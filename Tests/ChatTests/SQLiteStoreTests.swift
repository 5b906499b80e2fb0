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
}
