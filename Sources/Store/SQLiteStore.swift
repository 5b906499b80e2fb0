// Chat's `Store` on one SQLite file: WAL, synchronous=FULL, one group-commit writer, pooled reader connections.
import Chat
import Synchronization

/// A `Store` in an SQLite file, shareable by several server processes on one machine. Writes go through one
/// writer thread that commits whatever arrived together as one transaction (one fsync); reads use their own
/// connections (one per concurrently reading thread) and never wait for the writer (WAL).
public final class SQLiteStore: Store, @unchecked Sendable {
    let path: String
    let writer: SQLiteWriter
    let watcher: RoomWatcher
    private let readers = Mutex<[SQLiteConnection]>([])   // idle reader connections, checked out per read

    /// Opens (creating if needed) and migrates the database at `path`; the room `general` exists afterwards.
    public init(path: String) throws {
        self.path = path
        let db = try SQLiteConnection(path: path)
        try db.execute(SQL.pragmas)
        try SQLiteSchema.migrate(db)
        let watcher = RoomWatcher(reader: try SQLiteConnection(path: path))
        self.watcher = watcher
        writer = SQLiteWriter(db: db) { advances in
            for advance in advances { watcher.committed(advance) }
        }
        watcher.start()
    }

    deinit {
        watcher.stop()
        writer.stop()
    }

    public func onRoomAdvanced(_ handler: @escaping RoomAdvancedHandler) {
        watcher.setHandler(handler)
    }

    public func ping(completion: @escaping @Sendable (Bool) -> Void) {
        let ok = (try? read { db in try db.query(SQL.ping, []) { $0.int(0) } }) == [1]
        completion(ok)
    }

    /// Runs `body` on an idle reader connection (opening one when all are busy). Reads do not block on the
    /// writer: WAL readers see the last committed state.
    func read<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        let db = try readers.withLock { $0.popLast() } ?? SQLiteConnection(path: path)
        defer { readers.withLock { $0.append(db) } }
        return try body(db)
    }

    /// A read whose failure becomes `unavailable`.
    func read<T>(_ completion: StoreCompletion<T>, _ body: (SQLiteConnection) throws -> Result<T, ChatError>) {
        let result: Result<T, ChatError>
        do { result = try read(body) } catch { result = .failure(.unavailable("\(error)")) }
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
