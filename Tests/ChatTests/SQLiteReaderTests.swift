// The readers' cache (tokens, history pages) is never staler than the file: two stores on one file, a raw writer.
@testable import Chat
import CSQLite
import Dispatch
import Foundation
@testable import Store
import Synchronization
import XCTest

final class SQLiteReaderTests: SharedFileTestCase {
    private func history(_ chat: ChatService, _ cursor: HistoryCursor, limit: Int = 50) -> Result<HistoryPage, ChatError> {
        outcome { chat.history(room: "general", cursor: cursor, limit: limit, completion: $0) }
    }

    /// The contract: "that token fails with 401 from then on, on every server instance" — with A's cache warm.
    func testLogoutOnOtherInstanceFailsCachedTokenAtOnce() throws {
        let (a, storeA) = try instance()
        let (b, _) = try instance()
        let (user, token) = try session(a, "twin")
        for _ in 0..<3 { XCTAssertEqual(try value(authenticate(a, token)), user) }
        XCTAssertGreaterThanOrEqual(storeA.readCacheHits, 2, "repeated authentication is answered from the cache")
        XCTAssertGreaterThanOrEqual(storeA.readQuickChecks, 1, "an unchanged WAL-index header settles the check")
        _ = try value(outcome { b.logout(token: token, completion: $0) })
        XCTAssertEqual(code(authenticate(a, token)), "unauthorized")
        XCTAssertEqual(code(authenticate(b, token)), "unauthorized")
    }

    func testLogoutOnSameInstanceFailsCachedTokenAtOnce() throws {
        let (a, _) = try instance()
        let (user, token) = try session(a, "solo")
        XCTAssertEqual(try value(authenticate(a, token)), user)
        XCTAssertEqual(try value(authenticate(a, token)), user)
        _ = try value(outcome { a.logout(token: token, completion: $0) })
        XCTAssertEqual(code(authenticate(a, token)), "unauthorized")
    }

    /// A cached token still expires on time: no commit is needed for the clock to end it.
    func testCachedTokenExpires() throws {
        let (a, _) = try instance()
        let (user, token) = try session(a, "brief")
        XCTAssertEqual(try value(authenticate(a, token)), user)
        clock.advance(seconds: ChatService.defaultTokenLifetime - 1)
        XCTAssertEqual(try value(authenticate(a, token)), user)
        clock.advance(seconds: 1)
        XCTAssertEqual(code(authenticate(a, token)), "unauthorized")
    }

    /// Every cursor's cached page on A shows B's post as soon as B's post completed.
    func testPostOnOtherInstanceIsInCachedPagesAtOnce() throws {
        let (a, storeA) = try instance()
        let (b, _) = try instance()
        let (user, _) = try session(a, "poster")
        for i in 1...5 { _ = try post(a, user, "a\(i)") }
        let cursors: [HistoryCursor] = [.newest, .before(6), .after(3), .after(5)]
        for cursor in cursors {
            XCTAssertEqual(try value(history(a, cursor, limit: 3)), try value(history(a, cursor, limit: 3)))
        }
        XCTAssertGreaterThanOrEqual(storeA.readCacheHits, cursors.count, "repeated pages are answered from the cache")
        let posted = try post(b, user, "from b")
        XCTAssertEqual(posted.seq, 6)
        let newest = try value(history(a, .newest, limit: 3))
        XCTAssertEqual(newest.messages.map(\.seq), [4, 5, 6])
        XCTAssertEqual(newest.lastSeq, 6)
        XCTAssertEqual(try value(history(a, .before(6), limit: 3)).lastSeq, 6)
        XCTAssertEqual(try value(history(a, .after(3), limit: 3)).messages.map(\.seq), [4, 5, 6])
        XCTAssertEqual(try value(history(a, .after(5), limit: 3)).messages, [posted])
    }

    func testPostOnSameInstanceIsInCachedPageAtOnce() throws {
        let (a, _) = try instance()
        let (user, _) = try session(a, "local")
        _ = try post(a, user, "one")
        XCTAssertEqual(try value(history(a, .newest)).messages.map(\.text), ["one"])
        XCTAssertEqual(try value(history(a, .newest)).messages.map(\.text), ["one"])
        _ = try post(a, user, "two")
        XCTAssertEqual(try value(history(a, .newest)).messages.map(\.text), ["one", "two"])
    }

    /// The one-visit authenticated read: the same answers as authenticate-then-history, as fresh across instances.
    func testAuthenticatedHistoryInOneVisit() throws {
        let (a, _) = try instance()
        let (b, _) = try instance()
        let (user, token) = try session(a, "reader")
        let first = try post(a, user, "hello")
        func read(_ token: String?, room: String = "general") -> Result<HistoryPage, ChatError> {
            outcome { a.history(token: token, room: room, cursor: .newest, limit: 10, completion: $0) }
        }
        XCTAssertEqual(try value(read(token)).messages, [first])
        XCTAssertEqual(try value(read(token)), try value(history(a, .newest, limit: 10)))
        XCTAssertEqual(code(read(token, room: "nowhere")), "room_not_found")
        XCTAssertEqual(code(read(token, room: "not a name!")), "room_not_found")
        XCTAssertEqual(code(read("wrong")), "unauthorized")
        XCTAssertEqual(code(read(nil)), "unauthorized")
        XCTAssertEqual(code(read("wrong", room: "not a name!")), "unauthorized", "401 before 404")
        let second = try post(b, user, "from b")
        XCTAssertEqual(try value(read(token)).messages, [first, second])
        _ = try value(outcome { b.logout(token: token, completion: $0) })
        XCTAssertEqual(code(read(token)), "unauthorized")
    }

    /// Another process writing the file directly (not through a SQLiteStore): the cache notices too.
    func testRawCommitByAnotherConnectionDropsCache() throws {
        let (a, _) = try instance()
        let (user, token) = try session(a, "raw")
        _ = try post(a, user, "kept")
        XCTAssertEqual(try value(authenticate(a, token)), user)
        XCTAssertEqual(try value(history(a, .newest)).messages.count, 1)
        try rawSQL("""
            INSERT INTO messages (room_id, seq, id, user, text, created_at) VALUES (1, 2, 'raw2', 'raw', 'sneaked in', 1);
            UPDATE rooms SET last_seq = 2 WHERE id = 1;
            """)
        XCTAssertEqual(try value(history(a, .newest)).messages.map(\.text), ["kept", "sneaked in"])
        try rawSQL("DELETE FROM tokens;")
        XCTAssertEqual(code(authenticate(a, token)), "unauthorized")
    }

    /// Readers on several threads keep their caches warm while B posts; a read started after each post completed
    /// must include it, whichever pooled connection (and cache) answers.
    func testConcurrentReadersNeverServeStalePages() throws {
        let (a, _) = try instance()
        let (b, _) = try instance()
        let (user, _) = try session(b, "racer")
        let stop = Atomic<Bool>(false)
        let readers = DispatchGroup()
        for _ in 0..<4 {
            DispatchQueue.global().async(group: readers) {
                while !stop.load(ordering: .relaxed) {
                    a.history(room: "general", cursor: .newest, limit: 5) { _ in }
                }
            }
        }
        for i in 1...30 {
            let posted = try post(b, user, "m\(i)")
            let page = try value(history(a, .newest, limit: 5))
            XCTAssertEqual(page.lastSeq, posted.seq)
            XCTAssertEqual(page.messages.last, posted)
        }
        stop.store(true, ordering: .relaxed)
        readers.wait()
    }
}
