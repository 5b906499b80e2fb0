// The followers of the feed waiting for something new, behind one Mutex; each commit wakes only those it concerns.
import Synchronization

/// Feed followers (../shared/API.md "The feed", `wait` and the streams). Followers wait on "the feed's newest
/// position advanced"; each decides in memory whether a commit's events concern it: a message in one of its rooms,
/// or its own joined/left. Those are answered from the commit's events; the rest stay parked without a store read.
///
/// Armed followers (rooms known) are indexed by room and by user, so a commit visits only the followers of its
/// rooms (issue 10: one post to one of 100 rooms must not walk 10,000 followers on the writer's thread). An armed
/// follower not visited by a known commit has seen everything up to it: its position is `max(seen, newest)`.
///
/// Like `WaiterRegistry` for `GET /messages`, it also remembers the newest position the store reported, the events
/// of the latest commits (the "tail", every event after `tailFrom`) and, per user that followed since, their rooms
/// as of that position (kept by the commits' own joined/left events). A re-poll — a follower asking for what comes
/// after the `next` it was just handed — is then decided from memory: parked, or answered from the tail.
///
/// A follower whose rooms are not known (registered, its read not back yet) or an advance whose events are not
/// known (another process wrote, or positions were skipped) is always handed back: a spare read, never a lost
/// event. Every advance passes under the same lock as `register` and `arm`, so a follower either is armed with
/// a read that saw the advance, or is handed back by it.
final class FeedWaiterRegistry: Sendable {
    struct Follower: Sendable {
        let ticket: WaitTicket
        let user: String                                // username key
        let limit: Int
        var rooms: Set<String>?                         // nil: unknown, any advance hands it back
        var seen: Int64                                 // nothing for it up to here (its last read's `next`, or later)
        let onWake: @Sendable (WaitTicket) -> Void      // re-read (called outside the lock)
        let onReady: @Sendable (FeedPage) -> Void       // answered from memory (called outside the lock)
    }

    /// What an advance decided for a follower it concerns.
    enum Wake {
        case read(Follower)                             // still registered: re-read the store
        case answer(Follower, FeedPage)                 // removed: its page, cut from the commit's own events
    }

    /// What `register` decided.
    enum Registration {
        case parked(WaitTicket)                         // nothing for it after `after` is known: armed, no read
        case ready(FeedPage)                            // its page, from the tail: not registered
        case unknown(WaitTicket)                        // registered; only the store can say (read, then `arm`)
    }

    /// What `arm` decided.
    enum Armed {
        case armed                                      // parked until something concerns it
        case gone                                       // answered or cancelled meanwhile
        case answer(Follower, FeedPage)                 // removed: the tail had its events after the read
        case pending                                    // the read is older than what memory can bridge: it
                                                        // stays as it was (an unarmed one was handed back by the
                                                        // advance it missed, and that read arms it)
    }

    private struct State: ~Copyable {
        var nextID: UInt64 = 1
        var followers: [UInt64: Follower] = [:]
        var byRoom: [String: Set<UInt64>] = [:]         // armed followers by room
        var byUser: [String: Set<UInt64>] = [:]         // armed followers by user key (their own joined/left)
        var unarmed: Set<UInt64> = []                   // rooms unknown: every advance hands them back
        var newest: Int64 = -1                          // newest position the store reported; -1: none yet
        var tail: [FeedEvent] = []                      // every event after `tailFrom` up to `newest`, ascending
        var tailFrom: Int64 = Int64.max                 // Int64.max: no tail
        var members: [String: Member] = [:]             // user key → rooms as of `newest` (once `asOf` ≤ it)
    }

    /// Bounds: a few rounds of posts to many rooms; the users of 10,000s of followers.
    static let tailLength = 512
    static let maxMembers = 200_000

