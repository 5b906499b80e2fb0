// `konnect bench feed` / `feed-stream`: N followers of GET /events, each in 1 of R rooms, one post per room per round,
// against the same followers long-polling GET /messages on their rooms in the same run (issue 10's aims).
import Foundation
import Transport

enum BenchFeed {
    /// What one phase (one kind of follower) measured.
    struct Phase {
        var delivery = LatencySummary(count: 0, p50: 0, p90: 0, p99: 0, max: 0)
        var pairs = 0
        var misses = 0
        var lateRounds = 0
        var rssParked: Double?
        var rssAfter: Double?
        var connectSeconds = 0.0
        var merged = ShardResult()
    }

    /// `feed`: /messages, then long-poll /events; `feed-stream`: /messages, then ndjson /events. Both phases use the
    /// same users, rooms, memberships and posting; each follower is verified (every post of its room exactly once,
    /// in order; feed positions rising) and every 201 is checked against history at the end.
    static func run(_ o: BenchOptions, _ setup: BenchSetup, stream: Bool) throws -> BenchResult {
        let name = stream ? "feed-stream" : "feed"
        var result = BenchResult(scenario: name, server: o.server)
        result.parameters = ["followers": "\(o.subscribers)", "rooms": "\(o.rooms)", "rounds": "\(o.rounds)"]
        let started = monotonicNanos()
        try setup.makeUsers(1)
        let rooms = try (0..<o.rooms).map { try setup.makeRoom($0) }
        let setupLoops = try BenchLoops(count: o.loops, address: setup.address, host: setup.hostHeader)
        let followers = try setup.makeBots(o.subscribers, tag: "f", loops: setupLoops)
        let posters = try setup.makeBots(o.rooms, tag: "p", loops: setupLoops)
        try setup.addMembers(followers.indices.map { (rooms[$0 % rooms.count], followers[$0].name) }, loops: setupLoops)
        setupLoops.stop()
        result.metrics["setup_s"] = Double(monotonicNanos() - started) / 1e9
        let assignments = followers.indices.map { FollowerAssignment(room: rooms[$0 % rooms.count], token: followers[$0].token) }
        let poster = try RoundPoster(address: setup.address, host: setup.hostHeader, rooms: rooms, tokens: posters.map(\.token))
        defer { poster.stop() }

        var seq = 0                                   // every room's newest seq (each phase posts `rounds` to each)
        for (label, kind) in [("messages", FollowerKind.messages), ("feed", stream ? .stream : .feed)] {
            let phase = try runPhase(kind, o, setup, assignments, poster: poster, after: seq)
            seq += o.rounds
            result.latency["\(label)_delivery"] = phase.delivery
            result.metrics["\(label)_misses"] = Double(phase.misses)
            result.metrics["\(label)_pairs_delivered"] = Double(phase.pairs)
            result.metrics["\(label)_late_rounds"] = Double(phase.lateRounds)
            result.metrics["\(label)_connect_s"] = phase.connectSeconds
            if let rss = phase.rssParked { result.metrics["\(label)_server_rss_parked_mb"] = rss }
            if let rss = phase.rssAfter { result.metrics["\(label)_server_rss_after_mb"] = rss }
            for (key, n) in phase.merged.errors { result.errors["\(label): \(key)", default: 0] += n }
            result.addFaults(phase.merged.faults, count: phase.merged.faultCount)
        }
        result.metrics["pairs_expected_per_phase"] = Double(o.subscribers * o.rounds)
        if let m = result.latency["messages_delivery"], let f = result.latency["feed_delivery"], m.p99 > 0 {
            result.metrics["ratio_p99_feed_to_messages"] = f.p99 / m.p99
        }
        result.latency["post"] = poster.latencies.summary()
        for (i, room) in rooms.enumerated() {
            result.addFaults(HistoryVerifier.check(history: try setup.history(room: room), posted: poster.posted[i]))
        }
        return result
    }

    /// Starts the followers (from each room's seq `after`, and the feed's position now), waits until the server
    /// holds them all, posts `rounds` rounds — each once every follower has the last — and verifies.
    static func runPhase(_ kind: FollowerKind, _ o: BenchOptions, _ setup: BenchSetup, _ assignments: [FollowerAssignment],
                         poster: RoundPoster, after: Int) throws -> Phase {
        var phase = Phase()
        let feedAfter = kind == .messages ? 0 : try setup.feedPosition()
        let started = monotonicNanos()
        let shards = try makeShards(kind, o, setup, assignments, after: after, feedAfter: feedAfter)
        defer { for case let remote as RemoteShard in shards where remote.process.isRunning { remote.process.terminate() } }
        guard waitUntil(timeout: 120, poll: 0.01, { shards.reduce(0) { $0 + $1.polling } >= assignments.count }) else {
            throw BenchError("only \(shards.reduce(0) { $0 + $1.polling }) of \(assignments.count) \(kind) followers started")
        }
        // Held, per the server's own gauge (API.md /metrics): parked polls, or feed followers (held and streaming).
        let gauge = kind == .messages ? "konnect_parked_polls" : "konnect_feed_followers"
        if setup.gauge(gauge) != nil {
            _ = waitUntil(timeout: 60, poll: 0.05) { (setup.gauge(gauge) ?? 0) >= assignments.count }
        } else {
            usleep(1_000_000)
        }
        phase.connectSeconds = Double(monotonicNanos() - started) / 1e9
        if let pid = o.serverPID, let rss = residentBytes(pid: pid) { phase.rssParked = Double(rss) / 1_048_576 }
        for r in 1...o.rounds {
            try poster.round(r, timeout: o.postTimeout)
            if !waitUntil(timeout: o.postTimeout, poll: 0.0005, { shards.allSatisfy { $0.allHave(after + r) } }) { phase.lateRounds += 1 }
        }
        if let pid = o.serverPID, let rss = residentBytes(pid: pid) { phase.rssAfter = Double(rss) / 1_048_576 }
        for shard in shards { phase.merged.merge(try shard.finish(expectedLast: after + o.rounds)) }
        var delays = Latencies()
        delays.merge(nanos: phase.merged.delays)
        phase.delivery = delays.summary()
        phase.pairs = delays.count
        phase.misses = phase.merged.missingPairs
        return phase
    }

    /// All in this process when they fit; else equal shares in worker children (as `fanout`).
    static func makeShards(_ kind: FollowerKind, _ o: BenchOptions, _ setup: BenchSetup, _ assignments: [FollowerAssignment],
                           after: Int, feedAfter: Int) throws -> [SubscriberShard] {
        let limit = Swift.min(BenchFanout.perProcessLimit(), o.perProcess ?? Int.max)
        if assignments.count <= limit {
            let loops = try BenchLoops(count: o.loops, address: setup.address, host: setup.hostHeader)
            return [LocalShard(loops: loops, kind: kind, assignments: assignments, after: after, feedAfter: feedAfter,
                               wait: o.wait, plant: o.plant)]
        }
        let workers = (assignments.count + limit - 1) / limit
        var shards: [SubscriberShard] = []
        var start = 0
        for w in 0..<workers {
            let count = assignments.count / workers + (w < assignments.count % workers ? 1 : 0)
            shards.append(try RemoteShard(options: o, kind: kind, assignments: Array(assignments[start..<(start + count)]),
                                          after: after, feedAfter: feedAfter, plant: w == 0 ? o.plant : nil))
            start += count
        }
        return shards
    }
}
