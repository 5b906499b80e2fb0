// Reader caches survive commits that cannot affect them (posts, logins) and still drop what a commit did change.
@testable import Chat
import CSQLite
import Foundation
@testable import Store
import XCTest

final class SQLiteReaderGenerationTests: SharedFileTestCase {
    private func history(_ chat: ChatService, _ room: String, _ cursor: HistoryCursor = .newest) throws -> HistoryPage {
        try value(outcome { chat.history(room: room, cursor: cursor, limit: 3, completion: $0) })
    }

    /// A post and a login on B leave A's token cache warm; B's logout still fails the token on A at once.
    func testPostAndLoginElsewhereKeepTokenCacheLogoutDoesNot() throws {
        let (a, storeA) = try instance()
        let (b, _) = try instance()
        let (user, token) = try session(a, "kept")
        XCTAssertEqual(try value(authenticate(a, token)), user)
        XCTAssertEqual(try value(authenticate(a, token)), user)
        let warm = storeA.readTokenHits
        XCTAssertGreaterThanOrEqual(warm, 1)
        try post(b, user, "from b")
        _ = try session(b, "newcomer")                          // a token insert (and an expiry purge) on B
        XCTAssertEqual(try value(authenticate(a, token)), user)
        XCTAssertEqual(storeA.readTokenHits, warm + 1, "answered from the cache after B's commits")
        _ = try value(outcome { b.logout(token: token, completion: $0) })
        XCTAssertEqual(code(authenticate(a, token)), "unauthorized")
        XCTAssertEqual(storeA.readTokenHits, warm + 1, "the logout dropped the cache: no hit")
    }

    /// Changing a token row by hand (any connection, any code) drops the cached token too: triggers bump.
    func testRawTokenUpdateAndPurgeDropCachedToken() throws {
        let (a, _) = try instance()
        let (user, token) = try session(a, "edited")
        let (other, otherToken) = try session(a, "purged")
        XCTAssertEqual(try value(authenticate(a, token)), user)
        XCTAssertEqual(try value(authenticate(a, otherToken)), other)
        try rawSQL("UPDATE tokens SET expires_at = 0 WHERE user_id = (SELECT id FROM users WHERE username_key = 'edited')")
        XCTAssertEqual(code(authenticate(a, token)), "unauthorized")
        XCTAssertEqual(try value(authenticate(a, otherToken)), other)
        try rawSQL("DELETE FROM tokens WHERE expires_at > 0")   // what an expiry purge does, to a live token
        XCTAssertEqual(code(authenticate(a, otherToken)), "unauthorized")
    }

    /// Without the generations row (deleted by hand) nothing is kept across a change: still never stale.
    func testMissingGenerationRowKeepsNothing() throws {
        let (a, _) = try instance()
        let (user, token) = try session(a, "unkept")
        try rawSQL("DELETE FROM cache_generations")
        XCTAssertEqual(try value(authenticate(a, token)), user)
        XCTAssertEqual(try value(authenticate(a, token)), user)
        try rawSQL("UPDATE tokens SET expires_at = 0")
        XCTAssertEqual(code(authenticate(a, token)), "unauthorized")
    }

    /// A post on B to `general` drops A's pages of `general` (every cursor shows it) but not of `other`.
    func testPostElsewhereDropsOnlyThatRoomsPages() throws {
        let (a, storeA) = try instance()
        let (b, _) = try instance()
        let (user, _) = try session(a, "rooms")
        _ = try value(outcome { a.createRoom(name: "other", completion: $0) })
        for i in 1...4 {
            try post(a, user, "g\(i)")
            try post(a, user, "o\(i)", room: "other")
        }
        let cursors: [HistoryCursor] = [.newest, .before(4), .after(2)]
        var other: [HistoryPage] = []
        for cursor in cursors {
            XCTAssertEqual(try history(a, "general", cursor), try history(a, "general", cursor))
            other.append(try history(a, "other", cursor))
        }
        let warm = storeA.readPageHits
        let posted = try post(b, user, "from b")
        XCTAssertEqual(try cursors.map { try history(a, "other", $0) }, other)
        XCTAssertEqual(storeA.readPageHits, warm + cursors.count, "other's pages kept")
        XCTAssertEqual(try history(a, "general").messages.map(\.seq), [3, 4, 5])
        XCTAssertEqual(try history(a, "general", .after(2)).messages.last, posted)
        XCTAssertEqual(try history(a, "general", .before(4)).lastSeq, 5)
        XCTAssertEqual(storeA.readPageHits, warm + cursors.count, "general's pages were all read again")
    }

    /// Editing or deleting a message by hand (no last_seq move) drops the pages too: the history generation.
    func testRawMessageEditAndDeleteDropPages() throws {
        let (a, _) = try instance()
        let (user, _) = try session(a, "editor")
        try post(a, user, "original")
        try post(a, user, "doomed")
        XCTAssertEqual(try history(a, "general").messages.map(\.text), ["original", "doomed"])
        XCTAssertEqual(try history(a, "general").messages.map(\.text), ["original", "doomed"])
        try rawSQL("UPDATE messages SET text = 'edited' WHERE seq = 1")
        XCTAssertEqual(try history(a, "general").messages.map(\.text), ["edited", "doomed"])
        try rawSQL("DELETE FROM messages WHERE seq = 2")
        XCTAssertEqual(try history(a, "general").messages.map(\.text), ["edited"])
    }
}
