// The parked long-poll waiters of every room, and each room's newest committed messages, behind one Mutex.
import Synchronization

/// Long-poll waiters by room (../shared/API.md `GET /messages` with `wait`). Registration, cancellation and the
/// wake-up's hand-over are each one lock hold; callbacks always run outside the lock.
///
/// It also remembers, per room, the newest seq the store reported and the messages of its latest commits (the
/// "tail"), so a re-poll — a client asking for what follows the message it was just handed — is decided from
/// memory: park at once, or answer from the tail, without a store read. Every advance the store reports passes
/// through `advance`, under the same lock as `register`, so a waiter either sees an advance's seq in `register`
/// or is woken by it (no lost wake-up).
final class WaiterRegistry: Sendable {
    struct Waiter: Sendable {
        let ticket: WaitTicket
        let room: String
        let member: String?                             // private/direct room: whose access to recheck on wake
        let after: Int64
        let limit: Int
        let onReady: Completion<HistoryPage>
    }

    /// What `register` decided.
    enum Registration {
        case parked(WaitTicket)                         // nothing newer than `after` is known: wait, no read needed
        case ready([Message], lastSeq: Int64)           // the tail holds `after + 1 … lastSeq`: answer, not registered
        case unknown(WaitTicket)                        // registered, but only the store can say what follows `after`
    }

    private struct Room {
        var waiters: [UInt64: Waiter] = [:]
        var lastSeq: Int64 = -1                          // newest seq the store reported; -1: none since start
        var tail: [Message] = []                         // newest committed messages, contiguous, ending at lastSeq
        var tailBytes = 0
    }

    private struct State: ~Copyable {
        var nextID: UInt64 = 1
        var rooms: [String: Room] = [:]
        var roomOf: [UInt64: String] = [:]              // ticket → room, so cancel finds it
        var tailBytes = 0                                // text bytes held by all tails
    }

    /// Tail bounds: enough for clients a few posts behind; the byte budget caps rooms of 4,000-character texts.
    static let tailLength = 64
    static let tailBudget = 8 << 20

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.roomOf.count } }

    /// Registers a waiter for what follows `after`, or answers from the tail (then nothing is registered).
    func register(room: String, member: String? = nil, after: Int64, limit: Int,
                  onReady: @escaping Completion<HistoryPage>) -> Registration {
        state.withLock { s in
            // Field reads only: a copy of the Room would make the insertion below copy its waiter table.
            let lastSeq = s.rooms[room]?.lastSeq ?? -1
            if lastSeq >= 0, after < lastSeq, let first = s.rooms[room]!.tail.first?.seq, first <= after + 1 {
                let tail = s.rooms[room]!.tail
                let start = Int(after + 1 - first)
                return .ready(Array(tail[start..<min(start + limit, tail.count)]), lastSeq: lastSeq)
            }
            let ticket = WaitTicket(id: s.nextID)
            s.nextID += 1
            s.rooms[room, default: Room()].waiters[ticket.id] = Waiter(ticket: ticket, room: room, member: member,
                                                                       after: after, limit: limit, onReady: onReady)
            s.roomOf[ticket.id] = room
            if lastSeq >= 0, after >= lastSeq { return .parked(ticket) }
            return .unknown(ticket)
        }
    }

    func contains(_ ticket: WaitTicket) -> Bool { state.withLock { $0.roomOf[ticket.id] != nil } }

    /// Removes and returns the waiter; nil when it already fired or was cancelled (so it fires at most once).
    func remove(_ ticket: WaitTicket) -> Waiter? {
        state.withLock { s in
            guard let room = s.roomOf.removeValue(forKey: ticket.id) else { return nil }
            let waiter = s.rooms[room]?.waiters.removeValue(forKey: ticket.id)
            // A room the store never reported (e.g. a wait on a name that does not exist) leaves no entry behind.
            if let r = s.rooms[room], r.lastSeq < 0, r.waiters.isEmpty { s.rooms[room] = nil }
            return waiter
        }
    }

    /// The store committed up to `lastSeq` (with the new messages when it has them): remembers that, and removes
    /// and returns every waiter of `room` that has not seen `lastSeq` yet (`after < lastSeq`).
    func advance(room: String, lastSeq: Int64, messages: [Message]?) -> [Waiter] {
        state.withLock { s in
            var r = s.rooms.removeValue(forKey: room) ?? Room()
            if lastSeq > r.lastSeq {
                s.tailBytes -= r.tailBytes
                Self.extendTail(&r, lastSeq: lastSeq, messages: messages)
                r.lastSeq = lastSeq
                if s.tailBytes + r.tailBytes > Self.tailBudget { Self.dropTails(&s) }
                s.tailBytes += r.tailBytes
            }
            var ready: [Waiter] = []
            if !r.waiters.isEmpty {
                for (id, waiter) in r.waiters where waiter.after < lastSeq {
                    ready.append(waiter)
                    s.roomOf[id] = nil
                }
                if ready.count == r.waiters.count {
                    r.waiters.removeAll(keepingCapacity: true)   // the usual fan-out: all of them re-poll next
                } else if !ready.isEmpty {
                    r.waiters = r.waiters.filter { $0.value.after >= lastSeq }
                }
            }
            s.rooms[room] = r
            return ready
        }
    }

    /// Appends contiguous news to the tail; anything else (messages unknown — another process wrote — or a gap)
    /// restarts it, so the tail is always exactly the committed messages `tail.first … lastSeq`.
    private static func extendTail(_ r: inout Room, lastSeq: Int64, messages: [Message]?) {
        guard let messages, let first = messages.first, messages.last!.seq == lastSeq,
              lastSeq - first.seq + 1 == Int64(messages.count) else {
            r.tail = []
            r.tailBytes = 0
            return
        }
        if r.lastSeq < 0 || r.tail.last?.seq != first.seq - 1 {
            r.tail = []
            r.tailBytes = 0
        }
        r.tail.append(contentsOf: messages)
        r.tailBytes += messages.reduce(0) { $0 + $1.text.utf8.count }
        if r.tail.count > tailLength {
            let cut = r.tail.count - tailLength
            r.tailBytes -= r.tail[..<cut].reduce(0) { $0 + $1.text.utf8.count }
            r.tail.removeFirst(cut)
        }
    }

    /// Over the memory budget (many busy rooms of long texts): forget every tail; they refill with new posts.
    private static func dropTails(_ s: inout State) {
        for key in Array(s.rooms.keys) {
            s.rooms[key]!.tail = []
            s.rooms[key]!.tailBytes = 0
        }
        s.tailBytes = 0
    }

    /// Removes and returns the waiters of `room` registered for `member` (a username key; removal from a room).
    func remove(room: String, member: String) -> [Waiter] {
        state.withLock { s in
            guard let r = s.rooms[room], !r.waiters.isEmpty else { return [] }
            let gone = r.waiters.values.filter { $0.member.map(Validation.usernameKey) == member }
            for waiter in gone {
                s.rooms[room]!.waiters[waiter.ticket.id] = nil
                s.roomOf[waiter.ticket.id] = nil
            }
            return gone
        }
    }

    /// Every waiter, removed (shutdown).
    func takeAll() -> [Waiter] {
        state.withLock { s in
            var all: [Waiter] = []
            for key in Array(s.rooms.keys) {
                all.append(contentsOf: s.rooms[key]!.waiters.values)
                s.rooms[key]!.waiters = [:]
            }
            s.roomOf = [:]
            return all
        }
    }
}
