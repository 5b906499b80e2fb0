// SQLiteStore on disk: reopening, migrating a v1 file made by hand, two instances sharing one file.
@testable import Chat
import CSQLite
import Foundation
@testable import Store
import XCTest

final class SQLiteFileTests: XCTestCase {
    let dir = TempDir()
    lazy var contract = StoreContract { [dir] in try SQLiteStore(path: dir.file()) }

    override func tearDown() { dir.cleanUp() }

    func testReopenFindsEverything() throws {
        var chat: ChatService? = try contract.service()
        let user = try contract.register(chat!, "Keeper")
        let session = try value(contract.login(chat!, "keeper"))
        _ = try value(outcome { chat!.createRoom(name: "vault", completion: $0) })
        let kept = try value(contract.post(chat!, user, "remember me", room: "vault", clientID: "k1")).message
        _ = contract.postMany(chat!, user, 20)
        chat = nil                                         // closes the store

        let reopened = try contract.service()
        XCTAssertEqual(try value(outcome { reopened.authenticate(token: session.token, completion: $0) }), user)
        let rooms = try value(outcome { reopened.rooms(completion: $0) })
        XCTAssertEqual(rooms.map(\.name), ["general", "vault"])
        XCTAssertEqual(rooms.map(\.lastSeq), [20, 1])
        XCTAssertEqual(try value(contract.history(reopened, .newest, limit: 5, room: "vault")).messages, [kept])
        XCTAssertEqual(try value(contract.history(reopened, .after(0), limit: 200)).messages.map(\.seq), Array(1...20))
        let replay = try value(contract.post(reopened, user, "remember me", room: "vault", clientID: "k1"))
        XCTAssertFalse(replay.isCreated)
        XCTAssertEqual(replay.message, kept)
        XCTAssertEqual(try value(contract.post(reopened, user, "next", room: "vault")).message.seq, 2)
        XCTAssertNoThrow(try value(contract.login(reopened, "KEEPER")))
    }

    /// A file at schema v1 (written here by hand, as the first release did) opens with today's code, data intact.
    func testMigratesVersion1File() throws {
        let hash = try XCTUnwrap(PasswordHasher(cost: 1).hashNow("old password"))
        try rawSQL(dir.file(), """
            CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL, username_key TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
            CREATE TABLE tokens (hash BLOB PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
                expires_at INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE rooms (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL,
                last_seq INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE messages (room_id INTEGER NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, user TEXT NOT NULL,
                text TEXT NOT NULL, created_at INTEGER NOT NULL, client_id TEXT, PRIMARY KEY (room_id, seq)) WITHOUT ROWID;
            INSERT INTO rooms (name, created_at, last_seq) VALUES ('general', 1700000000000, 2), ('old', 1700000000001, 0);
            INSERT INTO users (username, username_key, password_hash, created_at)
                VALUES ('Veteran', 'veteran', '\(hash)', 1700000000002);
            INSERT INTO messages VALUES (1, 1, 'm1', 'Veteran', 'first', 1700000000003, NULL),
                                        (1, 2, 'm2', 'Veteran', 'second', 1700000000004, 'c2');
            PRAGMA user_version = 1;
            """)
        let chat = try contract.service()
        XCTAssertEqual(try rawVersion(dir.file()), SQLiteSchema.currentVersion)
        let rooms = try value(outcome { chat.rooms(completion: $0) })
        XCTAssertEqual(rooms, [Room(name: "general", createdAt: Timestamp(milliseconds: 1_700_000_000_000), lastSeq: 2),
                               Room(name: "old", createdAt: Timestamp(milliseconds: 1_700_000_000_001), lastSeq: 0)])
        let page = try value(contract.history(chat, .newest, limit: 10))
        XCTAssertEqual(page.messages.map(\.text), ["first", "second"])
        XCTAssertEqual(page.messages.map(\.clientID), [nil, "c2"])
        let session = try value(contract.login(chat, "veteran", "old password"))
        XCTAssertEqual(session.user, User(username: "Veteran", createdAt: Timestamp(milliseconds: 1_700_000_000_002)))
        // Later versions' tables work on the migrated file: throttling records and the idempotency lookup.
        XCTAssertEqual(code(contract.login(chat, "veteran", "wrong password")), "invalid_credentials")
        let third = try value(contract.post(chat, session.user, "third", clientID: "c3")).message
        XCTAssertEqual(third.seq, 3)
        XCTAssertEqual(try value(contract.post(chat, session.user, "third", clientID: "c3")).message, third)
    }

