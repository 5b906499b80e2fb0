// PostgresMessageCache and the window page statements (issue 11): the same pages as full reads, never a page to
// someone the room no longer admits, fresh across instances, and across a PostgreSQL restart.
@testable import Chat
import Foundation
@testable import Store
import XCTest

final class PostgresMessageCacheTests: XCTestCase {
    var server: PostgresTestServer!
    let contract = StoreContract { () throws -> Store in throw PostgresError(sqlState: "", message: "unused") }

    override func setUpWithError() throws {
        server = try PostgresTestServer.shared()
    }

    private func window(_ store: PostgresStore, _ user: User, _ room: String, _ cursor: HistoryCursor,
                        limit: Int) -> Result<TokenHistory?, ChatError> {
        let bound: Int64
        switch cursor {
        case .newest: bound = 0
        case .before(let b): bound = b
        case .after(let a): bound = a
        }
        return outcome { store.windowHistory(user: user, room: room, cursor: cursor, bound: bound, limit: limit, completion: $0) }
    }

    private func full(_ store: PostgresStore, _ room: String, _ cursor: HistoryCursor, limit: Int) throws -> HistoryPage {
        try value(outcome { store.history(room: room, cursor: cursor, limit: limit, completion: $0) })
    }

    /// Every cursor and limit, read twice (cold, then with the run held): the very page of a full read, and the
    /// second time most of it from memory.
    func testWindowPagesEqualFullReads() throws {
        let store = try PostgresStore(conninfo: server.freshDatabase(), readers: 2)
        let chat = ChatService(store: store, passwordCost: 1)
        let user = try contract.register(chat, "reader")
        let posted = contract.postMany(chat, user, 60)
        XCTAssertEqual(posted.count, 60)
        var cursors: [HistoryCursor] = [.newest]
        for b: Int64 in [1, 2, 3, 10, 52, 60, 61, 62, 100] { cursors.append(.before(b)) }
        for a: Int64 in [0, 1, 9, 10, 11, 58, 59, 60, 61, 500] { cursors.append(.after(a)) }
        for pass in 0..<2 {
            for cursor in cursors {
                for limit in [1, 7, 50, 200] {
                    let page = try value(window(store, user, "general", cursor, limit: limit))?.page
                    XCTAssertEqual(page, try full(store, "general", cursor, limit: limit), "pass \(pass) \(cursor) limit \(limit)")
                }
            }
        }
        XCTAssertEqual(store.messageCache.heldCount, 60, "every message read is held")
        // A newer message (posted after the newest page was held) is in the next newest page.
        let newer = try value(contract.post(chat, user, "newer")).message
        let page = try XCTUnwrap(try value(window(store, user, "general", .newest, limit: 3))?.page)
        XCTAssertEqual(page.messages.map(\.seq), [59, 60, 61])
        XCTAssertEqual(page.messages.last, newer)
        XCTAssertEqual(page.lastSeq, 61)
        XCTAssertTrue(page.hasMore)
        // What a message carries besides its text comes through the window read and the held copy alike: its
        // files and whether a bot wrote it.
        let file = try value(contract.storeFile(chat, user, Array("attached".utf8), name: "a.txt"))
        _ = try value(outcome { chat.post(user: user, room: "general", text: "with a file", clientID: nil, files: [file.id], completion: $0) })
        let made = try value(outcome { chat.createBot(user: user, username: "helper", completion: $0) })
        let bot = try value(outcome { chat.authenticate(token: made.token, completion: $0) })
        _ = try value(contract.post(chat, bot, "from a bot"))
        for pass in 0..<2 {
            let last = try XCTUnwrap(try value(window(store, user, "general", .after(61), limit: 10))?.page, "pass \(pass)")
            XCTAssertEqual(last.messages.map(\.text), ["with a file", "from a bot"], "pass \(pass)")
            XCTAssertEqual(last.messages.map { $0.files.map(\.id) }, [[file.id], []], "pass \(pass)")
            XCTAssertEqual(last.messages.map(\.bot), [false, true], "pass \(pass)")
            XCTAssertEqual(last, try full(store, "general", .after(61), limit: 10), "pass \(pass)")
        }
    }

