// The hot statements must use an index: a full scan grows with the table (posts/s fell 15× before this test).
import CSQLite
import Foundation
@testable import Store
import XCTest

final class SQLiteQueryPlanTests: XCTestCase {
    func testHotQueriesUseIndexes() throws {
        let dir = TempDir()
        defer { dir.cleanUp() }
        _ = try SQLiteStore(path: dir.file())              // creates the current schema
        let db = try SQLiteConnection(path: dir.file())
        let cases: [(String, String, String)] = [
            ("messageByClientID", SQL.messageByClientID, "USING INDEX messages_client_id"),
            ("userByToken", SQL.userByToken, "USING PRIMARY KEY"),
            ("userByKey", SQL.userByKey, "USING INDEX"),
            ("loginFailures", SQL.loginFailures, "USING COVERING INDEX login_failures_pair"),
            ("roomByName", SQL.roomByName, "USING INDEX"),
            ("messageCreatedAt", SQL.messageCreatedAt, "USING PRIMARY KEY (room_id=? AND seq=?)"),
            ("messagesNewest", SQL.messagesNewest, "USING PRIMARY KEY (room_id=?)"),
            ("messagesBefore", SQL.messagesBefore, "USING PRIMARY KEY (room_id=? AND seq<?)"),
            ("messagesAfter", SQL.messagesAfter, "USING PRIMARY KEY (room_id=? AND seq>?)"),
            ("deleteExpiredTokens", SQL.deleteExpiredTokens, "tokens_expires_at"),
            ("forgetLoginFailures", SQL.forgetLoginFailures, "login_failures_at"),
            ("roomAccess", SQL.roomAccess, "USING PRIMARY KEY (room_id=? AND user_id=?)"),
            ("roomMembers", SQL.roomMembers, "USING PRIMARY KEY (room_id=?)"),
            ("userID", SQL.userID, "USING COVERING INDEX"),
            ("joinGeneral", SQL.joinGeneral, "sqlite_autoindex_users_1 (username_key=?)"),
        ]
        for (name, sql, expected) in cases {
            let plan = try db.query("EXPLAIN QUERY PLAN " + sql, []) { $0.text(3) }.joined(separator: " | ")
            XCTAssertTrue(plan.contains(expected), "\(name): \(plan)")
            XCTAssertFalse(plan.contains("SCAN"), "\(name): \(plan)")
        }
    }
}
