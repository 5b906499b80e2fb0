// A pooled reader connection with what it has read, kept for as long as SQLite says the file is unchanged.
import Chat
import CSQLite

/// One reader connection plus its cache of token lookups and history pages. Checked out by one thread at a time
/// (the store's pool), so nothing here locks.
///
/// Why the cache is exactly as fresh as an uncached read, across server instances sharing the file:
/// `PRAGMA data_version` answers a value that changes whenever ANY OTHER connection committed to the file — this
/// process's writer or another process — since this connection last asked (sqlite.org/pragma.html#pragma_data_version).
/// Every cached read asks first. Reader connections never write, so no commit escapes the check. When it moved,
/// what might have changed is looked up rather than assumed, so that posts (which commit all the time) do not
/// empty caches they cannot affect:
/// - tokens: the `tokens` generation (schema v4) is read in the same statement as the version; triggers bump it in
///   the transaction of any token or user deleted or updated (logout, expiry purge, anything by hand), so an
///   unchanged generation means every cached token row is unchanged. Inserted tokens were never cached (unknown
///   tokens are not), so logins need no bump.
/// - pages: messages are only ever inserted, each with its room's `last_seq` moved to it in the same transaction,
///   so a room whose `last_seq` did not move has exactly the messages it had, and every page of it (any cursor)
///   is unchanged. Each room's pages are rechecked against `last_seq` on first use after the version moved
///   (`epoch`); anything else (edits, deletes, renames) bumps the `history` generation, which drops all pages.
/// - room access (schema v5): each (room, user) pair asked — whether the room exists, its visibility and owner,
///   and whether the user is a member — is kept until the `members` generation moves; triggers bump it on any
///   membership added or removed and any room created, removed or changed other than by a post. A member removed
///   on another instance is therefore refused here from their next request, and no request pays a query for
///   its membership check once its pair is known. Absent rooms are kept too (a room's creation bumps), so a name
///   never created and a room that does not admit the caller cost the same: one lookup in this map.
/// A logout elsewhere therefore fails the token on the next request here, and a post elsewhere is in the next
/// page (../shared/API.md: "that token fails with 401 from then on, on every server instance"). What is cached
/// or rechecked was read after the check that validated it, so it is never older than that check.
final class SQLiteReader: @unchecked Sendable {
    let db: SQLiteConnection
    private let stateStatement: OpaquePointer       // SQL.cacheState, prepared once
    private var dataVersion: Int64?                 // nil: nothing checked yet, the cache is empty
    private var tokenGeneration: Int64?             // nil: unknown, so what is cached goes at the next change
    private var historyGeneration: Int64?
    private var membersGeneration: Int64?
    private var epoch = 0                           // moves with dataVersion; rooms checked in an older one recheck
    private var walIndex: WALIndexHeader?           // nil: not in WAL mode (or no -shm yet); always the full check
    private var checkedHeader: WALIndexHeader.Snapshot?   // read just before the last full check
    private var tokens: [TokenKey: TokenEntry] = [:]
    private var access: [AccessKey: RoomAccess?] = [:]   // nil value: no such room
    private var rooms: [String: RoomPages] = [:]
    private var pageCount = 0
    private var pageBytes = 0                       // rough size of all pages (text bytes plus per-message overhead)
    private(set) var tokenHits = 0                  // answers served from the cache (tests check it is used)
    private(set) var pageHits = 0
    private(set) var accessHits = 0
    private(set) var quickChecks = 0                // revalidations settled by the WAL-index header alone
    var hits: Int { tokenHits + pageHits + accessHits }

    /// One room's cached pages, all read while the room's last_seq was `lastSeq`.
    struct RoomPages {
        var lastSeq: Int64
        var checkedEpoch: Int                       // last_seq known current as of this epoch's check
        var pages: [PageKey: HistoryPage] = [:]
        var bytes = 0
    }

    /// Bounds per connection (there are about as many readers as event loops). When one is exceeded that map is
    /// dropped whole: cheap, rare, and no bookkeeping on the hot path.
    static let maxTokens = 16_384                  // ~100 bytes each: 10,000 bots following /events all stay held
    static let maxAccess = 8192
    static let maxPages = 256
    static let maxPageBytes = 4 << 20

    struct TokenEntry {
        let user: User
        let expiresAt: Int64
    }

    struct AccessKey: Hashable {
        let room: String
        let username: String                        // as the caller passed it (the registered form, usually)
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
        let rc = sqlite3_prepare_v3(db.handle, SQL.cacheState, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw db.error(rc) }
        stateStatement = stmt
        try revalidate()                            // opens the WAL and its -shm, so it can be mapped
        walIndex = WALIndexHeader(databasePath: String(cString: sqlite3_db_filename(db.handle, "main")))
    }