    /// A user's rooms, read at `asOf` and kept since by their own joined/left events (applying one again to
    /// rooms that already reflect it changes nothing, so a read ahead of the reported commits is fine).
    private struct Member {
        var rooms: Set<String>
        var asOf: Int64
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.followers.count } }

    /// Registers a follower of `user` (a username key) for what follows `after`, decided from memory when the
    /// user's rooms and the events since `after` are known.
    func register(user: String, after: Int64, limit: Int, onWake: @escaping @Sendable (WaitTicket) -> Void,
                  onReady: @escaping @Sendable (FeedPage) -> Void) -> Registration {
        state.withLock { s in
            var rooms: Set<String>? = nil
            var seen = after
            if let known = s.members[user]?.rooms, s.members[user]!.asOf <= s.newest, s.newest >= 0, after <= s.newest,
               let mine = Self.eventsFromTail(s, user: user, rooms: known, after: after) {
                if !mine.isEmpty {
                    let page = Array(mine.prefix(limit))
                    let more = mine.count > limit
                    return .ready(FeedPage(events: page, next: more ? page.last!.pos : s.newest, hasMore: more,
                                           rooms: Array(known)))
                }
                rooms = known
                seen = s.newest
            }
            let ticket = WaitTicket(id: s.nextID)
            s.nextID += 1
            s.followers[ticket.id] = Follower(ticket: ticket, user: user, limit: limit, rooms: rooms, seen: seen,
                                              onWake: onWake, onReady: onReady)
            if rooms != nil {
                Self.index(&s, ticket.id)
                return .parked(ticket)
            }
            s.unarmed.insert(ticket.id)
            return .unknown(ticket)
        }
    }

    /// A read found nothing new up to `next` (`rooms`: the user's rooms as of `next`): from now on only events
    /// after it that concern `rooms` (or the user's own membership) wake it. When the registry already knows of
    /// later commits, the tail bridges the gap (or, failing that, the caller reads again).
    func arm(_ ticket: WaitTicket, rooms: [String], next: Int64) -> Armed {
        state.withLock { s in
            guard let follower = s.followers[ticket.id] else { return .gone }
            if follower.rooms != nil && next <= follower.seen { return .armed }   // an older read than its arming
            let known = Set(rooms)
            var seen = next
            // No commit reported since start: the read's snapshot is the base later commits follow on from (each
            // commit after it is reported with its events; one before it, reported late, is stale and ignored).
            if s.newest < 0 { s.newest = next }
            if next < s.newest {
                guard let mine = Self.eventsFromTail(s, user: follower.user, rooms: known, after: next) else {
                    return .pending
                }
                if !mine.isEmpty {
                    guard mine.count <= follower.limit else { return .pending }
                    Self.remove(&s, ticket.id)
                    return .answer(follower, FeedPage(events: mine, next: s.newest, hasMore: false, rooms: rooms))
                }
                seen = s.newest
            }
            if seen >= s.newest { Self.learn(&s, user: follower.user, rooms: known, asOf: seen) }
            if follower.rooms != nil { Self.unindex(&s, ticket.id) }
            s.followers[ticket.id]!.rooms = known
            s.followers[ticket.id]!.seen = seen
            s.unarmed.remove(ticket.id)
            Self.index(&s, ticket.id)
            return .armed
        }
    }

    /// A read answered `user`'s events up to `next`, with their rooms as of `next` (its `hasMore` false): kept, so
    /// the follower's re-poll is decided from memory.
    func learn(user: String, rooms: [String], asOf next: Int64) {
        state.withLock { s in
            guard s.newest >= 0 else { return }
            if next < s.newest {
                // Bridged only when the tail shows no membership change of theirs since.
                guard s.tailFrom <= next,
                      !s.tail.contains(where: { $0.pos > next && $0.user.map(Validation.usernameKey) == user }) else { return }
            }
            Self.learn(&s, user: user, rooms: Set(rooms), asOf: max(next, s.newest))
        }
    }

    /// The last `next` known for the follower (nil when gone): an armed follower has seen every known commit.
    func seen(_ ticket: WaitTicket) -> Int64? {
        state.withLock { s in
            guard let f = s.followers[ticket.id] else { return nil }
            return f.rooms == nil ? f.seen : max(f.seen, s.newest)
        }
    }

    /// Removes the follower; nil when it already answered or was cancelled (so it answers at most once). Its
    /// `seen` is the position it is known to have seen.
    func remove(_ ticket: WaitTicket) -> Follower? {
        state.withLock { s in
            guard var f = s.followers[ticket.id] else { return nil }
            if f.rooms != nil { f.seen = max(f.seen, s.newest) }
            Self.remove(&s, ticket.id)
            return f
        }
    }

    /// The feed advanced to `newest` (with its events when this process wrote them): what to do for each
    /// follower it concerns. A commit's events are every event of their positions (one transaction allocated
    /// them all, `Store` feed notes), so when they follow on from the last known position an armed follower needs
    /// no read: its events are those of the commit that concern it (answered, removed), or none (it stays, having
    /// seen up to `newest`). Otherwise every follower behind `newest` re-reads, with its rooms forgotten until its
    /// read arms it, and what memory knew of positions and rooms is dropped.
    func advance(newest: Int64, events: [FeedEvent]?) -> [Wake] {
        state.withLock { s in
            guard newest > s.newest else { return [] }   // a stale report: its positions are known already
            let previous = s.newest
            var woken: [Wake] = []
            // Unarmed followers (and those disarmed below) are handed back once each, at the end.
            if let events, let first = events.first, previous >= 0, first.pos == previous + 1, events.last!.pos == newest {
                // The commit's events by room and by member, once: each visited follower then takes its rooms'
                // lists instead of testing every event of the commit (one commit may carry posts to 100 rooms).
                var visit = Set<UInt64>()
                var byRoom: [String: [Int]] = [:]
                var byUser: [String: [Int]] = [:]
                for (i, e) in events.enumerated() {
                    if let member = e.user {
                        let key = Validation.usernameKey(member)
                        if let ids = s.byUser[key] { visit.formUnion(ids) }
                        byUser[key, default: []].append(i)
                        Self.apply(&s.members, e, user: key)
                    } else if let ids = s.byRoom[e.room] {
                        visit.formUnion(ids)
                        byRoom[e.room, default: []].append(i)
                    }
                }
                for id in visit {
                    let follower = s.followers[id]!
                    let mine = Self.mine(follower, events, byRoom: byRoom, byUser: byUser)
                    if mine.isEmpty { continue }
                    if mine.count <= follower.limit {
                        Self.remove(&s, id)
                        woken.append(.answer(follower, FeedPage(events: mine, next: newest, hasMore: false)))
                    } else {
                        Self.disarm(&s, id)                 // more than its page: a read pages them
                    }
                }
                s.newest = newest
                Self.extendTail(&s, events)
            } else {
                for (id, follower) in s.followers where follower.rooms != nil && max(follower.seen, previous) < newest {
                    s.followers[id]!.seen = max(follower.seen, previous)
                    Self.disarm(&s, id)
                }
                s.newest = newest
                s.tail = []
                s.tailFrom = Int64.max
                s.members = [:]
            }
            for id in s.unarmed { woken.append(.read(s.followers[id]!)) }
            return woken
        }
    }

    // MARK: state helpers (under the lock)

    /// A follower's events of a commit (`byRoom`: indices into `events` of messages by room; `byUser`: of
    /// joined/left by member), in commit order, after its `seen`.
    private static func mine(_ f: Follower, _ events: [FeedEvent], byRoom: [String: [Int]], byUser: [String: [Int]]) -> [FeedEvent] {
        if byUser[f.user] != nil {
            // Its own joined/left in this commit: its rooms change at that position (a message reaches those who
            // were members at its pos), so walk the commit in order.
            var rooms = f.rooms!
            var out: [FeedEvent] = []
            for e in events where e.pos > f.seen {
                if let member = e.user {
                    guard Validation.usernameKey(member) == f.user else { continue }
                    out.append(e)
                    if case .joined = e.kind { rooms.insert(e.room) } else { rooms.remove(e.room) }
                } else if rooms.contains(e.room) {
                    out.append(e)
                }
            }
            return out
        }
        let rooms = f.rooms!
        var indices: [Int] = []
        var sources = 0
        if rooms.count <= byRoom.count {
            for room in rooms { if let list = byRoom[room] { indices += list; sources += 1 } }
        } else {
            for (room, list) in byRoom where rooms.contains(room) { indices += list; sources += 1 }
        }
        if sources > 1 { indices.sort() }
        var out: [FeedEvent] = []
        out.reserveCapacity(indices.count)
        for i in indices where events[i].pos > f.seen { out.append(events[i]) }
        return out
    }

    /// The user's events after `after` from the tail (rooms constant over it), or nil when memory cannot say:
    /// the tail does not reach back to `after`, or their own membership changed since.
    private static func eventsFromTail(_ s: borrowing State, user: String, rooms: Set<String>, after: Int64) -> [FeedEvent]? {
        if after >= s.newest { return [] }
        guard s.tailFrom <= after else { return nil }
        // The first event after `after`, by binary search: a re-poll is usually at the tail's end.
        var low = 0, high = s.tail.count
        while low < high {
            let mid = (low + high) / 2
            if s.tail[mid].pos <= after { low = mid + 1 } else { high = mid }
        }
        var mine: [FeedEvent] = []
        for e in s.tail[low...] {
            if let member = e.user {
                if Validation.usernameKey(member) == user { return nil }
            } else if rooms.contains(e.room) {
                mine.append(e)
            }
        }
        return mine
    }

    private static func learn(_ s: inout State, user: String, rooms: Set<String>, asOf: Int64) {
        if s.members.count >= maxMembers && s.members[user] == nil { s.members = [:] }
        s.members[user] = Member(rooms: rooms, asOf: asOf)
    }

    /// A user's own joined/left, applied to their remembered rooms.
    private static func apply(_ members: inout [String: Member], _ e: FeedEvent, user: String) {
        guard members[user] != nil else { return }
        switch e.kind {
        case .joined: members[user]!.rooms.insert(e.room)
        case .left: members[user]!.rooms.remove(e.room)
        case .message: break
        }
    }

    /// Appends a contiguous commit to the tail, cut at a position boundary past `tailLength`.
    private static func extendTail(_ s: inout State, _ events: [FeedEvent]) {
        if s.tailFrom == Int64.max { s.tailFrom = events.first!.pos - 1 }
        s.tail.append(contentsOf: events)
        guard s.tail.count > tailLength else { return }
        var cut = s.tail.count - tailLength
        while cut < s.tail.count && s.tail[cut].pos == s.tail[cut - 1].pos { cut += 1 }
        s.tailFrom = s.tail[cut - 1].pos
        s.tail.removeFirst(cut)
    }

    private static func index(_ s: inout State, _ id: UInt64) {
        let f = s.followers[id]!
        for room in f.rooms! { s.byRoom[room, default: []].insert(id) }
        s.byUser[f.user, default: []].insert(id)
    }

    private static func unindex(_ s: inout State, _ id: UInt64) {
        let f = s.followers[id]!
        for room in f.rooms! {
            s.byRoom[room]?.remove(id)
            if s.byRoom[room]?.isEmpty == true { s.byRoom[room] = nil }
        }
        s.byUser[f.user]?.remove(id)
        if s.byUser[f.user]?.isEmpty == true { s.byUser[f.user] = nil }
    }

    /// Back to unknown rooms: the next advance hands it back, its read arms it again.
    private static func disarm(_ s: inout State, _ id: UInt64) {
        if s.followers[id]!.rooms != nil { unindex(&s, id) }
        s.followers[id]!.rooms = nil
        s.unarmed.insert(id)
    }

    private static func remove(_ s: inout State, _ id: UInt64) {
        if s.followers[id]?.rooms != nil { unindex(&s, id) }
        s.unarmed.remove(id)
        s.followers[id] = nil
    }

    /// Every follower, removed (shutdown).
    func takeAll() -> [Follower] {
        state.withLock { s in
            defer {
                s.followers = [:]
                s.byRoom = [:]
                s.byUser = [:]
                s.unarmed = []
            }
            return Array(s.followers.values)
        }
    }
}