    /// A v3 file (the release before the cache generations) upgrades in place: data kept, and a logout through
    /// one instance still fails the token on another whose cache is warm, while a post does not drop it.
    func testMigratesVersion3FileWithCacheGenerations() throws {
        let hash = try XCTUnwrap(PasswordHasher(cost: 1).hashNow("old password"))
        try rawSQL(dir.file(), SQLiteSchema.migrations[0..<3].joined(separator: "\n") + """
            INSERT INTO users (username, username_key, password_hash, created_at)
                VALUES ('Elder', 'elder', '\(hash)', 1700000000002);
            INSERT INTO messages VALUES (1, 1, 'm1', 'Elder', 'kept', 1700000000003, NULL);
            UPDATE rooms SET last_seq = 1 WHERE name = 'general';
            PRAGMA user_version = 3;
            """)
        let a = try SQLiteStore(path: dir.file())
        let chatA = ChatService(store: a, passwordCost: 1)
        let chatB = try contract.service()
        XCTAssertEqual(try rawVersion(dir.file()), SQLiteSchema.currentVersion)
        XCTAssertEqual(try value(contract.history(chatA, .newest, limit: 10)).messages.map(\.text), ["kept"])
        let session = try value(contract.login(chatA, "elder", "old password"))
        for _ in 0..<2 {
            XCTAssertEqual(try value(outcome { chatA.authenticate(token: session.token, completion: $0) }), session.user)
        }
        let warm = a.readTokenHits
        XCTAssertEqual(try value(contract.post(chatB, session.user, "new")).message.seq, 2)
        XCTAssertEqual(try value(outcome { chatA.authenticate(token: session.token, completion: $0) }), session.user)
        XCTAssertEqual(a.readTokenHits, warm + 1)
        _ = try value(outcome { chatB.logout(token: session.token, completion: $0) })
        XCTAssertEqual(code(outcome { chatA.authenticate(token: session.token, completion: $0) }), "unauthorized")
    }

    /// A v4 file (before rooms v2) upgrades in place: its rooms are public and have no owner, its users are
    /// members of `general`, and membership then works (and is kept fresh) on the migrated file.
    func testMigratesVersion4FileToRoomsV2() throws {
        try rawSQL(dir.file(), SQLiteSchema.migrations[0..<4].joined(separator: "\n") + """
            INSERT INTO users (username, username_key, password_hash, created_at) VALUES ('Old_Timer', 'old_timer', 'x', 1);
            INSERT INTO users (username, username_key, password_hash, created_at) VALUES ('bob', 'bob', 'x', 2);
            INSERT INTO rooms (name, created_at, last_seq) VALUES ('legacy', 3, 1);
            INSERT INTO messages VALUES (2, 1, 'm1', 'bob', 'from v4', 4, NULL);
            PRAGMA user_version = 4;
            """)
        let chat = ChatService(store: try SQLiteStore(path: dir.file()), passwordCost: 1)
        XCTAssertEqual(try rawVersion(dir.file()), SQLiteSchema.currentVersion)
        let old = User(username: "Old_Timer", createdAt: Timestamp(milliseconds: 1))
        let list = try value(outcome { chat.rooms(user: old, after: nil, limit: 1000, completion: $0) })
        XCTAssertEqual(list.rooms.map(\.name), ["general", "legacy"])
        XCTAssertEqual(list.rooms.map(\.room.visibility), [.public, .public])
        XCTAssertEqual(list.rooms.map(\.room.owner), [nil, nil])
        XCTAssertEqual(list.rooms.map(\.joined), [true, false], "v4 users are members of general, not of other rooms")
        let general = try value(outcome { chat.room(user: old, name: "general", completion: $0) })
        XCTAssertEqual(general.members, ["bob", "Old_Timer"], "sorted by lowercase form, shown as registered")
        let page = try value(outcome { chat.history(room: "legacy", cursor: .newest, limit: 10, completion: $0) })
        XCTAssertEqual(page.messages.map(\.text), ["from v4"])
        let made = try value(outcome { chat.createRoom(user: old, name: "new-private", visibility: "private", completion: $0) })
        XCTAssertEqual(made.room.owner, "Old_Timer")
    }

    func testRefusesNewerSchema() throws {
        try rawSQL(dir.file(), "PRAGMA user_version = 99;")
        XCTAssertThrowsError(try SQLiteStore(path: dir.file()))
    }

    /// Two server instances on one file: a post through one wakes a waiter parked on the other, and a logout
    /// through one is seen by the other at once.
    func testSecondInstanceSeesWritesAndLogout() throws {
        let a = try contract.service()
        let b = try contract.service()
        let user = try contract.register(a, "twin")
        let session = try value(contract.login(a, "twin"))
        let woken = Box<HistoryPage>()
        let done = DispatchSemaphore(value: 0)
        let ticket = a.waitForMessages(room: "general", after: 0, limit: 10) { result in
            woken.value = try? result.get()
            done.signal()
        }
        XCTAssertNotNil(ticket)
        let message = try value(contract.post(b, user, "from b")).message
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success, "the watcher noticed the other instance's commit")
        XCTAssertEqual(woken.value?.messages, [message])
        XCTAssertEqual(woken.value?.lastSeq, 1)
        _ = try value(outcome { b.logout(token: session.token, completion: $0) })
        XCTAssertEqual(code(outcome { a.authenticate(token: session.token, completion: $0) }), "unauthorized")
    }

    private func rawSQL(_ path: String, _ sql: String) throws {
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(path, &db), SQLITE_OK)
        defer { sqlite3_close(db) }
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &error)
        XCTAssertEqual(rc, SQLITE_OK, error.map { String(cString: $0) } ?? "")
        sqlite3_free(error)
    }

    private func rawVersion(_ path: String) throws -> Int {
        var db: OpaquePointer?
        var stmt: OpaquePointer?
        sqlite3_open(path, &db)
        defer { sqlite3_finalize(stmt); sqlite3_close(db) }
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nil)
        XCTAssertEqual(sqlite3_step(stmt), SQLITE_ROW)
        return Int(sqlite3_column_int64(stmt, 0))
    }
}
