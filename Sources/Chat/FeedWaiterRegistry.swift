// The followers of the feed waiting for something new, behind one Mutex; each commit wakes only those it concerns.
import Synchronization

/// Feed followers (../shared/API.md "The feed", `wait` and the streams). Followers wait on "the feed's newest
/// position advanced"; one commit goes once over every follower (under the lock, no I/O), and each decides in
/// memory whether the commit's events concern it: a message in one of its rooms, or its own joined/left. Those
/// are handed back to re-read their page from the store; the rest stay parked without any store read.
///
/// A follower whose rooms are not known (registered, its first read not back yet) or an advance whose events are
/// not known (another process wrote) is always handed back: a spare read, never a lost event. Every advance
/// passes under the same lock as `register` and `arm`, so a follower either is armed with a read that saw the
/// advance, or is handed back by it.
final class FeedWaiterRegistry: Sendable {
    struct Follower: Sendable {
        let ticket: WaitTicket
        let user: String                                // username key
        var rooms: Set<String>?                         // nil: unknown, any advance hands it back
        var seen: Int64                                 // the `next` of its last read (the deadline answer's `next`)
        let onWake: @Sendable () -> Void                // re-read (called outside the lock)
    }

    private struct State: ~Copyable {
        var nextID: UInt64 = 1
        var followers: [UInt64: Follower] = [:]
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.followers.count } }

    /// Registers a follower of `user` (a username key) whose last known position is `seen`.
    func register(user: String, seen: Int64, onWake: @escaping @Sendable () -> Void) -> WaitTicket {
        state.withLock { s in
            let ticket = WaitTicket(id: s.nextID)
            s.nextID += 1
            s.followers[ticket.id] = Follower(ticket: ticket, user: user, rooms: nil, seen: seen, onWake: onWake)
            return ticket
        }
    }

    /// A read found nothing new up to `next`: from now on only events after `next` that concern `rooms` (or the
    /// user's own membership) wake it. False when it is gone (answered or cancelled).
    @discardableResult
    func arm(_ ticket: WaitTicket, rooms: [String], next: Int64) -> Bool {
        state.withLock { s in
            guard s.followers[ticket.id] != nil else { return false }
            if next >= s.followers[ticket.id]!.seen || s.followers[ticket.id]!.rooms == nil {
                s.followers[ticket.id]!.rooms = Set(rooms)
                s.followers[ticket.id]!.seen = next
            }
            return true
        }
    }

    /// The last `next` known for the follower (nil when gone).
    func seen(_ ticket: WaitTicket) -> Int64? { state.withLock { $0.followers[ticket.id]?.seen } }

    /// Removes the follower; nil when it already answered or was cancelled (so it answers at most once).
    func remove(_ ticket: WaitTicket) -> Follower? {
        state.withLock { $0.followers.removeValue(forKey: ticket.id) }
    }

    /// The feed advanced to `newest` (with its events when this process wrote them): the followers to re-read.
    /// They stay registered, with their rooms forgotten until their read arms them again.
    func advance(newest: Int64, events: [FeedEvent]?) -> [Follower] {
        state.withLock { s in
            var woken: [Follower] = []
            for (id, follower) in s.followers where follower.seen < newest && Self.concerns(follower, events) {
                woken.append(follower)
                s.followers[id]!.rooms = nil
            }
            return woken
        }
    }

    private static func concerns(_ follower: Follower, _ events: [FeedEvent]?) -> Bool {
        guard let rooms = follower.rooms, let events else { return true }
        for event in events where event.pos > follower.seen {
            if let user = event.user {
                if Validation.usernameKey(user) == follower.user { return true }
            } else if rooms.contains(event.room) {
                return true
            }
        }
        return false
    }

    /// Every follower, removed (shutdown).
    func takeAll() -> [Follower] {
        state.withLock { s in
            defer { s.followers = [:] }
            return Array(s.followers.values)
        }
    }
}
