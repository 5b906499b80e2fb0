// PostgresStore: the store contract on a throwaway PostgreSQL, plus what only several instances show.
@testable import Chat
import Foundation
import Synchronization
@testable import Store
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

    /// A v1 database (before rooms v2) upgrades in place: its rooms are public without an owner, its users are
    /// members of `general` (of no other room), its messages stay, and a post after the upgrade is never dated
    /// before the room's newest message.
    func testMigratesVersion1DatabaseToRoomsV2() throws {
        let conninfo = try server.freshDatabase()
        let raw = try PostgresConnection(conninfo: conninfo)
        try raw.execute(PostgresSchema.migrations[0] + """
            ;
            CREATE TABLE konnect_schema (version integer NOT NULL);
            INSERT INTO konnect_schema (version) VALUES (1);
            INSERT INTO users (username, username_key, password_hash, created_at) VALUES ('Old_Timer', 'old_timer', 'x', 1);
            INSERT INTO users (username, username_key, password_hash, created_at) VALUES ('bob', 'bob', 'x', 2);
            INSERT INTO rooms (name, created_at, last_seq) VALUES ('legacy', 3, 1);
            INSERT INTO messages SELECT id, 1, 'm1', 'bob', 'from v1', 4102444800000, NULL FROM rooms WHERE name = 'legacy';
            """)
        let chat = ChatService(store: try PostgresStore(conninfo: conninfo), passwordCost: 1)
        XCTAssertEqual(try raw.query("SELECT version FROM konnect_schema", []) { Int($0.int(0)) }, [PostgresSchema.currentVersion])
        let old = User(username: "Old_Timer", createdAt: Timestamp(milliseconds: 1))
        let list = try value(outcome { chat.rooms(user: old, after: nil, limit: 1000, completion: $0) })
        XCTAssertEqual(list.rooms.map(\.name), ["general", "legacy"])
        XCTAssertEqual(list.rooms.map(\.room.visibility), [.public, .public])
        XCTAssertEqual(list.rooms.map(\.room.owner), [nil, nil])
        XCTAssertEqual(list.rooms.map(\.joined), [true, false], "v1 users are members of general, not of other rooms")
        let general = try value(outcome { chat.room(user: old, name: "general", completion: $0) })
        XCTAssertEqual(general.members, ["bob", "Old_Timer"], "sorted by lowercase form, shown as registered")
        let page = try value(outcome { chat.history(room: "legacy", cursor: .newest, limit: 10, completion: $0) })
        XCTAssertEqual(page.messages.map(\.text), ["from v1"])
        let posted = try value(contract.post(chat, old, "after the upgrade", room: "legacy")).message
        XCTAssertEqual(posted.seq, 2)
        XCTAssertEqual(posted.createdAt.milliseconds, 4102444800000, "clamped to the newest message's created_at")
        let made = try value(outcome { chat.createRoom(user: old, name: "new-private", visibility: "private", completion: $0) })
        XCTAssertEqual(made.room.owner, "Old_Timer")
    }

    // MARK: files
    func testFilesRoundTrip() throws { try contract.filesRoundTrip() }
    func testFileTypesAndLimits() throws { try contract.fileTypesAndLimits() }
    func testFileAccessAndPosts() throws { try contract.fileAccessAndPosts() }

    /// Issue 15 on two instances: eight uploads of the same bytes, four through each store, finishing at once
    /// (three rounds), end with one stored content (its chunks once, byte for byte) and a file each; then a race
    /// forced on one sha256 (the first sealer held before COMMIT) ends with one content too; nothing stays staged.
    func testSameBytesUploadedOnTwoInstancesAtOnceAreStoredOnce() throws {
        let conninfo = try server.freshDatabase()
        let one = try PostgresStore(conninfo: conninfo), two = try PostgresStore(conninfo: conninfo)
        let chats = [ChatService(store: one, passwordCost: 1), ChatService(store: two, passwordCost: 1)]
        let alice = try contract.register(chats[0], "alice")
        let bytes = (0..<(FileChunks.size * 2 + 77)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ ($0 >> 9)) }
        for round in 0..<3 {
            let files = Mutex<[Result<FileInfo, ChatError>]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { i in
                let upload = chats[i % 2].upload(user: alice, name: "r\(round)-\(i).bin", maxBytes: 1 << 22)
                upload.append(bytes[..<FileChunks.size])
                upload.append(bytes[FileChunks.size...])
                let file = outcome { upload.finish(completion: $0) }
                files.withLock { $0.append(file) }
            }
            for file in files.withLock({ $0 }) {
                XCTAssertEqual(try value(file).sha256, StoreContract.sha256Hex(bytes))
            }
        }
        // Then the race forced: both finish the same new bytes while the first to seal them has not committed
        // (alice's row is locked, so its files INSERT waits on the foreign key after sealing).
        let raw = try PostgresConnection(conninfo: conninfo)
        let other: [UInt8] = Array("the same bytes, finished on two instances at once".utf8)
        let uploads = try [one, two].map { store in
            let upload = try value(outcome { store.beginUpload(at: .now(), completion: $0) })
            _ = try value(outcome { store.appendUpload(upload, index: 0, bytes: other, completion: $0) })
            return upload
        }
        try raw.execute("BEGIN; SELECT 1 FROM users WHERE username_key = 'alice' FOR UPDATE")
        let finished = Mutex<[Result<FileInfo, ChatError>]>([])
        let group = DispatchGroup()
        for (i, store) in [one, two].enumerated() {
            group.enter()
            store.finishUpload(uploads[i], file: NewFile(id: "race\(i)", name: "", type: .octetStream, size: Int64(other.count),
                                                        sha256: StoreContract.sha256Hex(other), uploader: "alice",
                                                        createdAt: .now())) { result in
                finished.withLock { $0.append(result) }
                group.leave()
            }
        }
        usleep(300_000)
        try raw.execute("COMMIT")
        XCTAssertEqual(group.wait(timeout: .now() + 20), .success)
        for result in finished.withLock({ $0 }) { XCTAssertEqual(try value(result).size, Int64(other.count)) }
        func count(_ sql: String) throws -> Int64 { try raw.query(sql, []) { $0.int(0) }.first ?? -1 }
        XCTAssertEqual(try count("SELECT count(*) FROM file_contents"), 2)
        XCTAssertEqual(try count("SELECT count(DISTINCT content_id) FROM files WHERE id IN ('race0', 'race1')"), 1)
        XCTAssertEqual(try count("SELECT count(*) FROM file_contents WHERE sha256 IS NULL"), 0)
        XCTAssertEqual(try count("SELECT count(*) FROM file_chunks"), 4)
        XCTAssertEqual(try count("SELECT sum(length(data)) FROM file_chunks"), Int64(bytes.count + other.count))
        XCTAssertEqual(try count("SELECT count(*) FROM files"), 26)
        let any = try XCTUnwrap(try raw.query("SELECT id FROM files WHERE id NOT LIKE 'race%' LIMIT 1", []) { $0.text(0) }.first)
        let file = try value(contract.openFile(chats[1], alice, any))
        XCTAssertEqual(try value(contract.readFile(chats[1], file, 0..<file.size)), bytes)
    }

    /// Files live in the database: a file uploaded through instance A is described and read through B at once,
    /// attached to a post on A it shows in B's history and opens for a member on B, and a post on B may name it.
    func testFileUploadedOnOneInstanceIsServedByAnother() throws {
        let conninfo = try server.freshDatabase()
        let chatA = ChatService(store: try PostgresStore(conninfo: conninfo), passwordCost: 1)
        let chatB = ChatService(store: try PostgresStore(conninfo: conninfo), passwordCost: 1)
        let alice = try contract.register(chatA, "alice"), bob = try contract.register(chatA, "bob")
        let bytes = (0..<(FileChunks.size + 99)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let file = try value(contract.storeFile(chatA, alice, bytes))
        XCTAssertEqual(try value(contract.openFile(chatB, alice, file.id)), file)
        XCTAssertEqual(try value(contract.readFile(chatB, file, 0..<file.size)), bytes)
        XCTAssertEqual(code(contract.openFile(chatB, bob, file.id)), "file_not_found")
        // Long-polls held on both instances get the message with its files (A's from the commit, B's by NOTIFY).
        let heldA = Box<HistoryPage>(), heldB = Box<HistoryPage>()
        let woken = DispatchSemaphore(value: 0)
        let lastSeq = try value(outcome { chatA.history(room: "general", cursor: .newest, limit: 1, completion: $0) }).lastSeq
        for (chat, held) in [(chatA, heldA), (chatB, heldB)] {
            _ = chat.waitForMessages(room: "general", after: lastSeq, limit: 10) { held.value = try? $0.get(); woken.signal() }
        }
        usleep(100_000)
        _ = try value(outcome { chatA.post(user: alice, room: "general", text: "see", clientID: nil, files: [file.id], completion: $0) })
        XCTAssertEqual(woken.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(woken.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(heldA.value?.messages.map(\.files), [[file]])
        XCTAssertEqual(heldB.value?.messages.map(\.files), [[file]])
        let page = try value(outcome { chatB.history(room: "general", cursor: .newest, limit: 10, completion: $0) })
        XCTAssertEqual(page.messages.last?.files, [file])
        XCTAssertEqual(try value(contract.openFile(chatB, bob, file.id)), file)
        let again = try value(outcome { chatB.post(user: alice, room: "general", text: "again", clientID: nil, files: [file.id, file.id], completion: $0) })
        XCTAssertEqual(again.message.files, [file, file])
        // The copy of the attachments kept with the message (messages.files, JSON) keeps any name exactly.
        let odd = try value(contract.storeFile(chatA, alice, [1, 2], name: "a \"quoted\", [é😀] {x}.txt"))
        XCTAssertEqual(odd.name, "a \"quoted\", [é😀] {x}.txt")
        _ = try value(outcome { chatA.post(user: alice, room: "general", text: "odd", clientID: nil, files: [odd.id, file.id], completion: $0) })
        let latest = try value(outcome { chatB.history(room: "general", cursor: .newest, limit: 1, completion: $0) })
        XCTAssertEqual(latest.messages.first?.files, [odd, file])
        XCTAssertEqual(code(outcome { chatB.post(user: bob, room: "general", text: "mine?", clientID: nil, files: [file.id], completion: $0) }),
                       "invalid_file")
    }

    /// An aborted upload leaves no row; one abandoned an hour ago is dropped by the next upload's begin; chunks
    /// of an upload that is no longer staged are refused.
    func testAbortedAndAbandonedUploadsLeaveNothing() throws {
        let conninfo = try server.freshDatabase()
        let store = try PostgresStore(conninfo: conninfo)
        let chat = ChatService(store: store, passwordCost: 1)
        let alice = try contract.register(chat, "alice")
        let raw = try PostgresConnection(conninfo: conninfo)
        func count(_ sql: String) throws -> Int64 { try raw.query(sql, []) { $0.int(0) }.first ?? -1 }
        let aborted = chat.upload(user: alice, name: "x", maxBytes: 1 << 22)
        XCTAssertTrue(aborted.append([UInt8](repeating: 9, count: FileChunks.size * 3 + 1)))
        aborted.abort()
        let stale = try value(outcome { store.beginUpload(at: Timestamp(milliseconds: Timestamp.now().milliseconds - 7_200_000), completion: $0) })
        _ = try value(outcome { store.appendUpload(stale, index: 0, bytes: [1, 2, 3], completion: $0) })
        let deadline = Date().addingTimeInterval(10)
        while try count("SELECT count(*) FROM file_chunks") > 1 && Date() < deadline { usleep(50_000) }
        XCTAssertEqual(try count("SELECT count(*) FROM file_chunks"), 1, "the aborted upload's chunks are gone")
        _ = try value(contract.storeFile(chat, alice, [7, 7, 7]))     // its begin drops the stale upload
        XCTAssertEqual(try count("SELECT count(*) FROM file_contents WHERE sha256 IS NULL"), 0)
        XCTAssertEqual(try count("SELECT count(*) FROM file_chunks"), 1)
        XCTAssertEqual(code(outcome { store.appendUpload(stale, index: 1, bytes: [4], completion: $0) }), "invalid_file")
        XCTAssertEqual(code(outcome { store.finishUpload(stale, file: NewFile(id: "x", name: "", type: .octetStream, size: 0,
            sha256: "00", uploader: "alice", createdAt: .now()), completion: $0) }), "invalid_file")
    }

    func testRefusesNewerSchema() throws {
        let conninfo = try server.freshDatabase()
        let raw = try PostgresConnection(conninfo: conninfo)
        try raw.execute("CREATE TABLE konnect_schema (version integer NOT NULL); INSERT INTO konnect_schema VALUES (99)")
        XCTAssertThrowsError(try PostgresStore(conninfo: conninfo))
    }

    /// Benchmark (KONNECT_BENCH=1; printed, never asserted on time): what `roomAccess` costs on PostgreSQL — a
    /// private room (one primary-key statement on a reader thread every time) and a public one (from memory once
    /// read, see `PostgresAccessCache`) — one caller at a time, and 8 at once.
    func testBenchRoomAccess() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["KONNECT_BENCH"] == "1", "set KONNECT_BENCH=1 to run benchmarks")
        let store = try PostgresStore(conninfo: try server.freshDatabase())
        let chat = ChatService(store: store, passwordCost: 1)
        let owner = try contract.register(chat, "owner")
        _ = try value(outcome { chat.createRoom(user: owner, name: "vault", visibility: "private", completion: $0) })
        let rounds = 5000
        for room in ["vault", "general"] {
            var start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<rounds {
                XCTAssertEqual(try value(outcome { store.roomAccess(room: room, username: "owner", completion: $0) })?.isMember, true)
            }
            let serial = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(rounds) / 1000
            start = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                for _ in 0..<rounds / 8 {
                    _ = outcome { store.roomAccess(room: room, username: "owner", completion: $0) }
                }
            }
            let perSecond = Double(rounds / 8 * 8) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            print("roomAccess on PostgreSQL, \(room == "vault" ? "private" : "public") room: \(String(format: "%.1f", serial)) µs per call one at a time; \(String(format: "%.0f", perSecond)) calls/s with 8 callers")
        }
    }

    /// A chunk once read is served from memory after (files never change): the same bytes, no second read.
    func testFileChunksAreHeldOnceRead() throws {
        let store = try PostgresStore(conninfo: server.freshDatabase())
        let chat = ChatService(store: store, passwordCost: 1)
        let alice = try contract.register(chat, "alice")
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let file = try value(contract.storeFile(chat, alice, bytes, name: "two.bin"))
        XCTAssertEqual(store.chunkCache.heldBytes, 0)
        XCTAssertEqual(try value(contract.readFile(chat, file, 0..<Int64(bytes.count))), bytes)
        XCTAssertEqual(store.chunkCache.heldBytes, bytes.count, "both chunks held")
        XCTAssertEqual(try value(contract.readFile(chat, file, 1..<Int64(bytes.count - 1))), Array(bytes[1..<(bytes.count - 1)]))
        XCTAssertEqual(try value(outcome { store.fileChunk(id: file.id, index: 2, completion: $0) }), nil, "past the end: none")
    }

    // MARK: feed and bots
    func testFeedOrderAndMembership() throws { try contract.feedOrderAndMembership() }
    func testFeedPositionsUnderConcurrency() throws { try contract.feedPositionsUnderConcurrency() }
    func testFeedFollowerWakesOnlyForItsEvents() throws { try contract.feedFollowerWakesOnlyForItsEvents() }
    func testFeedCarriesFiles() throws { try contract.feedCarriesFiles() }
    func testBotLifecycle() throws { try contract.botLifecycle() }
    func testFeedAcrossInstances() throws {
        try contract.feedAcrossInstances { [server] in
            let conninfo = try server!.freshDatabase()
            return (try PostgresStore(conninfo: conninfo), try PostgresStore(conninfo: conninfo))
        }
    }

    /// A v2 database (rooms v2, before the feed and bots) with data upgrades in place, as SQLite's v7 does: every
    /// membership becomes a `joined` (by room, then user), then every message an event by creation time; the
    /// counter continues after them; old messages and users are not bots.
    func testMigratesVersion2DatabaseToFeedAndBots() throws {
        let conninfo = try server.freshDatabase()
        let raw = try PostgresConnection(conninfo: conninfo)
        try raw.execute(PostgresSchema.migrations[0] + ";" + PostgresSchema.migrations[1] + """
            ;
            CREATE TABLE konnect_schema (version integer NOT NULL);
            INSERT INTO konnect_schema (version) VALUES (2);
            INSERT INTO users (username, username_key, password_hash, created_at) VALUES ('Ann', 'ann', 'x', 1);
            INSERT INTO users (username, username_key, password_hash, created_at) VALUES ('bob', 'bob', 'x', 2);
            INSERT INTO room_members (room_id, user_id) SELECT r.id, u.id FROM rooms r, users u WHERE r.name = 'general';
            INSERT INTO rooms (name, created_at, visibility, owner_id, last_seq, last_created_at)
                SELECT 'hideout', 3, 'private', id, 2, 30 FROM users WHERE username_key = 'bob';
            INSERT INTO room_members (room_id, user_id) SELECT r.id, u.id FROM rooms r, users u
                WHERE r.name = 'hideout' AND u.username_key = 'bob';
            UPDATE rooms SET last_seq = 2, last_created_at = 20 WHERE name = 'general';
            INSERT INTO messages SELECT id, 1, 'g1', 'Ann', 'first', 10, NULL FROM rooms WHERE name = 'general';
            INSERT INTO messages SELECT id, 1, 'h1', 'bob', 'hidden', 15, NULL FROM rooms WHERE name = 'hideout';
            INSERT INTO messages SELECT id, 2, 'g2', 'bob', 'second', 20, 'k' FROM rooms WHERE name = 'general';
            INSERT INTO messages SELECT id, 2, 'h2', 'bob', 'hidden 2', 30, NULL FROM rooms WHERE name = 'hideout';
            """)
        let chat = ChatService(store: try PostgresStore(conninfo: conninfo), passwordCost: 1)
        XCTAssertEqual(try raw.query("SELECT version FROM konnect_schema", []) { Int($0.int(0)) }, [PostgresSchema.currentVersion])
        let ann = User(username: "Ann", createdAt: Timestamp(milliseconds: 1))
        let bob = User(username: "bob", createdAt: Timestamp(milliseconds: 2))
        let annFeed = try contract.wholeFeed(chat, ann, limit: 2)
        XCTAssertEqual(contract.describe(annFeed), ["+general", "general:first", "general:second"])
        XCTAssertEqual(annFeed.map(\.pos), [1, 4, 6], "3 memberships first, then messages by created_at")
        let bobFeed = try contract.wholeFeed(chat, bob, limit: 100)
        XCTAssertEqual(contract.describe(bobFeed), ["+general", "+hideout", "general:first", "hideout:hidden",
                                                    "general:second", "hideout:hidden 2"])
        XCTAssertEqual(bobFeed.map(\.pos), [2, 3, 4, 5, 6, 7])
        guard case .message(let m) = bobFeed[4].kind else { return XCTFail("\(bobFeed[4])") }
        XCTAssertEqual(m, Message(id: "g2", room: "general", seq: 2, user: "bob", text: "second",
                                  createdAt: Timestamp(milliseconds: 20), clientID: "k", bot: false))
        let stored = try value(outcome { chat.store.user(named: "bob", completion: $0) })
        XCTAssertEqual(stored?.user.bot, false)
        XCTAssertEqual(try contract.feed(chat, ann, after: nil).next, 7)
        let posted = try value(contract.post(chat, ann, "after the upgrade")).message
        XCTAssertEqual(posted.seq, 3)
        XCTAssertEqual(try contract.feed(chat, ann, after: 6).events.map(\.pos), [8], "the counter continues")
        let made = try value(outcome { chat.createBot(user: ann, username: "robot", completion: $0) })
        XCTAssertEqual(made.bot.owner, "Ann")
    }

    /// Bot tokens are revoked on every instance: rotated or deleted through A, the old token fails on B (whose
    /// cache held it) within 100 ms, by the NOTIFY on konnect_tokens.
    func testBotTokenRotationAndDeletionRevokeOnEveryInstance() throws {
        let conninfo = try server.freshDatabase()
        let a = ChatService(store: try PostgresStore(conninfo: conninfo), passwordCost: 1)
        let b = ChatService(store: try PostgresStore(conninfo: conninfo), passwordCost: 1)
        let owner = try contract.register(a, "owner")
        var token = try value(outcome { a.createBot(user: owner, username: "relay", completion: $0) }).token
        for step in ["rotate", "delete"] {
            for _ in 0..<3 {    // warm B's cache
                XCTAssertEqual(try value(outcome { b.authenticate(token: token, completion: $0) }).username, "relay")
            }
            var next: String?
            if step == "rotate" {
                next = try value(outcome { a.rotateBotToken(user: owner, username: "relay", completion: $0) }).token
            } else {
                _ = try value(outcome { a.deleteBot(user: owner, username: "relay", completion: $0) })
            }
            let changed = Date()
            XCTAssertEqual(code(outcome { a.authenticate(token: token, completion: $0) }), "unauthorized", "\(step): at once on A")
            var refusedAfter: Double?
            while Date().timeIntervalSince(changed) < 1 {
                if case .failure = outcome({ b.authenticate(token: token, completion: $0) }) {
                    refusedAfter = Date().timeIntervalSince(changed)
                    break
                }
                usleep(2_000)
            }
            XCTAssertLessThan(refusedAfter ?? 1, 0.1, "\(step): on B within 100 ms")
            if let next {
                XCTAssertTrue(try value(outcome { b.authenticate(token: next, completion: $0) }).bot)
                token = next
            }
        }
    }
}
