// The PostgreSQL store's one writer thread: every write that arrived together is committed in ONE transaction.
import Chat
import Dispatch
import Foundation
import Synchronization

/// A unit of work for the writer. A `post`'s room is locked and its client_id looked up when the batch begins
/// (`PostgresBatch.prepare`); `apply` runs inside the batch's transaction and returns what to report once it
/// committed; `fail` reports that it did not.
struct PostgresWriteJob: Sendable {
    let post: PostRequest?
    let apply: @Sendable (PostgresBatch) throws -> @Sendable () -> Void
    let fail: @Sendable (Error) -> Void
}

/// Group commit as in `SQLiteWriter`: while one batch commits (a WAL flush on the server, synchronous_commit on),
/// new jobs queue; the next batch takes them all. Completions run on this thread only after COMMIT answered, so a
/// 201 is never sent for a message that could be lost. When the server is unreachable every batch fails at once
/// with `unavailable` (503) and the next batch tries to connect again: no backlog builds up while it is down.
final class PostgresWriter: @unchecked Sendable {
    static let maxBatch = 4096
    static let maxRetries = 5                 // deadlock or serialization victims run again, this many times

    private struct Inbox: ~Copyable {
        var jobs: [PostgresWriteJob] = []
        var sleeping = false
        var stopped = false
    }

    private let inbox = Mutex(Inbox())
    private let wake = DispatchSemaphore(value: 0)
    private let conninfo: String
    private var db: PostgresConnection?       // only on the writer thread; nil until (re)connected
    private let committed: @Sendable ([RoomAdvance], [FeedEvent]) -> Void
    /// The backend PID of the writer's connection (0 while disconnected): the listener ignores its own NOTIFYs.
    let backendPID = Atomic<Int32>(0)

    /// - Parameter committed: told after each COMMIT which rooms advanced, with their new messages, and the feed
    ///   events the transaction wrote (ascending, contiguous positions).
    init(conninfo: String, committed: @escaping @Sendable ([RoomAdvance], [FeedEvent]) -> Void) {
        self.conninfo = conninfo
        self.committed = committed
        let thread = Thread { [self] in run() }
        thread.name = "konnect.pg-writer"
        thread.start()
    }

    func submit(_ job: PostgresWriteJob) {
        let (accepted, signal) = inbox.withLock { box -> (Bool, Bool) in
            if box.stopped { return (false, false) }
            box.jobs.append(job)
            let signal = box.sleeping
            box.sleeping = false
            return (true, signal)
        }
        if !accepted { job.fail(PostgresError(sqlState: "", message: "store closed")) }
        if signal { wake.signal() }
    }

    /// Lets the thread finish the queued jobs and end (does not wait).
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
        db = nil
    }

    private func next() -> [PostgresWriteJob]? {
        while true {
            let taken = inbox.withLock { box -> [PostgresWriteJob]? in
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

    /// The open connection, connecting when there is none or it broke.
    private func connection() throws -> PostgresConnection {
        if let db, !db.isBroken { return db }
        db = nil
        backendPID.store(0, ordering: .relaxed)
        let fresh = try PostgresConnection(conninfo: conninfo, applicationName: "konnect-writer")
        try fresh.execute(PGSQL.session)
        db = fresh
        backendPID.store(fresh.backendPID, ordering: .relaxed)
        return fresh
    }

    /// Commits `jobs` as one transaction. A job whose own statement fails is dropped (told its error) and the
    /// rest run again; a deadlock victim runs again whole; a failing connection, BEGIN or COMMIT fails them all.
    private func process(_ jobs: [PostgresWriteJob]) {
        var pending = jobs
        var retries = 0
        var reconnected = false               // a connection that died while idle is only noticed on use: once more
        while !pending.isEmpty {
            let db: PostgresConnection
            do { db = try connection() } catch {
                for job in pending { job.fail(error) }
                return
            }
            let batch = PostgresBatch(db: db)
            var finishers: [@Sendable () -> Void] = []
            finishers.reserveCapacity(pending.count)
            do {
                try db.execute("BEGIN")
                try batch.prepare(pending.compactMap(\.post))
            } catch {
                _ = try? db.execute("ROLLBACK")
                if let e = error as? PostgresError, e.isRetryable, retries < Self.maxRetries {
                    retries += 1
                    continue
                }
                if db.isBroken, !reconnected {
                    reconnected = true
                    continue
                }
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
                _ = try? db.execute("ROLLBACK")
                if let e = failed.error as? PostgresError, e.isRetryable, retries < Self.maxRetries {
                    retries += 1
                    continue
                }
                if db.isBroken, !reconnected {         // nothing was committed: run them again on a new one
                    reconnected = true
                    continue
                }
                if db.isBroken {                      // the connection, not the job: all of them failed
                    for job in pending { job.fail(failed.error) }
                    return
                }
                pending[failed.index].fail(failed.error)
                pending.remove(at: failed.index)
                continue
            }
            do {
                try batch.finish()
                try db.commit()
            } catch {
                _ = try? db.execute("ROLLBACK")
                if let e = error as? PostgresError, e.isRetryable, retries < Self.maxRetries {
                    retries += 1
                    continue
                }
                for job in pending { job.fail(error) }
                return
            }
            for finish in finishers { finish() }
            committed(batch.advanced, batch.feed)
            return
        }
    }
}
