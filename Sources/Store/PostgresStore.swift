// Chat's `Store` on PostgreSQL: any number of instances on one database (../shared/API.md "Stores and instances").
import Chat
import Dispatch
import Foundation

/// A `Store` in a PostgreSQL database, for several `konnect serve` processes on several hosts. Writes go through
/// one writer thread and connection that commits whatever arrived together as one transaction; reads run on a
/// few reader threads with connections of their own; a listener connection turns other instances' NOTIFYs into
/// wake-ups. No libpq call ever runs on the caller's thread, so an HTTP event loop never waits on PostgreSQL;
/// completions run on the store's threads.
///
/// Caches: token lookups (`PostgresTokenCache`: at most 90 ms, evicted by NOTIFY) and public rooms' access
/// (`PostgresAccessCache`: the same, by NOTIFY konnect_members). Access to private and direct rooms is read from
/// the database on every request (`roomAccess`, one primary-key statement on a reader thread; folded into the one
/// statement of the hot `history(tokenHash:…)` for every room), so a membership change committed through any
/// instance counts on every instance from its next request — a NOTIFY-invalidated cache alone could not promise
/// that (the NOTIFY may arrive after the next request). Messages once read are held (`PostgresMessageCache`: they
/// never change), so a known user's page reads from the database only its access, `last_seq` and the messages not
/// held, batched with every other page waiting for a reader (`PostgresPageBatch`, issue 11).
///
/// While PostgreSQL is unreachable every call fails with `unavailable` (503); each thread reconnects on its next
/// use and the listener retries on its own, re-reading every room when it is back.
public final class PostgresStore: Store, @unchecked Sendable {
    let conninfo: String
    let writer: PostgresWriter
    let fileWriter: PostgresWriter             // upload chunks, on a connection of their own (PostgresStore+Files)
    let readers: PostgresReaders
    let listener: PostgresListener
    let tokens = PostgresTokenCache()
    let accessCache = PostgresAccessCache()
    let chunkCache = PostgresChunkCache()         // issue 15: file chunks already read (they never change)
    let messageCache = PostgresMessageCache()     // issue 11: messages already read (they never change), by room and seq
    let pageBatch = PostgresPageBatch()           // issue 11: known users' page reads waiting for a reader, run as one

    /// Reader threads (and connections) per instance: a read is a round trip to the server, so throughput grows
    /// with how many are in flight. `KONNECT_PG_READERS` overrides (e.g. for benchmarks).
    public static var defaultReaders: Int {
        Int(ProcessInfo.processInfo.environment["KONNECT_PG_READERS"] ?? "").map { max(1, min($0, 256)) } ?? 8
    }

    /// Connects, creates or migrates the schema (under an advisory lock, so instances may start together) and
    /// starts the threads. Throws when the database cannot be reached at start.
    /// - Parameter readers: reader threads and connections.
    public init(conninfo: String, readers: Int = PostgresStore.defaultReaders) throws {
        self.conninfo = conninfo
        let setup = try PostgresConnection(conninfo: conninfo, applicationName: "konnect-setup")
        try setup.execute(PGSQL.session)
        try PostgresSchema.migrate(setup)
        let writerPID = Box()
        let tokens = self.tokens, accessCache = self.accessCache
        let listener = PostgresListener(conninfo: conninfo, ownPID: { writerPID.pid?() ?? 0 },
                                        tokenRevoked: { tokens.evict($0) }, membersChanged: { accessCache.evictAll() },
                                        reconnected: { tokens.evictAll(); accessCache.evictAll() })
        self.listener = listener
        let writer = PostgresWriter(conninfo: conninfo) { advances, feed in
            for advance in advances { listener.committed(advance) }
            if !feed.isEmpty { listener.feed.committed(feed) }
        }
        self.writer = writer
        fileWriter = PostgresWriter(conninfo: conninfo) { _, _ in }
        writerPID.pid = { [weak writer] in writer?.backendPID.load(ordering: .relaxed) ?? 0 }
        self.readers = PostgresReaders(conninfo: conninfo, count: max(1, readers))
        listener.start()
    }

    private final class Box: @unchecked Sendable { var pid: (@Sendable () -> Int32)? }

    deinit {
        listener.stop()
        writer.stop()
        fileWriter.stop()
        readers.stop()
    }

    public func onRoomAdvanced(_ handler: @escaping RoomAdvancedHandler) {
        listener.setHandler(handler)
    }

    public func ping(completion: @escaping @Sendable (Bool) -> Void) {
        readers.submit { db, _, lastTry in
            let ok = (try? db?.query(PGSQL.ping, []) { $0.int(0) }) == [1]
            if !ok, !lastTry, db?.isBroken == true { return false }
            completion(ok)
            return true
        }
    }

    /// Runs `body` on a reader thread; a failure (or no connection) becomes `unavailable`. A read that failed
    /// because its idle connection had died runs once more on a new one.
    func read<T>(_ completion: @escaping StoreCompletion<T>,
                 _ body: @escaping @Sendable (PostgresConnection) throws -> Result<T, ChatError>) {
        readers.submit { db, error, lastTry in
            guard let db else {
                completion(.failure(.unavailable("\(error.map { "\($0)" } ?? "no connection")")))
                return true
            }
            let result: Result<T, ChatError>
            do { result = try body(db) } catch {
                if !lastTry, db.isBroken { return false }
                result = .failure(.unavailable("\(error)"))
            }
            completion(result)
            return true
        }
    }

    /// Queues a write for the next group commit; `completion` runs after COMMIT (or with `unavailable`).
    func write<T: Sendable>(_ completion: @escaping StoreCompletion<T>, post: PostRequest? = nil,
                            _ body: @escaping @Sendable (PostgresBatch) throws -> Result<T, ChatError>) {
        writer.submit(PostgresWriteJob(post: post, apply: { batch in
            let result = try body(batch)
            return { completion(result) }
        }, fail: { error in
            completion(.failure(.unavailable("\(error)")))
        }))
    }
}
