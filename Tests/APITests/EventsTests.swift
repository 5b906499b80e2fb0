// GET /events (../shared/API.md "The feed"): pages, long-polls, ndjson and SSE streams, and slow consumers.
import Foundation
import XCTest
@testable import API
import HTTP

func parseJSON(_ text: String) -> [String: Any] {
    (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)))?.any as? [String: Any] ?? [:]
}

extension HTTPResponse {
    var events: [[String: Any]] { json["events"] as? [[String: Any]] ?? [] }
}

/// `+room`, `-room`, `room:text` per event, as the store contract's tests describe feeds.
func describeEvents(_ events: [[String: Any]]) -> [String] {
    events.map { e in
        let room = e["room"] as? String ?? "?"
        switch e["type"] as? String {
        case "message": return "\(room):\((e["message"] as? [String: Any])?["text"] as? String ?? "?")"
        case "joined": return "+\(room)"
        case "left": return "-\(room)"
        default: return "?\(e)"
        }
    }
}

final class EventsTests: XCTestCase {
    var stack: TestStack!

    override func setUpWithError() throws {
        stack = try TestStack(configure: { options in
            options.feedHeartbeat = 0.3
            options.feedStreamMaxQueued = 64 * 1024
        })
    }

    override func tearDown() { stack?.stop() }   // nil when setUp skipped

    func testPagesNextAndBadInput() throws {
        let alice = try stack.user("alice"), bob = try stack.user("bob")
        XCTAssertEqual(try alice.post("/rooms", form: "name=secret&visibility=private").status, 201)
        try alice.say("hello")
        try alice.say("psst", room: "secret")
        XCTAssertEqual(try alice.send("PUT", "/rooms/secret/members/bob").status, 201)
        try bob.say("thanks", room: "secret")
        XCTAssertEqual(try bob.send("DELETE", "/rooms/secret/members/bob").status, 204)
        try alice.say("gone", room: "secret")

        let all = try bob.get("/events?after=0")
        XCTAssertEqual(all.status, 200, all.text)
        XCTAssertEqual(all.headers["Content-Type"], "application/json; charset=utf-8")
        XCTAssertEqual(describeEvents(all.events), ["+general", "general:hello", "+secret", "secret:thanks", "-secret"])
        XCTAssertEqual(all.json["has_more"] as? Bool, false)
        let message = all.events[1]["message"] as? [String: Any]
        XCTAssertEqual(message?["user"] as? String, "alice")
        XCTAssertEqual(message?["bot"] as? Bool, false)
        let joined = all.events[2]["room_info"] as? [String: Any]
        XCTAssertEqual(joined?["visibility"] as? String, "private")
        XCTAssertEqual(joined?["owner"] as? String, "alice")
        let positions = all.events.compactMap { $0["pos"] as? Int }
        XCTAssertEqual(positions, positions.sorted())
        let newest = all.json["next"] as? Int ?? -1
        XCTAssertGreaterThan(newest, positions.last!, "next moves past alice's last post, which bob cannot see")

        // Paged by limit: the same events, has_more until the end.
        var after = 0, paged: [[String: Any]] = []
        while true {
            let page = try bob.get("/events?after=\(after)&limit=2")
            paged += page.events
            after = page.json["next"] as? Int ?? -1
            if page.json["has_more"] as? Bool != true { break }
        }
        XCTAssertEqual(describeEvents(paged), describeEvents(all.events))
        XCTAssertEqual(after, newest)
        // No after: from now. Past the newest: nothing, next = the newest.
        let now = try bob.get("/events")
        XCTAssertEqual(now.events.count, 0)
        XCTAssertEqual(now.json["next"] as? Int, newest)
        let past = try bob.get("/events?after=\(newest + 50)")
        XCTAssertEqual(past.events.count, 0)
        XCTAssertEqual(past.json["next"] as? Int, newest)

        for query in ["after=-1", "after=x", "limit=0", "limit=501", "wait=-1", "wait=abc", "after=1.5", "after=%"] {
            XCTAssertProblem(try bob.get("/events?\(query)"), 400, "invalid_parameter")
        }
        // A malformed Last-Event-ID is refused whatever the form (schemathesis), though only SSE uses it.
        XCTAssertProblem(try bob.get("/events?after=0", headers: [("Last-Event-ID", "-1")]), 400, "invalid_parameter")
        XCTAssertProblem(try stack.client().get("/events"), 401, "unauthorized")
        XCTAssertProblem(try bob.get("/events?limit=0", headers: [("Authorization", "Bearer nope")]), 401, "unauthorized")
        XCTAssertProblem(try bob.send("POST", "/events"), 405, "method_not_allowed")
    }

