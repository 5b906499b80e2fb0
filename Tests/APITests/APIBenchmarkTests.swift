// Benchmarks (run with KONNECT_BENCH=1; skipped otherwise, and never asserted on time): history pages against
// /health, and the fan-out of one post to thousands of parked long-polls.
import XCTest
import Foundation
import Synchronization
import Glibc
import HTTP

final class APIBenchmarkTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["KONNECT_BENCH"] == "1", "set KONNECT_BENCH=1 to run benchmarks")
    }

    /// Requests per second over `threads` keep-alive connections for `seconds`.
    func rate(port: Int, token: String?, target: String, threads: Int = 4, seconds: Double = 2) -> Double {
        let count = Atomic<Int>(0), bad = Atomic<Int>(0)
        let end = Date().addingTimeInterval(seconds)
        concurrently(threads) { _ in
            let c = APIClient(port: port, timeout: 10)
            c.token = token
            while Date() < end {
                if (try? c.get(target))?.status == 200 { count.add(1, ordering: .relaxed) } else { bad.add(1, ordering: .relaxed) }
            }
            c.close()
        }
        XCTAssertEqual(bad.load(ordering: .relaxed), 0, target)
        return Double(count.load(ordering: .relaxed)) / seconds
    }

    func testHistoryPagesAgainstHealth() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let c = try stack.user("bench")
        concurrently(8) { t in
            let w = APIClient(port: stack.port, timeout: 10)
            w.token = c.token
            for i in 0..<25 { _ = try? w.post("/messages", json: ["text": "benchmark message \(t)-\(i) of a typical length, say sixty chars"]) }
        }
        let health = rate(port: stack.port, token: nil, target: "/health")
        print(String(format: "bench GET /health: %.0f req/s", health))
        for target in ["/me", "/messages", "/messages?before=150&limit=50", "/messages?after=100&limit=50"] {
            let r = rate(port: stack.port, token: c.token, target: target)
            print(String(format: "bench GET %@: %.0f req/s (%.2f× /health)", target, r, r / health))
        }
    }

    /// N raw connections park `GET /messages?after=0&wait=60` on a `konnect serve` child process; one post wakes
    /// them. Prints the time from the post's 201 to the last answer. N from KONNECT_BENCH_POLLS (default 10,000;
    /// needs `ulimit -n` above N).
    func testFanOutToParkedPolls() throws {
        try fanOut(feed: false)
    }

    /// The same with `GET /events?after=<now>&wait=60` (issue 10): every follower in `general`, each woken by
    /// the post and answered from its own read of the feed.
    func testFanOutToParkedFeedFollowers() throws {
        try fanOut(feed: true)
    }

    /// The same with N `GET /events` ndjson streams (no re-request per event): the time until every stream has the
    /// post's line.
    func testFanOutToFeedStreams() throws {
        try fanOut(feed: true, stream: true)
    }

    func fanOut(feed: Bool, stream: Bool = false) throws {
        let n = Int(ProcessInfo.processInfo.environment["KONNECT_BENCH_POLLS"] ?? "") ?? 10_000
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("konnect-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try KonnectProcess(db: dir.appendingPathComponent("k.db").path, log: dir.appendingPathComponent("log"),
                                        extra: ["--log-level", "error"])
        defer { server.kill(SIGTERM) }
        let c = APIClient(port: server.port, timeout: 30)
        _ = try c.post("/register", json: ["username": "bench", "password": "password123"])
        try c.login("bench", "password123")
        let now = try c.get("/events").json["next"] as? Int ?? 0
        let target = stream ? "/events?after=\(now)" : feed ? "/events?after=\(now)&wait=60" : "/messages?after=0&wait=60"
        let accept = stream ? "Accept: application/x-ndjson\r\n" : ""
        let request = Array("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(accept)Authorization: Bearer \(c.token!)\r\n\r\n".utf8)

        var fds: [Int32] = []
        defer { fds.forEach { close($0) } }
        for _ in 0..<n {
            let fd = try RawConnection.open(port: server.port)
            fds.append(fd)
            _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }
        // Parked = the server holds them; give it time to read every request (no metric here: count via /metrics).
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = (try? c.get("/metrics").text) ?? ""
            if text.contains("\(feed ? "konnect_feed_followers" : "konnect_parked_polls") \(n)\n") { break }
            usleep(50_000)
        }
        let start = Date()
        XCTAssertEqual(try c.post("/messages", json: ["text": "wake"]).status, 201)
        let posted = Date()
        let answered = RawConnection.awaitResponses(fds, containing: Array("\"seq\":1".utf8), timeout: 60)
        let end = Date()
        XCTAssertEqual(answered, n)
        print(String(format: "bench fan-out (%@): %d parked, post %.1f ms, all answered %.1f ms after the 201",
                     stream ? "GET /events ndjson" : feed ? "GET /events" : "GET /messages", n, posted.timeIntervalSince(start) * 1000,
                     end.timeIntervalSince(posted) * 1000))
    }
}
