// File chunks already read from PostgreSQL, kept in memory (issue 15 on issue 11's store).
import Synchronization

/// A stored file never changes (its row is written when the upload is sealed, and files are never deleted), so a
/// chunk once read can be served again from memory. Reading a 256 KiB chunk costs PostgreSQL a TOAST fetch of
/// ~130 tuples and the copy through libpq; a file posted to a busy room is downloaded by everyone in it. Access is
/// not cached: `ChatService.openFile` checks it on every request before any chunk is asked for.
/// Bounded by bytes (`maxBytes`); past it the oldest chunks go first.
final class PostgresChunkCache: Sendable {
    static let maxBytes = 32 << 20

    struct Key: Hashable {
        let file: String
        let index: Int
    }

    private struct State: ~Copyable {
        var chunks: [Key: [UInt8]] = [:]
        var order: [Key] = []                    // insertion order; order[head...] are held
        var head = 0
        var bytes = 0
    }

    private let state = Mutex(State())

    func chunk(_ key: Key) -> [UInt8]? {
        state.withLock { $0.chunks[key] }
    }

    func remember(_ chunk: [UInt8], for key: Key) {
        guard chunk.count <= Self.maxBytes else { return }
        state.withLock { s in
            guard s.chunks[key] == nil else { return }
            s.chunks[key] = chunk
            s.order.append(key)
            s.bytes += chunk.count
            while s.bytes > Self.maxBytes, s.head < s.order.count {
                if let gone = s.chunks.removeValue(forKey: s.order[s.head]) { s.bytes -= gone.count }
                s.head += 1
            }
            if s.head > 1024, s.head * 2 > s.order.count {
                s.order.removeFirst(s.head)
                s.head = 0
            }
        }
    }

    var heldBytes: Int { state.withLock { $0.bytes } }
}
