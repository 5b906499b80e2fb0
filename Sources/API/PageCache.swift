// Encoded history pages by identity: 10,000 pollers woken by one post share one encoding (contract long-poll).
import Synchronization
import Chat

/// Messages never change once stored, so a page is identified by its room, the seqs it spans, `has_more` and
/// `last_seq`; equal keys mean byte-identical JSON.
final class PageCache: Sendable {
    struct Key: Hashable {
        var room: String
        var first: Int64
        var last: Int64
        var count: Int
        var hasMore: Bool
        var lastSeq: Int64
    }

    private struct State {
        var entries: [Key: [UInt8]] = [:]
        var bytes = 0                    // sum of the cached bodies' sizes
    }

    private let state = Mutex(State())
    /// Bounds on what is kept: pages can reach ~3 MB (200 messages of 4,000 four-byte characters), so the budget
    /// is in bytes as well as entries. When either is exceeded the whole cache is dropped (cheap, rare).
    private let maxEntries = 512
    private let maxBytes = 32 << 20

    func encoded(_ page: HistoryPage) -> [UInt8] {
        let key = Key(room: page.room, first: page.messages.first?.seq ?? 0, last: page.messages.last?.seq ?? 0,
                      count: page.messages.count, hasMore: page.hasMore, lastSeq: page.lastSeq)
        if let hit = state.withLock({ $0.entries[key] }) { return hit }
        let bytes = ChatJSON.page(page)     // encoded outside the lock; a racing duplicate is harmless
        state.withLock { s in
            if s.entries.count >= maxEntries || s.bytes + bytes.count > maxBytes {
                s.entries.removeAll(keepingCapacity: true)
                s.bytes = 0
            }
            if s.entries.updateValue(bytes, forKey: key) == nil { s.bytes += bytes.count }
        }
        return bytes
    }
}

/// Each room's newest seq as seen in pages and posts (only ever raised): a long-poll's deadline answers with it.
final class LastSeqCache: Sendable {
    private let seqs = Mutex<[String: Int64]>([:])

    func observe(room: String, lastSeq: Int64) {
        seqs.withLock { if lastSeq > ($0[room] ?? -1) { $0[room] = lastSeq } }
    }

    func value(room: String) -> Int64? { seqs.withLock { $0[room] } }
}

/// Encoded feed pages (GET /events), so one post woken into many followers' identical pages is encoded once. An
/// event at a position is the same for everyone it reaches (a message; a joined/left belongs to one member), so
/// the positions, `next` and `has_more` identify the bytes.
final class FeedPageCache: Sendable {
    struct Key: Hashable {
        var positions: [Int64]
        var next: Int64
        var hasMore: Bool
    }

    private let entries = Mutex<[Key: [UInt8]]>([:])
    private let maxEntries = 256

    func encoded(_ page: FeedPage) -> [UInt8] {
        guard !page.events.isEmpty, page.events.count <= 8 else { return ChatJSON.feedPage(page) }   // the fan-out case
        let key = Key(positions: page.events.map(\.pos), next: page.next, hasMore: page.hasMore)
        if let hit = entries.withLock({ $0[key] }) { return hit }
        let bytes = ChatJSON.feedPage(page)
        entries.withLock { e in
            if e.count >= maxEntries { e.removeAll(keepingCapacity: true) }
            e[key] = bytes
        }
        return bytes
    }
}
