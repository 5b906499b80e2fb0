// WALIndexHeader: the -shm header it reads changes with every commit, by any connection, and only then.
import CSQLite
import Foundation
@testable import Store
import XCTest

/// The WAL-index header view on its own: it changes with every commit, by any connection.
final class WALIndexHeaderTests: XCTestCase {
    let dir = TempDir()
    override func tearDown() { dir.cleanUp() }

    /// (A transaction that dirties no page writes no WAL frame and changes nothing to see: no header change needed.)
    func testHeaderChangesWithEachCommitOnly() throws {
        let store = try SQLiteStore(path: dir.file())
        let header = try XCTUnwrap(WALIndexHeader(databasePath: dir.file()), "the store runs in WAL mode")
        _ = store
        let before = try XCTUnwrap(header.read())
        XCTAssertEqual(header.read(), before, "no commit, same header")
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(dir.file(), &db), SQLITE_OK)
        defer { sqlite3_close(db) }
        XCTAssertEqual(sqlite3_exec(db, "SELECT count(*) FROM rooms", nil, nil, nil), SQLITE_OK)
        XCTAssertEqual(header.read(), before, "a read is not a commit")
        XCTAssertEqual(sqlite3_exec(db, "INSERT INTO rooms (name, created_at) VALUES ('x', 1)", nil, nil, nil), SQLITE_OK)
        let after = try XCTUnwrap(header.read())
        XCTAssertNotEqual(after, before)
        XCTAssertEqual(sqlite3_exec(db, "UPDATE rooms SET last_seq = 7 WHERE name = 'x'", nil, nil, nil), SQLITE_OK)
        XCTAssertNotEqual(header.read(), after, "every commit")
    }

    func testNoShmFileNoHeader() {
        XCTAssertNil(WALIndexHeader(databasePath: dir.file("absent.db")))
    }
}
