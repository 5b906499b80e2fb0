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

    private let entries = Mutex<[Key: [UInt8]]>([:])
    private let capacity = 512           // distinct pages kept; the whole cache is dropped when full (cheap, rare)

    func encoded(_ page: HistoryPage) -> [UInt8] {
        let key = Key(room: page.room, first: page.messages.first?.seq ?? 0, last: page.messages.last?.seq ?? 0,
                      count: page.messages.count, hasMore: page.hasMore, lastSeq: page.lastSeq)
        if let hit = entries.withLock({ $0[key] }) { return hit }
        let bytes = ChatJSON.page(page)     // encoded outside the lock; a racing duplicate is harmless
        entries.withLock { cache in
            if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            cache[key] = bytes
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
