// The feed's promise under load (issue 10 "Must show"): 4 writers in 3 rooms; followers on long-poll, ndjson and
// SSE, the streams reconnecting at random points with their cursor, each see every event of their rooms exactly
// once, in pos order, and nothing of the others.
import Foundation
import Synchronization
import XCTest
@testable import API
import HTTP

final class EventsExactlyOnceTests: XCTestCase {
    /// What a follower saw: (pos, room, seq) of each message event, in arrival order.
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [(pos: Int, room: String, seq: Int)] = []
        private var other: [String] = []
        func add(_ event: [String: Any]) {
            lock.withLock {
                guard event["type"] as? String == "message", let m = event["message"] as? [String: Any] else {
                    other.append(describeEvents([event])[0])
                    return
                }
                items.append((event["pos"] as? Int ?? -1, event["room"] as? String ?? "?", m["seq"] as? Int ?? -1))
            }
        }
        var messages: [(pos: Int, room: String, seq: Int)] { lock.withLock { items } }
        var membership: [String] { lock.withLock { other } }
        var count: Int { lock.withLock { items.count } }
    }

    func testEveryEventOnceInOrderAcrossReconnects() throws {
        let stack = try TestStack(configure: { $0.feedHeartbeat = 0.2 })
        defer { stack.stop() }
        let writers = try (1...4).map { try stack.user("writer\($0)") }
        let owner = writers[0]
        XCTAssertEqual(try owner.post("/rooms", form: "name=r1").status, 201)
        XCTAssertEqual(try owner.post("/rooms", form: "name=r2").status, 201)
        XCTAssertEqual(try owner.post("/rooms", form: "name=r3&visibility=private").status, 201)
        for n in 2...4 { XCTAssertEqual(try owner.send("PUT", "/rooms/r3/members/writer\(n)").status, 201) }
        let rooms: [String: Set<String>] = ["poll": ["r1", "r3"], "ndjson": ["r2", "r3"], "sse": ["r1", "r2"]]
        var followers: [String: APIClient] = [:]
        var starts: [String: Int] = [:]
        for (name, theirs) in rooms {
            let c = try stack.user(name)
            starts[name] = try c.get("/events").json["next"] as? Int ?? -1
            for room in theirs.sorted() {
                let adder = room == "r3" ? owner : c
                XCTAssertEqual(try adder.send("PUT", "/rooms/\(room)/members/\(name)").status, 201)
            }
            followers[name] = c
        }
        let tokens = followers.mapValues { $0.token! }, startAt = starts
        let seen = ["poll": Seen(), "ndjson": Seen(), "sse": Seen()]
        let stop = Atomic<Bool>(false)
        let reconnects = Atomic<Int>(0)
        let done = DispatchGroup()

        // Long-poll follower: random limits, always passing next back.
        done.enter()
        Thread { [port = stack.port] in
            defer { done.leave() }
            let c = APIClient(port: port, timeout: 20)
            c.token = tokens["poll"]!
            var after = startAt["poll"]!
            while !stop.load(ordering: .relaxed) {
                guard let r = try? c.get("/events?after=\(after)&wait=1&limit=\(Int.random(in: 1...20))"), r.status == 200 else { continue }
                for e in r.events { seen["poll"]!.add(e) }
                after = r.json["next"] as? Int ?? after
            }
        }.start()
        // Streaming followers: reconnect after a random number of events with the cursor (after / Last-Event-ID).
        for (name, sse) in [("ndjson", false), ("sse", true)] {
            done.enter()
            Thread { [port = stack.port] in
                defer { done.leave() }
                let token = tokens[name]!
                var cursor = startAt[name]!
                while !stop.load(ordering: .relaxed) {
                    let headers = sse ? [("Accept", "text/event-stream"), ("Authorization", "Bearer \(token)"), ("Last-Event-ID", "\(cursor)")]
                        : [("Accept", "application/x-ndjson"), ("Authorization", "Bearer \(token)")]
                    let path = sse ? "/events?after=0" : "/events?after=\(cursor)"
                    guard let stream = try? FeedStream(port: port, path: path, headers: headers), stream.readHead(),
                          stream.status == 200 else { continue }
                    var budget = Int.random(in: 1...30)
                    while budget > 0, !stop.load(ordering: .relaxed) {
                        let text: String?
                        if sse { text = stream.sseEvent(timeout: 0.5)?.data } else { text = stream.line(timeout: 0.5) }
                        guard let text else { if stream.closed { break } else { continue } }
                        let event = parseJSON(text)
                        if event["type"] as? String == "heartbeat" {
                            cursor = max(cursor, event["next"] as? Int ?? cursor)
                            continue
                        }
                        seen[name]!.add(event)
                        cursor = event["pos"] as? Int ?? cursor
                        budget -= 1
                    }
                    stream.close()
                    reconnects.add(1, ordering: .relaxed)
                }
            }.start()
        }

        // 4 writers × 60 posts, each to a random room of the three.
        let posted = Mutex<[String: Int]>([:])
        concurrently(4) { i in
            for n in 0..<60 {
                let room = ["r1", "r2", "r3"].randomElement()!
                guard let r = try? writers[i].post("/messages", json: ["room": room, "text": "w\(i) #\(n)"]), r.status == 201 else {
                    return XCTFail("post failed")
                }
                posted.withLock { $0[room, default: 0] += 1 }
            }
        }
        let totals = posted.withLock { $0 }
        XCTAssertEqual(totals.values.reduce(0, +), 240)
        let expected = rooms.mapValues { $0.reduce(0) { $0 + (totals[$1] ?? 0) } }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, seen.contains(where: { $0.value.count < expected[$0.key]! }) { Thread.sleep(forTimeInterval: 0.1) }
        Thread.sleep(forTimeInterval: 0.5)                 // anything extra (a repeat) would arrive now
        stop.store(true, ordering: .relaxed)
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)

        for (name, theirs) in rooms {
            let got = seen[name]!.messages
            XCTAssertEqual(got.count, expected[name]!, "\(name): every message of its rooms, once")
            XCTAssertEqual(got.map(\.pos), got.map(\.pos).sorted(), "\(name): in pos order")
            XCTAssertEqual(Set(got.map(\.pos)).count, got.count, "\(name): no repeats")
            XCTAssertTrue(got.allSatisfy { theirs.contains($0.room) }, "\(name): nothing of other rooms")
            for room in theirs {
                XCTAssertEqual(got.filter { $0.room == room }.map(\.seq), (0..<(totals[room] ?? 0)).map { $0 + 1 },
                               "\(name) \(room): seq 1…N in order")
            }
            XCTAssertEqual(seen[name]!.membership.sorted(), theirs.map { "+" + $0 }.sorted(), "\(name): its own joins, once")
        }
        XCTAssertGreaterThan(reconnects.load(ordering: .relaxed), 4, "the streams reconnected along the way")
    }
}
