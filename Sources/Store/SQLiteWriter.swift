// The store's one writer thread: takes every write that arrived together and commits them in ONE transaction.
import Chat
import CSQLite
import Dispatch
import Foundation
import Synchronization

/// A unit of work for the writer. `apply` runs inside the batch's transaction and returns what to report once
/// the transaction committed; `fail` reports that it did not (rolled back, store closed).
struct WriteJob: Sendable {
    let apply: @Sendable (SQLiteBatch) throws -> @Sendable () -> Void
    let fail: @Sendable (Error) -> Void
}

/// Group commit (the throughput rule): while one batch is being fsynced, new jobs queue up; the next
/// batch takes them all, so N concurrent posts cost one BEGIN…COMMIT and one fsync. Completions run only after
/// COMMIT returned, so a 201 is never sent for a message that could still be lost.
final class SQLiteWriter: @unchecked Sendable {
    static let maxBatch = 4096

    private struct Inbox: ~Copyable {
        var jobs: [WriteJob] = []
        var sleeping = false                  // the thread waits on `wake`; the next submit signals it
        var stopped = false
    }

    private let inbox = Mutex(Inbox())
    private let wake = DispatchSemaphore(value: 0)
    private let db: SQLiteConnection
    private let committed: @Sendable ([RoomAdvance], [FeedEvent]) -> Void

    /// - Parameter committed: told after each COMMIT which rooms advanced, with their new messages, and the feed
    ///   events the transaction wrote (ascending pos).
    init(db: SQLiteConnection, committed: @escaping @Sendable ([RoomAdvance], [FeedEvent]) -> Void) {
        self.db = db
        self.committed = committed
        let thread = Thread { [self] in run() }
        thread.name = "konnect.sqlite-writer"
        thread.start()
    }

    func submit(_ job: WriteJob) {
        let (accepted, signal) = inbox.withLock { box -> (Bool, Bool) in
            if box.stopped { return (false, false) }
            box.jobs.append(job)
            let signal = box.sleeping
            box.sleeping = false
            return (true, signal)
        }
        if !accepted { job.fail(SQLiteError(code: SQLITE_MISUSE, message: "store closed")) }
        if signal { wake.signal() }
    }

    /// Lets the thread finish the queued jobs and end. Does not wait: the last reference to the store may be
    /// dropped inside a completion running on the writer thread itself.
    func stop() {
        let signal = inbox.withLock { box -> Bool in
            box.stopped = true
            let signal = box.sleeping
            box.sleeping = false
            return signal
        }
        if signal { wake.signal() }
    }

    private func run() {
        while let jobs = next() { process(jobs) }
    }

    /// The next batch, sleeping while there is none; nil once stopped and drained.
    private func next() -> [WriteJob]? {
        while true {
            let taken = inbox.withLock { box -> [WriteJob]? in
                if box.jobs.isEmpty {
                    if box.stopped { return nil }
                    box.sleeping = true
                    return []
                }
                if box.jobs.count <= Self.maxBatch {
                    defer { box.jobs = [] }
                    return box.jobs
                }
                defer { box.jobs.removeFirst(Self.maxBatch) }
                return Array(box.jobs.prefix(Self.maxBatch))
            }
            guard let taken else { return nil }
            if !taken.isEmpty { return taken }
            wake.wait()
        }
    }

    /// Commits `jobs` as one transaction. A job whose own statement fails is dropped (told its error) and the
    /// rest retried; a failing BEGIN or COMMIT fails them all.
    private func process(_ jobs: [WriteJob]) {
        var pending = jobs
        while !pending.isEmpty {
            let batch = SQLiteBatch(db: db)
            var finishers: [@Sendable () -> Void] = []
            finishers.reserveCapacity(pending.count)
            do {
                try db.run(SQL.begin, [])
            } catch {
                for job in pending { job.fail(error) }
                return
            }
            var failed: (index: Int, error: Error)?
            for (index, job) in pending.enumerated() {
                do { finishers.append(try job.apply(batch)) } catch {
                    failed = (index, error)
                    break
                }
            }
            if let failed {
                _ = try? db.run(SQL.rollback, [])
                pending[failed.index].fail(failed.error)
                pending.remove(at: failed.index)
                continue
            }
            do {
                try batch.finish()
                try db.run(SQL.commit, [])
            } catch {
                _ = try? db.run(SQL.rollback, [])
                for job in pending { job.fail(error) }
                return
            }
            for finish in finishers { finish() }
            committed(batch.advanced, batch.feed)
            return
        }
    }
}
