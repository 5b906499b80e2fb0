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
        let limit: Int
        var rooms: Set<String>?                         // nil: unknown, any advance hands it back
        var seen: Int64                                 // nothing for it up to here (its last read's `next`, or later)
        let onWake: @Sendable () -> Void                // re-read (called outside the lock)
        let onReady: @Sendable (FeedPage) -> Void       // answered from memory (called outside the lock)
    }

    /// What an advance decided for a follower it concerns.
    enum Wake {
        case read(Follower)                             // still registered: re-read the store
        case answer(Follower, FeedPage)                 // removed: its page, cut from the commit's own events
    }

    private struct State: ~Copyable {
        var nextID: UInt64 = 1
        var followers: [UInt64: Follower] = [:]
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.followers.count } }

    /// Registers a follower of `user` (a username key) whose last known position is `seen`.
    func register(user: String, seen: Int64, limit: Int, onWake: @escaping @Sendable () -> Void,
                  onReady: @escaping @Sendable (FeedPage) -> Void) -> WaitTicket {
        state.withLock { s in
            let ticket = WaitTicket(id: s.nextID)
            s.nextID += 1
            s.followers[ticket.id] = Follower(ticket: ticket, user: user, limit: limit, rooms: nil, seen: seen,
                                              onWake: onWake, onReady: onReady)
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

    /// The feed advanced to `newest` (with its events when this process wrote them): what to do for each
    /// follower it concerns. A commit's events are every event of their positions (one transaction allocated
    /// them all, `Store` feed notes), so a follower armed with its rooms whose `seen` reaches the commit's first
    /// position needs no read: its events are those of the commit that concern it (answered, removed), or none
    /// (then it has seen up to `newest`). The rest re-read, with their rooms forgotten until their read arms them.
    func advance(newest: Int64, events: [FeedEvent]?) -> [Wake] {
        state.withLock { s in
            var woken: [Wake] = []
            for (id, follower) in s.followers where follower.seen < newest {
                if let events, let rooms = follower.rooms, let first = events.first, first.pos <= follower.seen + 1,
                   events.last!.pos == newest {
                    let mine = events.filter { $0.pos > follower.seen && Self.concerns(follower.user, rooms, $0) }
                    if mine.isEmpty {
                        s.followers[id]!.seen = newest
                        continue
                    }
                    if mine.count <= follower.limit {
                        s.followers[id] = nil
                        woken.append(.answer(follower, FeedPage(events: mine, next: newest, hasMore: false)))
                        continue
                    }
                }
                guard Self.concerns(follower, events) else { continue }
                woken.append(.read(follower))
                s.followers[id]!.rooms = nil
            }
            return woken
        }
    }

    private static func concerns(_ follower: Follower, _ events: [FeedEvent]?) -> Bool {
        guard let rooms = follower.rooms, let events else { return true }
        return events.contains { $0.pos > follower.seen && concerns(follower.user, rooms, $0) }
    }

    /// A member's own joined/left, or a message in one of its rooms.
    private static func concerns(_ user: String, _ rooms: Set<String>, _ event: FeedEvent) -> Bool {
        if let member = event.user { return Validation.usernameKey(member) == user }
        return rooms.contains(event.room)
    }

    /// Every follower, removed (shutdown).
    func takeAll() -> [Follower] {
        state.withLock { s in
            defer { s.followers = [:] }
            return Array(s.followers.values)
        }
    }
}
