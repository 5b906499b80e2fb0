// The PostgreSQL store's reader threads: each owns a connection; reads never queue behind the writer.
import Dispatch
import Foundation
import Synchronization

/// A fixed set of threads, each with its own connection (opened on first use, reopened after it broke), taking
/// read jobs from one queue. Reads run on these threads, never on the caller's (an HTTP event loop must not wait
/// on a socket to PostgreSQL); completions run here too. Under READ COMMITTED a read sees every transaction that
/// committed before it started, and takes no lock the writer holds, so it never waits for a batch.
final class PostgresReaders: @unchecked Sendable {
    /// Runs with the thread's connection (or the error that prevented connecting) and answers whether it is done.
    /// A job that failed on a connection found broken answers false when `lastTry` is false: it runs again on a
    /// fresh connection (a connection that died while idle is only noticed on its next use).
    typealias Job = @Sendable (_ db: PostgresConnection?, _ error: Error?, _ lastTry: Bool) -> Bool

    private struct Queue: ~Copyable {
        var jobs: [Job?] = []                   // a taken job is nil here: the queue never holds the last reference
        var head = 0                            // jobs[..<head] were taken
        var stopped = false
    }

    private let queue = Mutex(Queue())
    private let ready = DispatchSemaphore(value: 0)
    private let conninfo: String
    let count: Int

    init(conninfo: String, count: Int) {
        self.conninfo = conninfo
        self.count = count
        for i in 0..<count {
            let thread = Thread { [self] in run() }
            thread.name = "konnect.pg-reader-\(i)"
            thread.start()
        }
    }

    /// Runs `job` on a reader thread with its connection, or with the error that prevented connecting.
    func submit(_ job: @escaping Job) {
        let accepted = queue.withLock { q -> Bool in
            if q.stopped { return false }
            q.jobs.append(job)
            return true
        }
        if accepted { ready.signal() } else { _ = job(nil, PostgresError(sqlState: "", message: "store closed"), true) }
    }

    func stop() {
        queue.withLock { $0.stopped = true }
        for _ in 0..<count { ready.signal() }
    }

    private func take() -> Job? {
        queue.withLock { q -> Job? in
            guard q.head < q.jobs.count else { return nil }
            // Taken out, not copied: a job released under this lock could be the last reference to the store,
            // whose deinit stops the readers and takes this lock again (a recursive lock, a crash).
            let job = q.jobs[q.head].take()
            q.head += 1
            if q.head > 1024, q.head * 2 > q.jobs.count {
                q.jobs.removeFirst(q.head)
                q.head = 0
            }
            return job
        }
    }

    private func run() {
        var db: PostgresConnection?
        while true {
            ready.wait()
            guard let job = take() else {
                if queue.withLock({ $0.stopped }) { return }
                continue
            }
            for attempt in 0..<2 {
                if db?.isBroken == true { db = nil }
                if db == nil {
                    do {
                        let fresh = try PostgresConnection(conninfo: conninfo, applicationName: "konnect-reader")
                        try fresh.execute(PGSQL.session)
                        // Issue 11: a reader's statements are the same few, run thousands of times a second; keep
                        // one generic plan each. `PGSQL.windowBatch` takes arrays, whose custom plans PostgreSQL
                        // would otherwise keep re-planning (EXPLAIN: 0.25–1.3 ms of planning for a 0.15 ms run).
                        try fresh.execute("SET plan_cache_mode = force_generic_plan")
                        db = fresh
                    } catch {
                        _ = job(nil, error, true)
                        break
                    }
                }
                if job(db, nil, attempt == 1) { break }
                db = nil
            }
        }
    }
}
