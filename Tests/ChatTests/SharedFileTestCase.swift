// Base for tests of several store instances on one SQLite file: instances, sessions, posts and raw SQL beside them.
@testable import Chat
import CSQLite
@testable import Store
import XCTest

/// Each test gets its own temporary database file; `instance()` opens one more store and service on it.
class SharedFileTestCase: XCTestCase {
    let dir = TempDir()
    let clock = TestClock()

    override func tearDown() { dir.cleanUp() }

    func instance() throws -> (ChatService, SQLiteStore) {
        let store = try SQLiteStore(path: dir.file())
        return (ChatService(store: store, clock: { [clock] in clock.now() }, passwordCost: 1), store)
    }

    func authenticate(_ chat: ChatService, _ token: String) -> Result<User, ChatError> {
        outcome { chat.authenticate(token: token, completion: $0) }
    }

    @discardableResult
    func post(_ chat: ChatService, _ user: User, _ text: String, room: String = "general") throws -> Message {
        let result: Result<PostOutcome, ChatError> = outcome {
            chat.post(user: user, room: room, text: text, clientID: nil, completion: $0)
        }
        guard case .created(let message) = try value(result) else { throw ChatError.unauthorized }
        return message
    }

    /// Registers `name` and logs in: the user and the raw token.
    func session(_ chat: ChatService, _ name: String) throws -> (User, String) {
        _ = try value(outcome { chat.register(username: name, password: "correct horse", completion: $0) })
        let session = try value(outcome {
            chat.login(username: name, password: "correct horse", clientAddress: "127.0.0.1", completion: $0)
        })
        return (session.user, session.token)
    }

    /// Runs SQL on a connection of its own, as another process would.
    func rawSQL(_ sql: String) throws {
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(dir.file(), &db), SQLITE_OK)
        defer { sqlite3_close(db) }
        sqlite3_busy_timeout(db, 5000)
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &error)
        XCTAssertEqual(rc, SQLITE_OK, error.map { String(cString: $0) } ?? "")
        sqlite3_free(error)
    }
}
