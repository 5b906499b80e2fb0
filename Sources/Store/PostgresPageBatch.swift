// Known users' page reads waiting for a reader thread: the next free reader takes them all into one statement.
import Chat
import Synchronization

/// Why batch (issue 11, README "On PostgreSQL"): profiled, most of a page's cost on the database side was not the
/// page but the statement around it — executor start-up (~23% of the backend's CPU), the socket round trip and
/// wake-ups (~24%), the commit of the implicit transaction (~7%) — and on our side a reader thread's wake-up and
/// libpq round trip. One `PGSQL.windowBatch` pays those once for every page waiting when a reader gets to them.
/// Under light load a batch is one page (no waiting for company: a reader takes what is there); under load pages
/// queue while every reader is busy and go together. At most one drain job waits in the readers' queue at a time.
final class PostgresPageBatch: Sendable {
    static let maxBatch = 64

    struct Request: Sendable {
        let user: User
        let room: String
        let cursor: HistoryCursor                 // clamped (`PostgresStore.windowCursor`)
        let bound: Int64                          // as asked, for the fallback read
        let limit: Int
        let held: PostgresMessageCache.Held
        let completion: StoreCompletion<TokenHistory?>
    }

    private struct State: ~Copyable {
        var pending: [Request] = []
        var drainQueued = false                   // a drain job is in the readers' queue, not yet started
        var largest = 0                           // the most requests one drain took (tests check batching happens)
    }

    private let state = Mutex(State())

    /// Queues `request`; true when the caller must submit a drain job (none is waiting to start).
    func add(_ request: Request) -> Bool {
        state.withLock { s -> Bool in
            s.pending.append(request)
            if s.drainQueued { return false }
            s.drainQueued = true
            return true
        }
    }

    /// Called by a drain job as it starts (`first`) or reruns: up to `maxBatch` requests, and whether another drain
    /// job must be submitted for what is left.
    func take(first: Bool) -> (requests: [Request], more: Bool) {
        state.withLock { s -> ([Request], Bool) in
            if first { s.drainQueued = false }
            let n = min(s.pending.count, Self.maxBatch)
            let taken = Array(s.pending.prefix(n))
            s.pending.removeFirst(n)
            s.largest = max(s.largest, n)
            guard !s.pending.isEmpty, !s.drainQueued else { return (taken, false) }
            s.drainQueued = true
            return (taken, true)
        }
    }

    var largestBatch: Int { state.withLock { $0.largest } }

    /// Requests whose connection broke under them, to run again first.
    func putBack(_ requests: [Request]) {
        state.withLock { $0.pending.insert(contentsOf: requests, at: 0) }
    }
}
