// Follows one room by long-poll for `listen` and `chat`: reconnects with backoff, resumes after the last seq seen.
import Client
import Foundation

/// Delivers each new message of a room exactly once, in seq order, across errors and server restarts.
///
/// Why exactly once: seq numbers are gap-free per room (API.md "Messages"), and every poll asks for `after` = the
/// last seq delivered, so a message is delivered iff its seq is past that mark, whatever answers get lost.
final class CommandFollower {
    let room: String
    private(set) var lastSeq: Int64       // the newest seq delivered (or skipped as "old" at the start)
    private let makeClient: () throws -> KonnectClient
    private var backoff = Backoff()

    init(room: String, after: Int64, makeClient: @escaping () throws -> KonnectClient) {
        self.room = room
        self.lastSeq = after
        self.makeClient = makeClient
    }

    /// Polls until `shouldStop` says so. Transient failures (network, 502–504) are retried forever with backoff
    /// (0.2 s doubling to 5 s), reported once per outage through `onStatus`; other API errors (401, 404) end it.
    func run(wait: Int = 30, shouldStop: () -> Bool, onStatus: (String) -> Void, onMessage: (APIMessage) -> Void) throws {
        let client = try makeClient()
        var outage = false
        while !shouldStop() {
            do {
                let page = try client.poll(room: room, after: lastSeq, wait: wait, limit: 200)
                if outage {
                    onStatus("reconnected to \(client.server)")
                    outage = false
                }
                backoff.reset()
                if shouldStop() { return }
                for message in page.messages where message.seq > lastSeq {
                    onMessage(message)
                    lastSeq = message.seq
                }
            } catch let error as ClientError where error.isTransient {
                if !outage {
                    onStatus("\(error.description); reconnecting")
                    outage = true
                }
                client.close()
                Thread.sleep(forTimeInterval: backoff.next())
            }
        }
    }

    /// The room's newest seq now: where "only new messages" starts.
    static func currentLastSeq(_ client: KonnectClient, room: String) throws -> Int64 {
        try client.history(room: room, limit: 1).lastSeq
    }
}

/// Reconnect delays: 0.2 s, doubling, at most 5 s; back to 0.2 s after a success.
struct Backoff {
    private(set) var current = 0.2
    let first = 0.2
    let maximum = 5.0

    mutating func next() -> Double {
        defer { current = min(current * 2, maximum) }
        return current
    }

    mutating func reset() { current = first }
}
