// `konnect bench` verification: each reader gets every seq of its room exactly once and in order; every 201 is kept.

/// One delivery fault, printed when a run fails. API.md: seqs are 1, 2, 3, … with no gaps, in commit order.
enum DeliveryFault: Equatable, CustomStringConvertible, Codable {
    case gap(expected: Int, got: Int)        // seqs skipped (they may still come late: then also a reorder)
    case duplicate(seq: Int)                 // a seq delivered twice
    case reorder(seq: Int, after: Int)       // a seq delivered after a higher one
    case missing(from: Int, to: Int)         // never delivered by the end of the run (a loss)
    case lostPost(seq: Int, id: String)      // a 201 whose message is not in history
    case wrongMessage(seq: Int, expected: String, found: String)   // history has another message at that seq
    case extraMessage(seq: Int)              // history holds a message no 201 accounts for (e.g. a retried post stored twice)
    case badPage(query: String, got: String) // a history page that is not the contiguous run the query names
    case feedOrder(pos: Int, after: Int)     // a feed event at or below a position already delivered

    var description: String {
        switch self {
        case .gap(let e, let g): return "gap: expected seq \(e), got \(g)"
        case .duplicate(let s): return "duplicate: seq \(s) delivered again"
        case .reorder(let s, let a): return "reordering: seq \(s) arrived after seq \(a)"
        case .missing(let f, let t): return f == t ? "loss: seq \(f) never delivered" : "loss: seqs \(f)…\(t) never delivered"
        case .lostPost(let s, let id): return "loss: posted message \(id) (seq \(s), answered 201) is not in history"
        case .wrongMessage(let s, let e, let f): return "history: seq \(s) is \(f), the 201 said \(e)"
        case .extraMessage(let s): return "history: seq \(s) was stored but no post was answered with it"
        case .badPage(let q, let g): return "history page \(q) answered seqs \(g)"
        case .feedOrder(let p, let a): return "feed: event at pos \(p) arrived after pos \(a)"
        }
    }
}

/// Checks one reader's stream of seqs (it starts after `after`). Feed `receive` in arrival order, then `finish`.
struct DeliveryVerifier {
    private(set) var last: Int                  // highest seq received
    private(set) var received = 0               // seqs received, duplicates included
    private var late: Set<Int> = []             // skipped seqs not (yet) delivered
    private(set) var faults: [DeliveryFault] = []
    static let maxLateTracked = 100_000         // a huge gap is reported, not materialised

    init(after: Int) { last = after }

    mutating func receive(_ seq: Int) {
        received += 1
        if seq == last + 1 {
            last = seq
        } else if seq > last + 1 {
            faults.append(.gap(expected: last + 1, got: seq))
            if seq - last - 1 <= DeliveryVerifier.maxLateTracked { for s in (last + 1)..<seq { late.insert(s) } }
            last = seq
        } else if late.remove(seq) != nil {
            faults.append(.reorder(seq: seq, after: last))
        } else {
            faults.append(.duplicate(seq: seq))
        }
    }

    /// The faults, counting seqs up to `expectedLast` that never came as losses.
    func finish(expectedLast: Int) -> [DeliveryFault] {
        var all = faults
        for run in DeliveryVerifier.runs(late.sorted()) { all.append(.missing(from: run.0, to: run.1)) }
        if last < expectedLast { all.append(.missing(from: last + 1, to: expectedLast)) }
        return all
    }

    /// Sorted values → consecutive runs (for short loss reports).
    static func runs(_ sorted: [Int]) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        for v in sorted {
            if let lastRun = out.last, lastRun.1 + 1 == v { out[out.count - 1].1 = v } else { out.append((v, v)) }
        }
        return out
    }
}

/// Checks a room's history (read back with `after=` paging) against the posts that were answered 201/200.
struct HistoryVerifier {
    /// `history` is (seq, id) in the order the server paged it; `posted` maps seq → id from the posts' answers;
    /// `expectedFirst` is the first seq the run wrote (the room is its own, so everything from it on is ours).
    static func check(history: [(seq: Int, id: String)], posted: [Int: String], expectedFirst: Int = 1) -> [DeliveryFault] {
        var faults: [DeliveryFault] = []
        var verifier = DeliveryVerifier(after: expectedFirst - 1)
        var stored: [Int: String] = [:]
        for message in history {
            verifier.receive(message.seq)
            stored[message.seq] = message.id
        }
        let highestPosted = posted.keys.max() ?? 0
        faults += verifier.finish(expectedLast: highestPosted)
        for (seq, id) in posted.sorted(by: { $0.key < $1.key }) {
            guard let found = stored[seq] else {
                faults.append(.lostPost(seq: seq, id: id))
                continue
            }
            if found != id { faults.append(.wrongMessage(seq: seq, expected: id, found: found)) }
        }
        for seq in stored.keys.sorted() where seq >= expectedFirst && posted[seq] == nil {
            faults.append(.extraMessage(seq: seq))
        }
        return faults
    }
}
