// `konnect bench mixed`: posters and long-poll readers in several rooms at once for D seconds.
import Glibc
import Synchronization
import Transport

enum BenchMixed {
    typealias Reader = (room: Int, subscriber: Subscriber)

    static func run(_ o: BenchOptions, _ setup: BenchSetup) throws -> BenchResult {
        try setup.makeUsers(o.users)
        let rooms = try (0..<o.rooms).map { try setup.makeRoom($0) }
        var result = BenchResult(scenario: "mixed", server: o.server)
        result.parameters = ["posters": "\(o.clients)", "readers_per_room": "\(o.readers)", "rooms": "\(o.rooms)",
                             "duration_s": "\(o.duration)"]
        let loops = try BenchLoops(count: o.loops, address: setup.address, host: setup.hostHeader)
        defer { loops.stop() }
        let sinks = rooms.map { _ in DeliverySink() }
        let readers = try startReaders(o, setup, loops: loops, rooms: rooms, sinks: sinks)

        let finished = Atomic<Int>(0)
        let started = monotonicNanos()
        let deadline = started + nanos(o.duration)
        let posters = (0..<o.clients).map { i in
            Poster(connection: loops.connection(readers.count + i), index: i, room: rooms[i % rooms.count],
                   token: setup.token(i), deadline: deadline, stampSendTime: true, prefix: setup.prefix) {
                finished.add(1, ordering: .relaxed)
            }
        }
        loops.startStaggered(posters, loopOf: { readers.count + $0 }) { $0.next() }
        guard waitUntil(timeout: o.duration + 90, poll: 0.01, { finished.load(ordering: .relaxed) == posters.count }) else {
            throw BenchError("posters did not finish within \(Int(o.duration + 90)) s")
        }
        let elapsed = Double(monotonicNanos() - started) / 1e9
        // Every reader must catch up with its room's last answered seq (bounded: a stuck reader is a loss).
        var lastSeq = [Int](repeating: 0, count: rooms.count)
        for poster in posters { lastSeq[poster.index % rooms.count] = Swift.max(lastSeq[poster.index % rooms.count], poster.lastSeq) }
        _ = waitUntil(timeout: o.postTimeout, poll: 0.005) {
            rooms.indices.allSatisfy { lastSeq[$0] == 0 || sinks[$0].holders(of: lastSeq[$0]) >= o.readers }
        }
        loops.stop()

        BenchLoad.summarize(posters, rooms: rooms, elapsed: elapsed, into: &result)
        verifyReaders(readers, lastSeq: lastSeq, into: &result)
        for (index, room) in rooms.enumerated() {
            var posted: [Int: String] = [:]
            for poster in posters where poster.index % rooms.count == index { posted.merge(poster.posted) { a, _ in a } }
            result.addFaults(HistoryVerifier.check(history: try setup.history(room: room), posted: posted),
                             tolerateExtra: posters.reduce(0) { $0 + $1.abandoned })
        }
        return result
    }

    /// `readers` long-polls per room, parked before any post (per the server's gauge when it has one).
    static func startReaders(_ o: BenchOptions, _ setup: BenchSetup, loops: BenchLoops, rooms: [String],
                             sinks: [DeliverySink]) throws -> [Reader] {
        var readers: [Reader] = []
        for (r, room) in rooms.enumerated() {
            for i in 0..<o.readers {
                let subscriber = Subscriber(connection: loops.connection(readers.count), room: room,
                                            token: setup.token(i), after: 0, wait: o.wait, sink: sinks[r])
                readers.append((r, subscriber))
            }
        }
        readers.first?.subscriber.plant = o.plant
        loops.startStaggered(readers.map(\.subscriber), loopOf: { $0 }) { $0.poll() }
        let total = readers.count
        guard waitUntil(timeout: 60, poll: 0.01, { sinks.reduce(0) { $0 + $1.polling.load(ordering: .relaxed) } >= total }) else {
            throw BenchError("readers did not start")
        }
        if setup.parkedPolls() != nil {
            _ = waitUntil(timeout: 30, poll: 0.05) { (setup.parkedPolls() ?? 0) >= total }
        } else {
            usleep(500_000)
        }
        return readers
    }

    /// Each reader's stream against its room's last seq (call after the loops stopped).
    static func verifyReaders(_ readers: [Reader], lastSeq: [Int], into result: inout BenchResult) {
        var delays = Latencies()
        var misses = 0
        for (r, reader) in readers {
            reader.stop()
            delays.merge(nanos: reader.delays)
            result.errors.merge(reader.errors, uniquingKeysWith: +)
            let faults = reader.verifier.finish(expectedLast: lastSeq[r])
            for case .missing(let from, let to) in faults { misses += to - from + 1 }
            result.addFaults(faults)
        }
        result.latency["delivery"] = delays.summary()
        result.metrics["deliveries"] = Double(delays.count)
        result.metrics["misses"] = Double(misses)
    }
}
