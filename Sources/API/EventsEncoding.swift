// Encoded feed events shared by every stream they go to: one post to 10,000 ndjson/SSE followers is encoded once.
import Chat
import Synchronization

/// A message event's JSON by (pos, message id): the same bytes for everyone it reaches (API.md "The feed": a
/// message event is its room's, not the reader's). The id keeps servers of one process (tests) apart. joined/left
/// events belong to one member and are encoded each time. Bounded: dropped whole when full (cheap, rare).
final class FeedEventCache: Sendable {
    struct Key: Hashable {
        var pos: Int64
        var id: String
    }

    static let shared = FeedEventCache()

    private let entries = Mutex<[Key: [UInt8]]>([:])
    private let maxEntries = 2048
    private let counts = Mutex((hits: 0, misses: 0))

    func bytes(_ e: FeedEvent) -> [UInt8] {
        guard case .message(let m) = e.kind else { return ChatJSON.eventBytes(e) }
        let key = Key(pos: e.pos, id: m.id)
        if let hit = entries.withLock({ $0[key] }) {
            counts.withLock { $0.hits += 1 }
            return hit
        }
        let bytes = ChatJSON.eventBytes(e)      // outside the lock; a racing duplicate is harmless
        entries.withLock { c in
            if c.count >= maxEntries { c.removeAll(keepingCapacity: true) }
            c[key] = bytes
        }
        counts.withLock { $0.misses += 1 }
        return bytes
    }

    /// Encodings served from the cache and made (for tests).
    var hitsAndMisses: (hits: Int, misses: Int) { counts.withLock { $0 } }
}
