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

/// What a follower reads: a room's long-poll (`GET /messages`), the feed's long-poll (`GET /events`) or its
/// ndjson stream (`GET /events`, `Accept: application/x-ndjson`).
enum FollowerKind: String, Codable {
    case messages, feed, stream
}

/// One follower of any kind: started once on its loop, stopped after the loops are stopped.
protocol BenchFollower: AnyObject {
    var plant: PlantedFault? { get set }
    var delays: [UInt64] { get }             // ns from each post's send time to its arrival here
    var errors: [String: Int] { get }
    /// Its verification faults, counting seqs up to `expectedLast` that never came as losses.
    func faults(expectedLast: Int) -> [DeliveryFault]
    func start()
    func stop()
}

/// Who follows what: a room and the token to read it with (a feed follower's token is a member of the room).
struct FollowerAssignment {
    var room: String
    var token: String
}

/// Subscribers on this process's own loops.
final class LocalShard: SubscriberShard {
    let loops: BenchLoops
    let sink = DeliverySink()
    let subscribers: [BenchFollower]

    /// `after` is the seq every room is at (messages), `feedAfter` the feed position to follow from (feed, stream).
    init(loops: BenchLoops, kind: FollowerKind = .messages, assignments: [FollowerAssignment], after: Int,
         feedAfter: Int = 0, wait: Int, plant: PlantedFault?) {
        self.loops = loops
        var made: [BenchFollower] = []
        for (i, a) in assignments.enumerated() {
            let connection = loops.connection(i)
            switch kind {
            case .messages:
                made.append(Subscriber(connection: connection, room: a.room, token: a.token, after: after, wait: wait, sink: sink))
            case .feed:
                made.append(FeedFollower(connection: connection, room: a.room, token: a.token, after: after,
                                         feedAfter: feedAfter, wait: wait, sink: sink))
            case .stream:
                made.append(FeedStreamFollower(loop: connection.loop, address: loops.address, host: loops.host, room: a.room,
                                               token: a.token, after: after, feedAfter: feedAfter, sink: sink))
            }
        }
        made.first?.plant = plant
        subscribers = made
        loops.startStaggered(subscribers, loopOf: { $0 }) { $0.start() }
    }

    convenience init(loops: BenchLoops, room: String, tokens: [String], after: Int, count: Int, wait: Int, plant: PlantedFault?) {
        self.init(loops: loops, assignments: (0..<count).map { FollowerAssignment(room: room, token: tokens[$0 % tokens.count]) },
                  after: after, wait: wait, plant: plant)
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
            let faults = subscriber.faults(expectedLast: expectedLast)
            result.faultCount += faults.count
            for fault in faults {
                if case .missing(let from, let to) = fault { result.missingPairs += to - from + 1 }
                if result.faults.count < 50 { result.faults.append(fault) }
            }
        }
        return result
    }
}