    deinit {
        sqlite3_finalize(stateStatement)
    }

    /// Drops what another connection's commit may have changed since the last check. Call once per cached read,
    /// before looking anything up. When the WAL-index header is unchanged since it was read just before the last
    /// full check, nothing was committed since that check: done without a read transaction. Otherwise the full
    /// check; the header is read BEFORE it, so a commit landing in between is seen next time, never missed.
    func revalidate() throws {
        let header = walIndex?.read()
        if let header, header == checkedHeader {
            quickChecks += 1
            return
        }
        try checkState()
        checkedHeader = header
    }

    /// Version and generations in one statement (one read transaction, one snapshot).
    private func checkState() throws {
        defer { sqlite3_reset(stateStatement) }
        guard sqlite3_step(stateStatement) == SQLITE_ROW else { throw db.error(sqlite3_errcode(db.handle)) }
        let version = sqlite3_column_int64(stateStatement, 0)
        if version == dataVersion { return }
        dataVersion = version
        epoch += 1
        let tokenGen = generation(1), historyGen = generation(2), membersGen = generation(3)
        if membersGen == nil || membersGen != membersGeneration {
            membersGeneration = membersGen
            access.removeAll()
        }
        if tokenGen == nil || tokenGen != tokenGeneration {
            tokenGeneration = tokenGen
            tokens.removeAll()
        }
        if historyGen == nil || historyGen != historyGeneration {
            historyGeneration = historyGen
            dropPages()
        }
    }

    private func generation(_ column: Int32) -> Int64? {
        sqlite3_column_type(stateStatement, column) == SQLITE_NULL ? nil : sqlite3_column_int64(stateStatement, column)
    }

    // MARK: tokens

    func token(_ key: TokenKey) -> TokenEntry? {
        guard let entry = tokens[key] else { return nil }
        tokenHits += 1
        return entry
    }

    func remember(_ entry: TokenEntry, for key: TokenKey) {
        if tokens.count >= Self.maxTokens { tokens.removeAll() }
        tokens[key] = entry
    }

    // MARK: room access

    /// `.some(nil)`: known to be absent; nil: not cached.
    func access(_ key: AccessKey) -> RoomAccess?? {
        guard let entry = access[key] else { return nil }
        accessHits += 1
        return .some(entry)
    }

    func remember(_ entry: RoomAccess?, for key: AccessKey) {
        if access.count >= Self.maxAccess { access.removeAll() }
        access[key] = .some(entry)
    }

    // MARK: history pages

    /// The cached page, if its room's last_seq is still the one it was read at (rechecked once per epoch; a
    /// failing recheck is a miss, and the caller's own read then reports the failure).
    func page(_ key: PageKey) -> HistoryPage? {
        guard var room = rooms[key.room] else { return nil }
        if room.checkedEpoch != epoch {
            let now = (try? db.query(SQL.roomLastSeq, [.text(key.room)]) { $0.int(0) })?.first
            guard now == room.lastSeq else {
                drop(room: key.room)
                return nil
            }
            room.checkedEpoch = epoch
            rooms[key.room] = room
        }
        guard let page = room.pages[key] else { return nil }
        pageHits += 1
        return page
    }

    /// Keeps `page`, read after this epoch's check. A page of a newer last_seq replaces the room's older pages.
    func remember(_ page: HistoryPage, for key: PageKey) {
        var size = 64
        for m in page.messages { size += 96 + m.text.utf8.count + m.user.utf8.count }
        guard size <= Self.maxPageBytes / 4 else { return }     // a huge page is not worth evicting others for
        if let known = rooms[key.room], known.lastSeq != page.lastSeq {
            guard known.lastSeq < page.lastSeq else { return }  // read before the room's check: cannot happen
            drop(room: key.room)
        }
        if pageCount >= Self.maxPages || pageBytes + size > Self.maxPageBytes { dropPages() }
        var room = rooms[key.room] ?? RoomPages(lastSeq: page.lastSeq, checkedEpoch: epoch)
        room.checkedEpoch = epoch           // same last_seq as of a read after this epoch's check
        guard room.pages.updateValue(page, forKey: key) == nil else { return }  // same last_seq: same page
        pageCount += 1
        room.bytes += size
        pageBytes += size
        rooms[key.room] = room
    }

    private func drop(room name: String) {
        guard let room = rooms.removeValue(forKey: name) else { return }
        pageCount -= room.pages.count
        pageBytes -= room.bytes
    }

    private func dropPages() {
        rooms.removeAll()
        pageCount = 0
        pageBytes = 0
    }
}
