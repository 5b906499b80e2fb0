// Access answers for PUBLIC rooms kept for at most 90 ms, dropped by any membership change (NOTIFY) on any instance.
import Chat
import Synchronization

/// Why only public rooms: a public room admits every signed-in user, and rooms are never deleted nor change
/// visibility through the API, so what such an entry decides (the room exists and admits the caller) cannot go
/// stale; only its `isMember` can, which decides nothing but `not_member` on `PUT …/members`. Private and direct
/// rooms — where a stale answer would leak a room to a removed member — are read from the database every time,
/// so a removal through any instance counts on every instance from its next request.
///
/// How stale a kept `isMember` can be: at most `lifetime` after the read that produced it started, usually far
/// less — every membership or room change sends `pg_notify('konnect_members', '')` from a statement trigger in
/// its transaction, every listener drops the whole cache when it arrives, this instance before answering the
/// write, and everything goes when the listener reconnects (notifications may have been lost). A read that began
/// before an eviction is not remembered (`generation`), so an eviction racing a read cannot be undone.
final class PostgresAccessCache: Sendable {
    static let lifetimeNs: UInt64 = 90_000_000
    static let maxEntries = 65_536

    struct Key: Hashable {
        let room: String
        let userKey: String
    }

    private struct Entry {
        let access: RoomAccess
        let usableUntil: UInt64
    }

    private struct State: ~Copyable {
        var entries: [Key: Entry] = [:]
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())

    func access(_ key: Key) -> RoomAccess? {
        let clock = PostgresTokenCache.monotonicNs()
        return state.withLock { s -> RoomAccess? in
            guard let entry = s.entries[key] else { return nil }
            guard entry.usableUntil > clock else {
                s.entries[key] = nil
                return nil
            }
            return entry.access
        }
    }

    /// Take before a read; pass to `remember`.
    func ticket() -> (generation: UInt64, started: UInt64) {
        let started = PostgresTokenCache.monotonicNs()
        return (state.withLock { $0.generation }, started)
    }

    /// Keeps `access` only when it is a public room's and no eviction happened since `ticket`.
    func remember(_ access: RoomAccess?, for key: Key, ticket: (generation: UInt64, started: UInt64)) {
        guard let access, access.visibility == .public else { return }
        state.withLock { s in
            guard s.generation == ticket.generation else { return }
            if s.entries.count >= Self.maxEntries { s.entries.removeAll() }
            s.entries[key] = Entry(access: access, usableUntil: ticket.started + Self.lifetimeNs)
        }
    }

    func evictAll() {
        state.withLock { s in
            s.generation &+= 1
            s.entries.removeAll()
        }
    }
}
