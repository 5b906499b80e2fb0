// PostgresStore: the store contract on a throwaway PostgreSQL, plus what only several instances show.
@testable import Chat
import Foundation
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

    // MARK: feed and bots
    func testFeedOrderAndMembership() throws { try contract.feedOrderAndMembership() }
    func testFeedPositionsUnderConcurrency() throws { try contract.feedPositionsUnderConcurrency() }
    func testFeedFollowerWakesOnlyForItsEvents() throws { try contract.feedFollowerWakesOnlyForItsEvents() }
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
