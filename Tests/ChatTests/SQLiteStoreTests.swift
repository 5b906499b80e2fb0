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
    func testFilesRoundTrip() throws { try contract.filesRoundTrip() }
    func testFileTypesAndLimits() throws { try contract.fileTypesAndLimits() }
    func testFileAccessAndPosts() throws { try contract.fileAccessAndPosts() }
    func testFeedCarriesFiles() throws { try contract.feedCarriesFiles() }
    func testRemovedMemberWaiterGets404() throws { try contract.removedMemberWaiterGets404() }
    func testFeedOrderAndMembership() throws { try contract.feedOrderAndMembership() }
    func testFeedPositionsUnderConcurrency() throws { try contract.feedPositionsUnderConcurrency() }
    func testFeedFollowerWakesOnlyForItsEvents() throws { try contract.feedFollowerWakesOnlyForItsEvents() }
    func testBotLifecycle() throws { try contract.botLifecycle() }
    func testFeedAcrossInstances() throws {
        try contract.feedAcrossInstances { [dir] in
            let path = dir.file("\(UUID().uuidString).db")
            return (try SQLiteStore(path: path), try SQLiteStore(path: path))
        }
    }
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

    /// Issue 15: the same content is stored once however many files name it; an aborted upload and one whose
    /// uploader vanished an hour ago leave no chunks behind.
    func testFileContentStoredOnceAndStagingCleared() throws {
        let path = dir.file("files.db")
        let store = try SQLiteStore(path: path, tokenPurgeInterval: 0.2)
        let chat = ChatService(store: store, passwordCost: 1)
        let contract = StoreContract { store }
        let alice = try contract.register(chat, "alice")
        let bytes = (0..<(FileChunks.size + 10)).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let first = try value(contract.storeFile(chat, alice, bytes))
        let second = try value(contract.storeFile(chat, alice, bytes))
        XCTAssertNotEqual(first.id, second.id)
        let raw = try SQLiteConnection(path: path)
        func count(_ sql: String) throws -> Int64 { try raw.query(sql, []) { $0.int(0) }.first ?? -1 }
        XCTAssertEqual(try count("SELECT count(*) FROM file_contents"), 1)
        XCTAssertEqual(try count("SELECT count(*) FROM file_chunks"), 2)
        XCTAssertEqual(try count("SELECT count(*) FROM files"), 2)
        let aborted = chat.upload(user: alice, name: "x", maxBytes: 1 << 20)
        aborted.append([UInt8](repeating: 9, count: FileChunks.size + 1))
        aborted.abort()
        // A staged upload two hours old (its uploader vanished) is dropped by the purge timer.
        let stale = try value(outcome { store.beginUpload(at: Timestamp(milliseconds: Timestamp.now().milliseconds - 7_200_000), completion: $0) })
        _ = try value(outcome { store.appendUpload(stale, index: 0, bytes: [1, 2, 3], completion: $0) })
        let deadline = Date().addingTimeInterval(10)
        while try count("SELECT count(*) FROM file_chunks") > 2 && Date() < deadline { usleep(50_000) }
        XCTAssertEqual(try count("SELECT count(*) FROM file_chunks"), 2)
        XCTAssertEqual(try count("SELECT count(*) FROM file_contents"), 1)
        XCTAssertEqual(code(outcome { store.appendUpload(stale, index: 1, bytes: [4], completion: $0) }), "invalid_file")
    }

    /// Files live in the store: an upload through one instance is described and read by another at once.
    func testFileUploadedOnOneInstanceIsServedByAnother() throws {
        let path = dir.file("shared-files.db")
        let one = try SQLiteStore(path: path), two = try SQLiteStore(path: path)
        let chatOne = ChatService(store: one, passwordCost: 1), chatTwo = ChatService(store: two, passwordCost: 1)
        let contract = StoreContract { one }
        let alice = try contract.register(chatOne, "alice")
        let bytes = (0..<(FileChunks.size + 99)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let file = try value(contract.storeFile(chatOne, alice, bytes))
        XCTAssertEqual(try value(contract.openFile(chatTwo, alice, file.id)), file)
        XCTAssertEqual(try value(contract.readFile(chatTwo, file, 0..<file.size)), bytes)
    }
}
