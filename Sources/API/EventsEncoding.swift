// Encoded feed events shared by every stream they go to: one post to 10,000 ndjson/SSE followers is encoded once.
import Chat
import Synchronization

/// A message event as a stream sends it — an ndjson line, or an SSE event (`id:`, `data:`, blank line) — by (pos,
/// message id): the same bytes for everyone it reaches (API.md "The feed": a message event is its room's, not the
/// reader's), shared, not copied, by every stream it goes to. The id keeps servers of one process (tests) apart.
/// joined/left events belong to one member and are encoded each time. Bounded: dropped whole when full.
final class FeedEventCache: Sendable {
    struct Key: Hashable {
        var pos: Int64
        var id: String
        var sse: Bool
    }

    static let shared = FeedEventCache()

    private let entries = Mutex<[Key: [UInt8]]>([:])
    private let maxEntries = 2048
    private let counts = Mutex((hits: 0, misses: 0))

    /// The event framed for a stream: `{…}\n`, or `id: N\ndata: {…}\n\n` for SSE.
    static func framed(_ e: FeedEvent, sse: Bool) -> [UInt8] {
        if !sse { return ChatJSON.eventBytes(e) + [10] }
        return Array("id: \(e.pos)\ndata: ".utf8) + ChatJSON.eventBytes(e) + Array("\n\n".utf8)
    }

    func bytes(_ e: FeedEvent, sse: Bool) -> [UInt8] {
        guard case .message(let m) = e.kind else { return Self.framed(e, sse: sse) }
        let key = Key(pos: e.pos, id: m.id, sse: sse)
        // Encoded under the lock: the streams' work queues (one per core) reach the same event at the same moment,
        // and encoding outside it let each of them encode it (a test caught 3 encodings for 2 forms).
        let (bytes, hit) = entries.withLock { c -> ([UInt8], Bool) in
            if let hit = c[key] { return (hit, true) }
            let bytes = Self.framed(e, sse: sse)
            if c.count >= maxEntries { c.removeAll(keepingCapacity: true) }
            c[key] = bytes
            return (bytes, false)
        }
        counts.withLock { if hit { $0.hits += 1 } else { $0.misses += 1 } }
        return bytes
    }

    /// Encodings served from the cache and made (for tests).
    var hitsAndMisses: (hits: Int, misses: Int) { counts.withLock { $0 } }
}
