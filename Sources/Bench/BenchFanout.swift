// `konnect bench fanout`: N long-polls parked on one room, P posts one at a time, delay until each subscriber has it.
import Foundation
import Transport

enum BenchFanout {
    /// Subscribers one process carries at most (open files are capped at 20,000 per process: leave room).
    static func perProcessLimit() -> Int {
        let limit = konnectRaiseOpenFiles()
        return Swift.max(100, Swift.min(18_000, limit - 1_000))
    }

    static func run(_ o: BenchOptions, _ setup: BenchSetup) throws -> BenchResult {
        try setup.makeUsers(o.users)
        let room = try setup.makeRoom(0)
        var result = BenchResult(scenario: "fanout", server: o.server)
        result.parameters = ["subscribers": "\(o.subscribers)", "posts": "\(o.posts)", "room": room]

        let shards = try makeShards(o, setup, room: room)
        defer { for case let remote as RemoteShard in shards where remote.process.isRunning { remote.process.terminate() } }
        let started = monotonicNanos()
        guard waitUntil(timeout: 120, poll: 0.01, { shards.reduce(0) { $0 + $1.polling } >= o.subscribers }) else {
            throw BenchError("only \(shards.reduce(0) { $0 + $1.polling }) of \(o.subscribers) subscribers started polling")
        }
        // Parked, per the server's own gauge when it has one (API.md /metrics: parked polls); else a short settle.
        var parked = setup.parkedPolls()
        if parked != nil {
            _ = waitUntil(timeout: 60, poll: 0.05) { parked = setup.parkedPolls(); return (parked ?? 0) >= o.subscribers }
        } else {
            usleep(1_000_000)
        }
        result.metrics["connect_and_park_s"] = Double(monotonicNanos() - started) / 1e9
        if let parked { result.metrics["server_parked_polls"] = Double(parked) }
        if let pid = o.serverPID, let rss = residentBytes(pid: pid) { result.metrics["server_rss_parked_mb"] = Double(rss) / 1_048_576 }

        var posted: [Int: String] = [:]
        var postLatency = Latencies()
        var late = 0
        var lastSeq = 0
        for p in 1...o.posts {
            let sentAt = monotonicNanos()
            let answer = try setup.post(room: room, text: "fanout \(p)", clientID: "t\(sentAt)-0-\(p)")
            postLatency.add(monotonicNanos() - sentAt)
            posted[answer.seq] = answer.id
            lastSeq = Swift.max(lastSeq, answer.seq)
            // Next post only once every subscriber has this one (or the per-post timeout passes: a late delivery).
            if !waitUntil(timeout: o.postTimeout, poll: 0.0005, { shards.allSatisfy { $0.allHave(answer.seq) } }) { late += 1 }
        }
        if let pid = o.serverPID, let rss = residentBytes(pid: pid) { result.metrics["server_rss_after_mb"] = Double(rss) / 1_048_576 }

        var merged = ShardResult()
        for shard in shards { merged.merge(try shard.finish(expectedLast: lastSeq)) }
        var delays = Latencies()
        delays.merge(nanos: merged.delays)
        result.latency["delivery"] = delays.summary()
        result.latency["post"] = postLatency.summary()
        result.metrics["pairs_expected"] = Double(o.subscribers * o.posts)
        result.metrics["pairs_delivered"] = Double(delays.count)
        result.metrics["misses"] = Double(merged.missingPairs)
        result.metrics["posts_late"] = Double(late)
        result.metrics["worker_processes"] = Double(shards.filter { $0 is RemoteShard }.count)
        result.errors = merged.errors
        result.addFaults(merged.faults, count: merged.faultCount)
        result.addFaults(HistoryVerifier.check(history: try setup.history(room: room), posted: posted))
        return result
    }

    /// All in this process when they fit; else equal shares in worker children.
    static func makeShards(_ o: BenchOptions, _ setup: BenchSetup, room: String) throws -> [SubscriberShard] {
        let limit = Swift.min(perProcessLimit(), o.perProcess ?? Int.max)
        if o.subscribers <= limit {
            let loops = try BenchLoops(count: o.loops, address: setup.address, host: setup.hostHeader)
            return [LocalShard(loops: loops, room: room, tokens: setup.tokens, after: 0, count: o.subscribers,
                               wait: o.wait, plant: o.plant)]
        }
        let workers = (o.subscribers + limit - 1) / limit
        var shards: [SubscriberShard] = []
        for w in 0..<workers {
            let count = o.subscribers / workers + (w < o.subscribers % workers ? 1 : 0)
            shards.append(try RemoteShard(options: o, room: room, tokens: setup.tokens, after: 0, count: count,
                                          plant: w == 0 ? o.plant : nil))
        }
        return shards
    }
}