    /// A held run that does not belong (another room id), or rows with a gap, make no page: the caller reads it whole.
    func testWindowPageRefusesWhatDoesNotAddUp() {
        func message(_ seq: Int64) -> Message {
            Message(id: "m\(seq)", room: "r", seq: seq, user: "u", text: "t\(seq)", createdAt: Timestamp(milliseconds: seq), clientID: nil)
        }
        let held = PostgresMessageCache.Held(roomID: 7, lo: 3, hi: 4, messages: [message(3), message(4)])
        let cases: [(cursor: HistoryCursor, lastSeq: Int64, roomID: Int64, fetched: [Int64], seqs: [Int64]?, hasMore: Bool)] = [
            (.after(1), 10, 7, [2, 5], [2, 3, 4], true),            // limit 3: 2…5 read as 2 + held 3, 4 + 5
            (.after(1), 10, 8, [2, 5], nil, false),                 // the held run is another room's
            (.after(1), 10, 7, [2], nil, false),                    // 5 missing: a gap
            (.after(1), 10, 7, [2, 5, 9], nil, false),              // a row outside the window
            (.after(1), 4, 7, [2], [2, 3, 4], false),               // the room ends at 4
            (.newest, 5, 7, [2, 5], [3, 4, 5], true),
            (.before(5), 10, 7, [1, 2], [2, 3, 4], true),
            (.before(99), 4, 7, [1, 2], [2, 3, 4], true),           // a cursor past the newest counts from it
            (.newest, 0, 7, [], [], false),                         // an empty room
        ]
        for c in cases {
            let page = PostgresStore.windowPage(room: "r", cursor: c.cursor, limit: 3, lastSeq: c.lastSeq, roomID: c.roomID,
                                                fetched: c.fetched.map(message), held: held)
            XCTAssertEqual(page?.messages.map(\.seq), c.seqs, "\(c)")
            if c.seqs != nil { XCTAssertEqual(page?.hasMore, c.hasMore, "\(c)") }
        }
    }

    /// A member removed through another instance gets no page, though the messages are held here — and the owner,
    /// reading the same held messages, still does. Added back, they are in again.
    func testHeldMessagesNeverReachARemovedMember() throws {
        let conninfo = try server.freshDatabase()
        let storeA = try PostgresStore(conninfo: conninfo, readers: 2), storeB = try PostgresStore(conninfo: conninfo, readers: 2)
        let a = ChatService(store: storeA, passwordCost: 1)
        let owner = try contract.register(a, "owner"), guest = try contract.register(a, "guest")
        _ = try value(contract.create(a, owner, "vault", "private"))
        _ = try value(contract.add(a, owner, "vault", "guest"))
        let posted = contract.postMany(a, owner, 10, room: "vault")
        let seen = try value(window(storeB, guest, "vault", .after(0), limit: 50))
        XCTAssertEqual(seen?.page?.messages, posted)
        XCTAssertEqual(storeB.messageCache.heldCount, 10)
        XCTAssertNoThrow(try value(contract.remove(a, owner, "vault", "guest")))
        for cursor: HistoryCursor in [.after(0), .newest, .before(5)] {
            let refused = try value(window(storeB, guest, "vault", cursor, limit: 50))
            XCTAssertNil(refused?.page, "\(cursor)")
            XCTAssertEqual(refused?.access?.admits, false)
        }
        XCTAssertEqual(try value(window(storeB, owner, "vault", .after(0), limit: 50))?.page?.messages, posted)
        _ = try value(contract.add(a, owner, "vault", "guest"))
        XCTAssertEqual(try value(window(storeB, guest, "vault", .newest, limit: 50))?.page?.messages, posted)
        // Read-your-writes across instances: a post acknowledged by A is in B's next newest page at once.
        let fresh = try value(contract.post(a, owner, "acknowledged on A", room: "vault")).message
        XCTAssertEqual(try value(window(storeB, guest, "vault", .newest, limit: 2))?.page?.messages.last, fresh)
    }