    func testLongPollIsHeldAndWokenOnlyByItsEvents() throws {
        let alice = try stack.user("alice"), bob = try stack.user("bob")
        XCTAssertEqual(try alice.post("/rooms", form: "name=mine&visibility=private").status, 201)
        let start = try bob.get("/events").json["next"] as? Int ?? -1
        let answered = Box<HTTPResponse>()
        let done = DispatchSemaphore(value: 0)
        let poller = try stack.user("poller-helper")   // another connection for bob's held request
        poller.token = bob.token
        Thread {
            answered.value = try? poller.get("/events?after=\(start)&wait=20")
            done.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.3)
        try alice.say("not for bob", room: "mine")
        XCTAssertEqual(done.wait(timeout: .now() + 0.5), .timedOut, "a post in a room bob is not in does not answer")
        try alice.say("for bob")
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(describeEvents(answered.value?.events ?? []), ["general:for bob"])
        // A deadline answers nothing, with the newest position.
        let empty = try bob.get("/events?after=\(answered.value?.json["next"] as? Int ?? 0)&wait=0.3")
        XCTAssertEqual(empty.events.count, 0)
        XCTAssertEqual(empty.json["next"] as? Int, answered.value?.json["next"] as? Int)
        // wait without after: held until the next event.
        Thread {
            answered.value = try? poller.get("/events?wait=20")
            done.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.3)
        try alice.say("next one")
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(describeEvents(answered.value?.events ?? []), ["general:next one"])
    }

