// The parked long-poll waiters of every room, behind one Mutex (../shared/API.md `GET /messages` with `wait`).
import Synchronization

/// Long-poll waiters by room. Registration, cancellation and the wake-up's hand-over are each one lock hold;
/// callbacks always run outside the lock.
final class WaiterRegistry: Sendable {
    struct Waiter: Sendable {
        let ticket: WaitTicket
        let room: String
        let after: Int64
        let limit: Int
        let onReady: Completion<HistoryPage>
    }

    private struct State: ~Copyable {
        var nextID: UInt64 = 1
        var byRoom: [String: [UInt64: Waiter]] = [:]
        var roomOf: [UInt64: String] = [:]     // ticket → room, so cancel finds it
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.roomOf.count } }

    func add(room: String, after: Int64, limit: Int, onReady: @escaping Completion<HistoryPage>) -> WaitTicket {
        state.withLock { s in
            let ticket = WaitTicket(id: s.nextID)
            s.nextID += 1
            s.byRoom[room, default: [:]][ticket.id] = Waiter(ticket: ticket, room: room, after: after, limit: limit,
                                                             onReady: onReady)
            s.roomOf[ticket.id] = room
            return ticket
        }
    }

    func contains(_ ticket: WaitTicket) -> Bool { state.withLock { $0.roomOf[ticket.id] != nil } }

    /// Removes and returns the waiter; nil when it already fired or was cancelled (so it fires at most once).
    func remove(_ ticket: WaitTicket) -> Waiter? {
        state.withLock { s in
            guard let room = s.roomOf.removeValue(forKey: ticket.id) else { return nil }
            let waiter = s.byRoom[room]?.removeValue(forKey: ticket.id)
            if s.byRoom[room]?.isEmpty == true { s.byRoom[room] = nil }
            return waiter
        }
    }

    /// Removes and returns every waiter of `room` that has not seen `lastSeq` yet (`after < lastSeq`).
    func takeReady(room: String, lastSeq: Int64) -> [Waiter] {
        state.withLock { s in
            guard let waiting = s.byRoom[room] else { return [] }
            var ready: [Waiter] = []
            var staying: [UInt64: Waiter] = [:]
            for (id, waiter) in waiting {
                if waiter.after < lastSeq {
                    ready.append(waiter)
                    s.roomOf[id] = nil
                } else {
                    staying[id] = waiter
                }
            }
            s.byRoom[room] = staying.isEmpty ? nil : staying
            return ready
        }
    }

    /// Every waiter, removed (shutdown).
    func takeAll() -> [Waiter] {
        state.withLock { s in
            let all = s.byRoom.values.flatMap { $0.values }
            s.byRoom = [:]
            s.roomOf = [:]
            return all
        }
    }
}
