// A pooled reader connection with what it has read, kept for as long as SQLite says the file is unchanged.
import Chat
import CSQLite

/// One reader connection plus its cache of token lookups and history pages. Checked out by one thread at a time
/// (the store's pool), so nothing here locks.
///
/// Why the cache is exactly as fresh as an uncached read, across server instances sharing the file:
/// `PRAGMA data_version` answers a value that changes whenever ANY OTHER connection committed to the file — this
/// process's writer or another process — since this connection last asked (sqlite.org/pragma.html#pragma_data_version).
/// Every cached read asks first and drops everything when it moved. Reader connections never write, so no commit
/// escapes the check. A logout elsewhere therefore fails the token on the next request here, and a post
/// elsewhere is in the next page (../shared/API.md: "that token fails with 401 from then on, on every server
/// instance"). What is cached was read after the check that validated it, so it is never older than that check.
final class SQLiteReader: @unchecked Sendable {
    let db: SQLiteConnection
    private let versionStatement: OpaquePointer     // PRAGMA data_version, prepared once
    private var dataVersion: Int64?                 // nil: nothing checked yet, the cache is empty
    private var walIndex: WALIndexHeader?           // nil: not in WAL mode (or no -shm yet); always the full check
    private var checkedHeader: WALIndexHeader.Snapshot?   // read just before the last full check
    private var tokens: [TokenKey: TokenEntry] = [:]
    private var pages: [PageKey: HistoryPage] = [:]
    private var pageBytes = 0                       // rough size of `pages` (text bytes plus per-message overhead)
    private(set) var hits = 0                       // answers served from the cache (tests check it is used)
    private(set) var quickChecks = 0                // revalidations settled by the WAL-index header alone

    /// Bounds per connection (there are about as many readers as event loops). When one is exceeded that map is
    /// dropped whole: cheap, rare, and no bookkeeping on the hot path.
    static let maxTokens = 4096
    static let maxPages = 256
    static let maxPageBytes = 4 << 20

    struct TokenEntry {
        let user: User
        let expiresAt: Int64
    }

    struct PageKey: Hashable {
        let room: String
        let cursor: HistoryCursor
        let limit: Int
    }

    /// A SHA-256 as four words: hashes and compares faster than a `[UInt8]` key.
    struct TokenKey: Hashable {
        let a: UInt64, b: UInt64, c: UInt64, d: UInt64
        init?(_ hash: [UInt8]) {
            guard hash.count == 32 else { return nil }
            (a, b, c, d) = hash.withUnsafeBytes { raw in
                (raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                 raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
            }
        }
    }

    init(path: String) throws {
        db = try SQLiteConnection(path: path)
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(db.handle, SQL.dataVersion, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw db.error(rc) }
        versionStatement = stmt
        try revalidate()                            // opens the WAL and its -shm, so it can be mapped
        walIndex = WALIndexHeader(databasePath: String(cString: sqlite3_db_filename(db.handle, "main")))
    }

    deinit {
        sqlite3_finalize(versionStatement)
    }

    /// Drops the cache if another connection committed since the last check. Call once per cached read, before
    /// looking anything up. When the WAL-index header is unchanged since it was read just before the last full
    /// check, nothing was committed since that check: done without a read transaction. Otherwise the full check;
    /// the header is read BEFORE it, so a commit landing in between is seen next time, never missed.
    func revalidate() throws {
        let header = walIndex?.read()
        if let header, header == checkedHeader {
            quickChecks += 1
            return
        }
        try checkDataVersion()
        checkedHeader = header
    }

    private func checkDataVersion() throws {
        defer { sqlite3_reset(versionStatement) }
        guard sqlite3_step(versionStatement) == SQLITE_ROW else { throw db.error(sqlite3_errcode(db.handle)) }
        let version = sqlite3_column_int64(versionStatement, 0)
        if version == dataVersion { return }
        dataVersion = version
        tokens.removeAll()
        pages.removeAll()
        pageBytes = 0
    }

    // MARK: tokens

    func token(_ key: TokenKey) -> TokenEntry? {
        guard let entry = tokens[key] else { return nil }
        hits += 1
        return entry
    }

    func remember(_ entry: TokenEntry, for key: TokenKey) {
        if tokens.count >= Self.maxTokens { tokens.removeAll() }
        tokens[key] = entry
    }

    // MARK: history pages

    func page(_ key: PageKey) -> HistoryPage? {
        guard let page = pages[key] else { return nil }
        hits += 1
        return page
    }

    func remember(_ page: HistoryPage, for key: PageKey) {
        var size = 64
        for m in page.messages { size += 96 + m.text.utf8.count + m.user.utf8.count }
        guard size <= Self.maxPageBytes / 4 else { return }     // a huge page is not worth evicting others for
        if pages.count >= Self.maxPages || pageBytes + size > Self.maxPageBytes {
            pages.removeAll()
            pageBytes = 0
        }
        pages[key] = page
        pageBytes += size
    }
}
