// `konnect bench post` and `konnect bench history`: closed-loop clients for D seconds, then history is checked.
import Synchronization
import Transport

enum BenchLoad {
    /// C posters over `rooms` rooms for D seconds; every answered post must be in history, once, at its seq.
    static func post(_ o: BenchOptions, _ setup: BenchSetup) throws -> BenchResult {
        try setup.makeUsers(o.users)
        let rooms = try (0..<o.rooms).map { try setup.makeRoom($0) }
        var result = BenchResult(scenario: "post", server: o.server)
        result.parameters = ["clients": "\(o.clients)", "duration_s": "\(o.duration)", "rooms": "\(o.rooms)"]
        let loops = try BenchLoops(count: o.loops, address: setup.address, host: setup.hostHeader)
        let finished = Atomic<Int>(0)
        let started = monotonicNanos()
        let deadline = started + nanos(o.duration)
        let posters = (0..<o.clients).map { i in
            Poster(connection: loops.connection(i), index: i, room: rooms[i % rooms.count], token: setup.token(i),
                   deadline: deadline, stampSendTime: false, prefix: setup.prefix) { finished.add(1, ordering: .relaxed) }
        }
        loops.startStaggered(posters, loopOf: { $0 }) { $0.next() }
        guard waitUntil(timeout: o.duration + 90, poll: 0.01, { finished.load(ordering: .relaxed) == posters.count }) else {
            loops.stop()
            throw BenchError("posters did not finish within \(Int(o.duration + 90)) s")
        }
        let elapsed = Double(monotonicNanos() - started) / 1e9
        loops.stop()
        summarize(posters, rooms: rooms, elapsed: elapsed, into: &result)
        for (index, room) in rooms.enumerated() {
            var posted: [Int: String] = [:]
            for poster in posters where poster.index % rooms.count == index { posted.merge(poster.posted) { a, _ in a } }
            if index == 0 { plant(o.plant, into: &posted) }
            result.addFaults(HistoryVerifier.check(history: try setup.history(room: room), posted: posted),
                             tolerateExtra: posters.reduce(0) { $0 + $1.abandoned })
        }
        return result
    }

    /// `--plant-fault lost|extra`: falsifies the record of 201s, so the history check must fail the run.
    static func plant(_ fault: PlantedFault?, into posted: inout [Int: String]) {
        let newest = posted.keys.max() ?? 0
        switch fault {
        case .lost?: posted[newest + 1] = "planted-lost-post"
        case .extra?: posted[newest] = nil
        default: break
        }
    }

    static func summarize(_ posters: [Poster], rooms: [String], elapsed: Double, into result: inout BenchResult) {
        var latencies = Latencies()
        var count = 0
        for poster in posters {
            latencies.merge(poster.latencies)
            count += poster.posted.count
            result.errors.merge(poster.errors, uniquingKeysWith: +)
            result.addFaults(poster.faults)
        }
        result.metrics["posts"] = Double(count)
        result.metrics["posts_per_s"] = Double(count) / elapsed
        result.metrics["abandoned"] = Double(posters.reduce(0) { $0 + $1.abandoned })
        result.latency["post"] = latencies.summary()
    }

    /// Seeds one room with `seed` messages, then C readers fetch pages of 50 for D seconds.
    static func history(_ o: BenchOptions, _ setup: BenchSetup) throws -> BenchResult {
        try setup.makeUsers(o.users)
        let room = try setup.makeRoom(0)
        var result = BenchResult(scenario: "history", server: o.server)
        result.parameters = ["clients": "\(o.clients)", "duration_s": "\(o.duration)", "messages": "\(o.seed)"]
        var posted: [Int: String] = [:]
        for n in 1...o.seed {
            let answer = try setup.post(room: room, text: "history \(n)", clientID: "\(setup.prefix)-seed-\(n)")
            posted[answer.seq] = answer.id
        }
        result.addFaults(HistoryVerifier.check(history: try setup.history(room: room), posted: posted))
        let loops = try BenchLoops(count: o.loops, address: setup.address, host: setup.hostHeader)
        let finished = Atomic<Int>(0)
        let started = monotonicNanos()
        let deadline = started + nanos(o.duration)
        let readers = (0..<o.clients).map { i in
            HistoryReader(connection: loops.connection(i), room: room, token: setup.token(i), total: o.seed,
                          deadline: deadline) { finished.add(1, ordering: .relaxed) }
        }
        loops.startStaggered(readers, loopOf: { $0 }) { $0.next() }
        guard waitUntil(timeout: o.duration + 90, poll: 0.01, { finished.load(ordering: .relaxed) == readers.count }) else {
            loops.stop()
            throw BenchError("readers did not finish within \(Int(o.duration + 90)) s")
        }
        let elapsed = Double(monotonicNanos() - started) / 1e9
        loops.stop()
        var latencies = Latencies()
        for reader in readers {
            latencies.merge(reader.latencies)
            result.errors.merge(reader.errors, uniquingKeysWith: +)
            result.addFaults(reader.faults)
        }
        result.metrics["requests"] = Double(latencies.count)
        result.metrics["requests_per_s"] = Double(latencies.count) / elapsed
        result.latency["page"] = latencies.summary()
        return result
    }
}
