// Chat's `Store` on one SQLite file: WAL, synchronous=FULL, one group-commit writer, pooled reader connections.
import Chat
import Dispatch
import Synchronization

/// A `Store` in an SQLite file, shareable by several server processes on one machine. Writes go through one
/// writer thread that commits whatever arrived together as one transaction (one fsync); reads use their own
/// connections (one per concurrently reading thread) and never wait for the writer (WAL).
public final class SQLiteStore: Store, @unchecked Sendable {
    let path: String
    let writer: SQLiteWriter
    let watcher: RoomWatcher
    private let readers = Mutex<[SQLiteReader]>([])   // idle reader connections with their caches, checked out per read
    private let purgeTimer: DispatchSourceTimer        // drops expired tokens now and then (not only at a login)

    /// Opens (creating if needed) and migrates the database at `path`; the room `general` exists afterwards.
    /// Expired tokens are deleted every `tokenPurgeInterval` seconds.
    public init(path: String, tokenPurgeInterval: Double = 600) throws {
        self.path = path
        let db = try SQLiteConnection(path: path)
        try db.execute(SQL.pragmas)
        try SQLiteSchema.migrate(db)
        let watcher = RoomWatcher(reader: try SQLiteConnection(path: path))
        self.watcher = watcher
        writer = SQLiteWriter(db: db) { advances, feed in
            for advance in advances { watcher.committed(advance) }
            if !feed.isEmpty { watcher.feed.committed(feed) }
        }
        watcher.start()
        purgeTimer = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        purgeTimer.schedule(deadline: .now() + tokenPurgeInterval, repeating: tokenPurgeInterval, leeway: .seconds(1))
        purgeTimer.setEventHandler { [weak self] in self?.purgeExpiredTokens() }
        purgeTimer.resume()
    }

    deinit {
        purgeTimer.cancel()
        watcher.stop()
        writer.stop()
    }

    /// One write job, in the next group commit: expired tokens can never authenticate again, so keeping them is
    /// only a table that grows with every login (issue 12).
    func purgeExpiredTokens() {
        write({ _ in }) { batch in
            let now = Timestamp.now()
            try batch.db.run(SQL.deleteExpiredTokens, [.int(now.milliseconds)])
            try Self.dropStaleUploads(batch, before: Timestamp(milliseconds: now.milliseconds - 3_600_000))
            return .success(())
        }
    }

    public func onRoomAdvanced(_ handler: @escaping RoomAdvancedHandler) {
        watcher.setHandler(handler)
    }

    public func ping(completion: @escaping @Sendable (Bool) -> Void) {
        let ok = (try? read { db in try db.query(SQL.ping, []) { $0.int(0) } }) == [1]
        completion(ok)
    }

    /// Runs `body` on an idle reader (opening one when all are busy). Reads do not block on the writer: WAL
    /// readers see the last committed state.
    func withReader<T>(_ body: (SQLiteReader) throws -> T) throws -> T {
        let reader = try readers.withLock { $0.popLast() } ?? SQLiteReader(path: path)
        defer { readers.withLock { $0.append(reader) } }
        return try body(reader)
    }

    func read<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try withReader { try body($0.db) }
    }

    /// Reads answered from reader caches so far (idle readers only; for tests).
    var readCacheHits: Int { readers.withLock { $0.reduce(0) { $0 + $1.hits } } }
    /// Of those, token lookups and history pages (idle readers only; for tests).
    var readTokenHits: Int { readers.withLock { $0.reduce(0) { $0 + $1.tokenHits } } }
    var readPageHits: Int { readers.withLock { $0.reduce(0) { $0 + $1.pageHits } } }
    /// Revalidations settled by the WAL-index header alone (idle readers only; for tests).
    var readQuickChecks: Int { readers.withLock { $0.reduce(0) { $0 + $1.quickChecks } } }

    /// A read whose failure becomes `unavailable`.
    func read<T>(_ completion: StoreCompletion<T>, _ body: (SQLiteConnection) throws -> Result<T, ChatError>) {
        cachedRead(completion) { try body($0.db) }
    }

    /// A read that may answer from the reader's cache: the cache is revalidated first (see `SQLiteReader`).
    func cachedRead<T>(_ completion: StoreCompletion<T>, _ body: (SQLiteReader) throws -> Result<T, ChatError>) {
        let result: Result<T, ChatError>
        do { result = try withReader(body) } catch { result = .failure(.unavailable("\(error)")) }
        completion(result)
    }

    /// Queues a write for the next group commit; `completion` runs after COMMIT (or with `unavailable`).
    func write<T: Sendable>(_ completion: @escaping StoreCompletion<T>,
                            _ body: @escaping @Sendable (SQLiteBatch) throws -> Result<T, ChatError>) {
        writer.submit(WriteJob(apply: { batch in
            let result = try body(batch)
            return { completion(result) }
        }, fail: { error in
            completion(.failure(.unavailable("\(error)")))
        }))
    }
}
