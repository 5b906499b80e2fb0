// A read-only view of the WAL-index header in the `-shm` file: "has anyone committed?" without a read transaction.
import Glibc

/// SQLite's WAL-index header (sqlite.org/walformat.html §2.2.1, "the wal-index header"): the first 96 bytes of
/// the `-shm` file are two copies of a 48-byte header that every commit rewrites (new mxFrame, frame checksum,
/// change counter; new salts after a WAL restart) — it is how SQLite's own readers notice a change. Writers
/// update the second copy, then the first; a reader that sees both equal has an untorn header.
///
/// If the header read now equals one read earlier, no connection of any process committed in between. That is
/// what lets a reader skip `PRAGMA data_version` (a read transaction: two fcntl locks on the shm) when nothing
/// changed. Anything unexpected — no `-shm` file (not WAL), a short file, an uninitialised or torn header —
/// answers nil, and the caller then does the full check, so this can only ever save work, never skip a change.
///
/// The mapping stays valid while this process has the database open in WAL mode: the connection that opened the
/// `-shm` holds its shared "DMS" lock, and SQLite truncates or deletes the file only under the exclusive one.
final class WALIndexHeader: @unchecked Sendable {
    /// Two copies of the 48-byte header, as words.
    struct Snapshot: Equatable {
        var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
        static func == (a: Snapshot, b: Snapshot) -> Bool {
            a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2
                && a.words.3 == b.words.3 && a.words.4 == b.words.4 && a.words.5 == b.words.5
        }
    }

    private static let mappedBytes = 4096          // one page; the header is its first 96 bytes
    private let base: UnsafeRawPointer

    /// Maps `<database>-shm`; nil when it is missing or too short (the caller then always does the full check).
    init?(databasePath: String) {
        let fd = open(databasePath + "-shm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size >= Self.mappedBytes else { return nil }
        let mapped = mmap(nil, Self.mappedBytes, PROT_READ, MAP_SHARED, fd, 0)
        guard let mapped, mapped != MAP_FAILED else { return nil }
        base = UnsafeRawPointer(mapped)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), Self.mappedBytes)
    }

    /// The header now, or nil if it is not initialised or its two copies differ (a commit is being written).
    func read() -> Snapshot? {
        func copy(_ offset: Int) -> Snapshot {
            func word(_ i: Int) -> UInt64 { base.load(fromByteOffset: offset + 8 * i, as: UInt64.self) }
            return Snapshot(words: (word(0), word(1), word(2), word(3), word(4), word(5)))
        }
        let first = copy(0), second = copy(48)
        // isInit is the byte at offset 12 (after iVersion, unused, iChange): 0 until the header was written.
        guard first == second, base.load(fromByteOffset: 12, as: UInt8.self) == 1 else { return nil }
        return first
    }
}
