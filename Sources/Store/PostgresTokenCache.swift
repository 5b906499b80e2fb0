// Token lookups kept for at most 90 ms, and dropped at once by a logout here or (by NOTIFY) on another instance.
import Chat
import Glibc
import Synchronization

/// Why a cache at all: every authenticated request asks who its token belongs to, and a fan-out makes thousands
/// of clients re-poll within milliseconds of a post — each a round trip to PostgreSQL without it.
///
/// How stale an answer can be (issue 11: "within 100 ms if you cache tokens and invalidate by notification"):
/// an entry is used for at most `lifetime` after the read that produced it STARTED, so a logout committed on
/// another instance stops working here within 90 ms even if its NOTIFY never arrives (a lost listener). Usually
/// sooner: `deleteToken` sends `pg_notify('konnect_tokens', <hash>)` in its transaction, and every listener evicts
/// that token when it arrives; the instance that logged out evicts it before answering. `generation` moves on every
/// eviction, and a read that began before one is not remembered, so an eviction racing a read cannot be undone.
/// Only found tokens are kept (guessing must not fill memory); expiry is checked on every use.
final class PostgresTokenCache: Sendable {
    static let lifetimeNs: UInt64 = 90_000_000
    static let maxEntries = 65_536

    struct Entry {
        let user: User
        let expiresAt: Int64
        let usableUntil: UInt64                 // monotonic ns
    }

    private struct State: ~Copyable {
        var entries: [[UInt8]: Entry] = [:]
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())

    static func monotonicNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// The token's user when a usable entry is cached (and the token has not expired at `now`), else nil: read.
    func user(_ hash: [UInt8], now: Timestamp) -> User? {
        let clock = Self.monotonicNs()
        return state.withLock { s -> User? in
            guard let entry = s.entries[hash] else { return nil }
            guard entry.usableUntil > clock else {
                s.entries[hash] = nil
                return nil
            }
            return entry.expiresAt > now.milliseconds ? entry.user : nil
        }
    }

    /// Take before a read; pass to `remember` with the read's start time.
    func ticket() -> (generation: UInt64, started: UInt64) {
        let started = Self.monotonicNs()
        return (state.withLock { $0.generation }, started)
    }

    func remember(_ hash: [UInt8], user: User, expiresAt: Int64, ticket: (generation: UInt64, started: UInt64)) {
        state.withLock { s in
            guard s.generation == ticket.generation else { return }
            if s.entries.count >= Self.maxEntries { s.entries.removeAll() }
            s.entries[hash] = Entry(user: user, expiresAt: expiresAt, usableUntil: ticket.started + Self.lifetimeNs)
        }
    }

    func evict(_ hash: [UInt8]) {
        state.withLock { s in
            s.generation &+= 1
            s.entries[hash] = nil
        }
    }

    /// After the listener lost its connection (notifications may have been missed).
    func evictAll() {
        state.withLock { s in
            s.generation &+= 1
            s.entries.removeAll()
        }
    }
}