    func testNDJSONStreamWithHeartbeats() throws {
        let alice = try stack.user("alice")
        let stream = try FeedStream(port: stack.port, path: "/events?after=0",
                                    headers: [("Accept", "application/x-ndjson"), ("Authorization", "Bearer \(alice.token!)")])
        XCTAssertTrue(stream.readHead())
        XCTAssertEqual(stream.status, 200)
        XCTAssertEqual(stream.headers["content-type"], "application/x-ndjson; charset=utf-8")
        XCTAssertEqual(stream.headers["transfer-encoding"], "chunked")
        XCTAssertEqual(describeEvents([parseJSON(stream.line() ?? "")]), ["+general"])
        try alice.say("one")
        try alice.say("two")
        var lines: [[String: Any]] = []
        var heartbeats: [[String: Any]] = []
        while lines.count < 2, let line = stream.line() {
            let object = parseJSON(line)
            if object["type"] as? String == "heartbeat" { heartbeats.append(object) } else { lines.append(object) }
        }
        XCTAssertEqual(describeEvents(lines), ["general:one", "general:two"])
        // Heartbeats (every 0.3 s here) carry the position to resume from.
        let deadline = Date().addingTimeInterval(5)
        while heartbeats.isEmpty, Date() < deadline, let line = stream.line() {
            let object = parseJSON(line)
            if object["type"] as? String == "heartbeat" { heartbeats.append(object) }
        }
        XCTAssertEqual(heartbeats.last?["next"] as? Int, lines.last?["pos"] as? Int)
        stream.close()
        let gone = Date().addingTimeInterval(5)
        while stack.chat.feedFollowers > 0 && Date() < gone { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertEqual(stack.chat.feedFollowers, 0, "a client that left leaves no follower behind")
        XCTAssertEqual(stack.server.streams, 0)
    }

    func testServerSentEventsAndLastEventID() throws {
        let alice = try stack.user("alice")
        try alice.say("first")
        try alice.say("second")
        let auth = ("Authorization", "Bearer \(alice.token!)")
        let stream = try FeedStream(port: stack.port, path: "/events?after=0", headers: [("Accept", "text/event-stream"), auth])
        XCTAssertTrue(stream.readHead())
        XCTAssertEqual(stream.headers["content-type"], "text/event-stream; charset=utf-8")
        var got: [(String?, [String: Any])] = []
        while got.count < 3, let event = stream.sseEvent() { got.append((event.id, parseJSON(event.data))) }
        XCTAssertEqual(describeEvents(got.map(\.1)), ["+general", "general:first", "general:second"])
        XCTAssertEqual(got.map(\.0), got.map { ($0.1["pos"] as? Int).map(String.init) })
        stream.close()
        // Reconnect: Last-Event-ID wins over after.
        let again = try FeedStream(port: stack.port, path: "/events?after=0",
                                   headers: [("Accept", "text/event-stream"), auth, ("Last-Event-ID", got[1].0!)])
        XCTAssertTrue(again.readHead())
        XCTAssertEqual(describeEvents([parseJSON(again.sseEvent()?.data ?? "")]), ["general:second"])
        try alice.say("third")
        XCTAssertEqual(describeEvents([parseJSON(again.sseEvent()?.data ?? "")]), ["general:third"])
        let bad = try FeedStream(port: stack.port, path: "/events", headers: [("Accept", "text/event-stream"), auth,
                                                                               ("Last-Event-ID", "x")])
        XCTAssertTrue(bad.readHead())
        XCTAssertEqual(bad.status, 400)
    }

    /// A backlog far larger than the stream's bound (64 KiB here) goes out at the pace of a client that reads:
    /// catching up is not mistaken for a slow consumer.
    func testStreamCatchUpGoesAtTheClientsPace() throws {
        let alice = try stack.user("alice")
        let text = String(repeating: "y", count: 1000)
        concurrently(4) { [stack] _ in
            let c = stack!.client()
            c.token = alice.token
            for _ in 0..<150 { _ = try? c.post("/messages", json: ["text": text]) }
        }
        let stream = try FeedStream(port: stack.port, path: "/events?after=0&limit=500",
                                    headers: [("Accept", "application/x-ndjson"), ("Authorization", "Bearer \(alice.token!)")])
        XCTAssertTrue(stream.readHead())
        var messages = 0
        while messages < 600, let line = stream.line(timeout: 10) {
            if parseJSON(line)["type"] as? String == "message" { messages += 1 }
        }
        XCTAssertEqual(messages, 600, "600 KB of backlog through a 64 KiB bound")
        XCTAssertEqual(stack.server.slowConsumerCloses, 0)
    }

    /// A stream outlives its request: a logout (or a rotated or deleted bot token) ends it at the next heartbeat.
    func testStreamEndsWhenItsTokenIsRevoked() throws {
        let alice = try stack.user("alice")
        let stream = try FeedStream(port: stack.port, path: "/events",
                                    headers: [("Accept", "application/x-ndjson"), ("Authorization", "Bearer \(alice.token!)")])
        XCTAssertTrue(stream.readHead())
        XCTAssertNotNil(stream.line(), "a heartbeat")
        XCTAssertEqual(try alice.send("POST", "/logout").status, 204)
        let deadline = Date().addingTimeInterval(5)
        while !stream.closed, Date() < deadline { _ = stream.line(timeout: 0.5) }
        XCTAssertTrue(stream.closed, "the stream ended after the logout")
        let gone = Date().addingTimeInterval(5)
        while stack.chat.feedFollowers > 0 && Date() < gone { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertEqual(stack.chat.feedFollowers, 0)
    }

    /// Slow-consumer policy: a stream whose client stops reading is closed once more than its bound (64 KiB here)
    /// waits for it; the server does not keep growing its output, and the follower is gone.
    func testStreamThatStopsReadingIsClosed() throws {
        let alice = try stack.user("alice")
        let stream = try FeedStream(port: stack.port, path: "/events",
                                    headers: [("Accept", "application/x-ndjson"), ("Authorization", "Bearer \(alice.token!)")],
                                    receiveBuffer: 4096)
        XCTAssertTrue(stream.readHead())
        let text = String(repeating: "x", count: 3900)
        var posted = 0
        let deadline = Date().addingTimeInterval(30)
        while stack.server.slowConsumerCloses == 0 && Date() < deadline {
            for _ in 0..<50 { try alice.say(text) }
            posted += 50
        }
        XCTAssertEqual(stack.server.slowConsumerCloses, 1, "closed after \(posted) posts of 3.9 KB")
        XCTAssertLessThan(posted, 2000, "closed once about 64 KiB plus the socket buffers were waiting")
        let gone = Date().addingTimeInterval(5)
        while (stack.chat.feedFollowers > 0 || stack.server.streams > 0) && Date() < gone { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertEqual(stack.chat.feedFollowers, 0)
        XCTAssertEqual(stack.server.streams, 0)
        // The first bytes it did get are whole events of the feed, in order (it would resume after the last one;
        // draining the rest through a 4 KiB window takes minutes, so the test stops here).
        var positions: [Int] = []
        while positions.count < 2, let line = stream.line(timeout: 10) {
            if let pos = parseJSON(line)["pos"] as? Int { positions.append(pos) }
        }
        XCTAssertGreaterThanOrEqual(positions.count, 1)
        XCTAssertEqual(positions, positions.sorted())
    }
}
