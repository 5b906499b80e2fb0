// The 100 ms bound of issue 11 ("logout effective on every instance … within 100 ms if you cache tokens"), shown
// on the caches themselves: an entry is served at most 90 ms after the read that produced it started, whether or
// not a NOTIFY evicts it. Only the load-proof direction is asserted (after ≥ 100 ms: never served); the served-
// while-fresh direction is checked only when the machine was quick enough to ask within the lifetime.
@testable import Chat
@testable import Store
import XCTest

final class PostgresCacheLifetimeTests: XCTestCase {
    func testTokenEntryIsNotServedPastItsLifetime() {
        let cache = PostgresTokenCache()
        let hash = [UInt8](repeating: 7, count: 32)
        let ticket = cache.ticket()
        cache.remember(hash, user: User(username: "bob", createdAt: Timestamp(milliseconds: 1)), expiresAt: .max, ticket: ticket)
        let served = cache.user(hash, now: Timestamp(milliseconds: 2))
        if PostgresTokenCache.monotonicNs() - ticket.started < PostgresTokenCache.lifetimeNs {
            XCTAssertEqual(served?.username, "bob", "fresh: served from memory")
        }
        usleep(100_000)
        XCTAssertNil(cache.user(hash, now: Timestamp(milliseconds: 2)), "100 ms after its read started: read again")
        XCTAssertLessThanOrEqual(PostgresTokenCache.lifetimeNs, 90_000_000)
    }

    func testTokenEntryFromAReadOlderThanAnEvictionIsNotKept() {
        let cache = PostgresTokenCache()
        let hash = [UInt8](repeating: 9, count: 32)
        let ticket = cache.ticket()
        cache.evict(hash)                                // a logout's NOTIFY arrives while the read is in flight
        cache.remember(hash, user: User(username: "bob", createdAt: Timestamp(milliseconds: 1)), expiresAt: .max, ticket: ticket)
        XCTAssertNil(cache.user(hash, now: Timestamp(milliseconds: 2)))
    }

    func testPublicAccessEntryIsNotServedPastItsLifetime() {
        let cache = PostgresAccessCache()
        let key = PostgresAccessCache.Key(room: "club", userKey: "guest")
        let ticket = cache.ticket()
        cache.remember(RoomAccess(room: "club", visibility: .public, owner: "owner", isMember: true), for: key, ticket: ticket)
        let served = cache.access(key)
        if PostgresTokenCache.monotonicNs() - ticket.started < PostgresAccessCache.lifetimeNs {
            XCTAssertEqual(served?.isMember, true, "fresh: served from memory")
        }
        usleep(100_000)
        XCTAssertNil(cache.access(key), "100 ms after its read started: read again")
        XCTAssertLessThanOrEqual(PostgresAccessCache.lifetimeNs, 90_000_000)
    }

    /// File chunks never change, so they are kept without a lifetime, bounded by bytes: the oldest go first.
    func testChunkCacheKeepsTheNewestWithinItsBound() {
        let cache = PostgresChunkCache()
        let size = 4 << 20                                   // 8 of these fill the 32 MiB bound
        for i in 0..<10 {
            cache.remember([UInt8](repeating: UInt8(i), count: size), for: .init(file: "f", index: i))
        }
        XCTAssertLessThanOrEqual(cache.heldBytes, PostgresChunkCache.maxBytes)
        XCTAssertNil(cache.chunk(.init(file: "f", index: 0)), "the oldest went first")
        XCTAssertNil(cache.chunk(.init(file: "f", index: 1)))
        XCTAssertEqual(cache.chunk(.init(file: "f", index: 9))?.first, 9)
        XCTAssertEqual(cache.chunk(.init(file: "f", index: 2))?.count, size)
        cache.remember([1, 2, 3], for: .init(file: "f", index: 9))   // already held: kept as it was
        XCTAssertEqual(cache.chunk(.init(file: "f", index: 9))?.count, size)
    }
}