    /// Many pages asked at once on one reader go as a few statements (batches), each answer its own: other rooms,
    /// other users, a private room one of them is not in, a room that does not exist, every cursor kind.
    func testBatchedPagesEachGetTheirOwnAnswer() throws {
        let store = try PostgresStore(conninfo: server.freshDatabase(), readers: 1)
        let chat = ChatService(store: store, passwordCost: 1)
        let alice = try contract.register(chat, "alice"), bob = try contract.register(chat, "bob")
        _ = try value(contract.create(chat, alice, "secret", "private"))
        _ = try value(contract.create(chat, bob, "open"))
        _ = contract.postMany(chat, alice, 30)
        _ = contract.postMany(chat, alice, 12, room: "secret")
        _ = contract.postMany(chat, bob, 25, room: "open")
        struct Ask { let user: User; let room: String; let cursor: HistoryCursor; let limit: Int }
        var asks: [Ask] = []
        for user in [alice, bob] {
            for room in ["general", "secret", "open", "nowhere"] {
                for cursor: HistoryCursor in [.newest, .before(7), .after(3), .after(40), .before(Int64.max), .after(Int64.max)] {
                    for limit in [1, 5, 50] { asks.append(Ask(user: user, room: room, cursor: cursor, limit: limit)) }
                }
            }
        }
        for round in 0..<2 {
            let answers = (0..<asks.count).map { _ in Box<Result<TokenHistory?, ChatError>>() }
            let done = DispatchGroup()
            for (ask, answer) in zip(asks, answers) {
                done.enter()
                let bound: Int64
                switch ask.cursor {
                case .newest: bound = 0
                case .before(let b): bound = b
                case .after(let a): bound = a
                }
                store.windowHistory(user: ask.user, room: ask.room, cursor: ask.cursor, bound: bound, limit: ask.limit) {
                    answer.value = $0
                    done.leave()
                }
            }
            XCTAssertEqual(done.wait(timeout: .now() + 20), .success)
            for (ask, answer) in zip(asks, answers) {
                let label = "round \(round) \(ask.user.username) \(ask.room) \(ask.cursor) \(ask.limit)"
                let read = try value(try XCTUnwrap(answer.value, label))
                switch ask.room {
                case "nowhere": XCTAssertNil(read?.access, label)
                case "secret" where ask.user == bob:
                    XCTAssertEqual(read?.access?.admits, false, label)
                    XCTAssertNil(read?.page, label)
                default:
                    XCTAssertEqual(read?.page, try full(store, ask.room, ask.cursor, limit: ask.limit), label)
                }
            }
        }
        XCTAssertGreaterThan(store.pageBatch.largestBatch, 1, "pages waiting for the one reader went together")
    }

    /// PostgreSQL restarted: the reader reconnects (statements prepared again on the new connection) and the held
    /// messages still make the same pages; a restart between two requests costs the caller nothing.
    func testWindowPagesAcrossAPostgresRestart() throws {
        let own = try PostgresTestServer()
        defer { own.stop() }
        let store = try PostgresStore(conninfo: own.freshDatabase(), readers: 1)
        let chat = ChatService(store: store, passwordCost: 1)
        let user = try contract.register(chat, "phoenix")
        let posted = contract.postMany(chat, user, 20)
        XCTAssertEqual(try value(window(store, user, "general", .newest, limit: 20))?.page?.messages, posted)
        own.stop(mode: "immediate", remove: false)
        XCTAssertEqual(code(window(store, user, "general", .newest, limit: 20)), "unavailable")
        try own.start()
        var page: HistoryPage?
        let deadline = Date().addingTimeInterval(20)
        while page == nil, Date() < deadline {
            if case .success(let read) = window(store, user, "general", .after(5), limit: 10) { page = read?.page } else {
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        XCTAssertEqual(page?.messages, Array(posted[5..<15]))
        XCTAssertEqual(page?.hasMore, true)
        // Restarted while the reader sat idle on a live connection: the first page after finds it dead, and the
        // batch runs again on a new connection — the caller sees no failure.
        own.stop(mode: "immediate", remove: false)
        try own.start()
        XCTAssertEqual(try value(window(store, user, "general", .before(21), limit: 3))?.page?.messages, Array(posted[17..<20]))
    }
}
