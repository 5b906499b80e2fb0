// `konnect bench` subscriber shards: a group of long-pollers in this process, or in a worker child (BenchWorker).
import Foundation
import Synchronization
import Transport

/// What a shard reports at the end: its subscribers' delivery delays and verification faults.
struct ShardResult: Codable {
    var subscribers = 0
    var delays: [UInt64] = []            // ns, one per (post, subscriber) pair delivered with a send time
    var faults: [DeliveryFault] = []     // the first few, for printing
    var faultCount = 0
    var missingPairs = 0                 // (seq, subscriber) pairs never delivered
    var errors: [String: Int] = [:]

    mutating func merge(_ other: ShardResult) {
        subscribers += other.subscribers
        delays += other.delays
        faults += other.faults.prefix(Swift.max(0, 50 - faults.count))
        faultCount += other.faultCount
        missingPairs += other.missingPairs
        errors.merge(other.errors, uniquingKeysWith: +)
    }
}

/// A set of subscribers parked on one room. The coordinator polls it from its own thread.
protocol SubscriberShard: AnyObject {
    var count: Int { get }
    /// Subscribers whose first poll is out.
    var polling: Int { get }
    /// Whether every subscriber of the shard holds `seq`.
    func allHave(_ seq: Int) -> Bool
    /// Stops the subscribers and verifies each got every seq up to `expectedLast` exactly once, in order.
    func finish(expectedLast: Int) throws -> ShardResult
}

/// Subscribers on this process's own loops.
final class LocalShard: SubscriberShard {
    let loops: BenchLoops
    let sink = DeliverySink()
    let subscribers: [Subscriber]

    init(loops: BenchLoops, room: String, tokens: [String], after: Int, count: Int, wait: Int, plant: PlantedFault?) {
        self.loops = loops
        var made: [Subscriber] = []
        for i in 0..<count {
            made.append(Subscriber(connection: loops.connection(i), room: room, token: tokens[i % tokens.count],
                                   after: after, wait: wait, sink: sink))
        }
        made.first?.plant = plant
        subscribers = made
        loops.startStaggered(subscribers, loopOf: { $0 }) { $0.poll() }
    }

    var count: Int { subscribers.count }
    var polling: Int { sink.polling.load(ordering: .relaxed) }
    func allHave(_ seq: Int) -> Bool { sink.holders(of: seq) >= subscribers.count }

    func finish(expectedLast: Int) throws -> ShardResult {
        loops.stop()                              // joins the threads: the subscribers are ours to read now
        var result = ShardResult()
        result.subscribers = subscribers.count
        for subscriber in subscribers {
            subscriber.stop()
            result.delays += subscriber.delays
            result.errors.merge(subscriber.errors, uniquingKeysWith: +)
            let faults = subscriber.verifier.finish(expectedLast: expectedLast)
            result.faultCount += faults.count
            for fault in faults {
                if case .missing(let from, let to) = fault { result.missingPairs += to - from + 1 }
                if result.faults.count < 50 { result.faults.append(fault) }
            }
        }
        return result
    }
}
