// Real `konnect serve --postgres` processes on one PostgreSQL: order, idempotency, kill -9, a database restart.
import Foundation
import Glibc
import HTTP
import XCTest

/// `konnect serve --postgres URL` as a child process on a free loopback port.
final class PostgresKonnect: @unchecked Sendable {
    let process = Process()
    let port: Int

    init(conninfo: String, log: URL) throws {
        port = try KonnectProcess.freePort()
        process.executableURL = KonnectProcess.binary
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", String(port), "--postgres", conninfo,
                             "--post-rate", "0", "--log-level", "warn"]
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            guard process.isRunning else { throw HTTPClientError("konnect exited with \(process.terminationStatus)") }
            let client = HTTPClient(host: "127.0.0.1", port: port, timeout: 2)
            defer { client.close() }
            if let r = try? client.request("GET", "/health"), r.status == 200 { return }
            usleep(50_000)
        }
        throw HTTPClientError("konnect did not become healthy on port \(port)")
    }

    func kill(_ signal: Int32 = SIGTERM) {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }
}

final class PostgresInstancesE2ETests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: KonnectProcess.binary.path),
                          "konnect binary not built beside the tests: \(KonnectProcess.binary.path)")
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("konnect-pg-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func instances(_ count: Int, conninfo: String) throws -> [PostgresKonnect] {
        try (0..<count).map { try PostgresKonnect(conninfo: conninfo, log: dir.appendingPathComponent("i\($0).log")) }
    }

    /// Registers and logs in once; answers the token.
    func token(on port: Int, _ name: String = "poster") throws -> String {
        let c = APIClient(port: port, timeout: 10)
        defer { c.close() }
        XCTAssertEqual(try c.post("/register", json: ["username": name, "password": "password123"]).status, 201)
        try c.login(name, "password123")
        return c.token ?? ""
    }

    /// Every message of general read back through `port`, ascending.
    func history(_ port: Int, _ token: String) throws -> [[String: Any]] {
        let c = pgClient(port, token)
        defer { c.close() }
        var all: [[String: Any]] = [], after = 0
        while true {
            let page = try c.get("/messages?after=\(after)&limit=200")
            XCTAssertEqual(page.status, 200, page.text)
            all += page.messages
            guard page.json["has_more"] as? Bool == true, let last = page.seqs.last else { return all }
            after = last
        }
    }

    /// Posts spread over 3 instances from 8 threads while one long-poller per instance follows the room: each
    /// sees every seq once, in order.
    func testPostsOverThreeInstancesReachEveryFollowerInOrder() throws {
        let server = try PostgresTestServer.shared()
        let nodes = try instances(3, conninfo: try server.freshDatabase())
        defer { nodes.forEach { $0.kill() } }
        let token = try token(on: nodes[0].port)
        let perThread = 40, total = 8 * perThread
        let seen = PGBox<[Int: [Int]]>([:])
        let followers = Thread.detachedGroup(3) { i in
            let c = pgClient(nodes[i].port, token)
            defer { c.close() }
            var after = 0, mine: [Int] = []
            let deadline = Date().addingTimeInterval(60)
            while mine.count < total, Date() < deadline {
                guard let r = try? c.get("/messages?after=\(after)&wait=10&limit=200"), r.status == 200 else { continue }
                mine += r.seqs
                after = r.seqs.last ?? after
            }
            seen.mutate { $0![i] = mine }
        }
        let created = PGBox<Int>(0)
        concurrently(8) { t in
            let clients = nodes.map { pgClient($0.port, token) }
            defer { clients.forEach { $0.close() } }
            for k in 0..<perThread {
                if let r = try? clients[(t + k) % 3].post("/messages", json: ["text": "t\(t) k\(k)"]), r.status == 201 {
                    created.mutate { $0! += 1 }
                }
            }
        }
        followers.wait()
        XCTAssertEqual(created.value, total)
        for i in 0..<3 { XCTAssertEqual(seen.value?[i], Array(1...total), "follower on instance \(i)") }
        XCTAssertEqual(try history(nodes[1].port, token).compactMap { $0["seq"] as? Int }, Array(1...total))
    }

    /// Two instances racing one client_id: one message, one 201 and one 200 carrying the same message.
    func testTwoInstancesRacingOneClientIDMakeOneMessage() throws {
        let server = try PostgresTestServer.shared()
        let nodes = try instances(2, conninfo: try server.freshDatabase())
        defer { nodes.forEach { $0.kill() } }
        let token = try token(on: nodes[0].port)
        for round in 0..<10 {
            let answers = PGBox<[(Int, String)]>([])
            concurrently(2) { i in
                let c = pgClient(nodes[i].port, token)
                defer { c.close() }
                if let r = try? c.post("/messages", json: ["text": "once \(round)", "client_id": "race-\(round)"]) {
                    let id = (r.json["message"] as? [String: Any])?["id"] as? String ?? ""
                    answers.mutate { $0!.append((r.status, id)) }
                }
            }
            let all = answers.value ?? []
            XCTAssertEqual(all.map(\.0).sorted(), [200, 201], "round \(round)")
            XCTAssertEqual(Set(all.map(\.1)).count, 1, "the same message both times")
        }
        XCTAssertEqual(try history(nodes[1].port, token).count, 10)
    }

    /// kill -9 of one instance mid-burst: every message it acknowledged is in history, read through the other.
    func testKilledInstanceLosesNoAcknowledgedMessage() throws {
        let server = try PostgresTestServer.shared()
        let nodes = try instances(2, conninfo: try server.freshDatabase())
        defer { nodes.forEach { $0.kill() } }
        let token = try token(on: nodes[0].port)
        let acknowledged = PGBox<[String]>([])
        let posters = Thread.detachedGroup(4) { t in
            let c = pgClient(nodes[0].port, token)
            defer { c.close() }
            for k in 0..<10_000 {
                guard let r = try? c.post("/messages", json: ["text": "t\(t) k\(k)"]) else { return }
                if r.status == 201, let id = (r.json["message"] as? [String: Any])?["id"] as? String {
                    acknowledged.mutate { $0!.append(id) }
                }
            }
        }
        while (acknowledged.value?.count ?? 0) < 200 { usleep(5_000) }
        nodes[0].kill(SIGKILL)
        posters.wait()
        let stored = try history(nodes[1].port, token)
        let ids = Set(stored.compactMap { $0["id"] as? String })
        let acked = acknowledged.value ?? []
        XCTAssertGreaterThanOrEqual(acked.count, 200)
        XCTAssertEqual(acked.filter { !ids.contains($0) }, [], "acknowledged but lost")
        XCTAssertEqual(stored.compactMap { $0["seq"] as? Int }, Array(1...stored.count), "gap-free")
    }

    /// PostgreSQL stopped with `-m immediate` and started again mid-run: 503s meanwhile, never a false 201, and
    /// posting resumes by itself on both instances.
    func testDatabaseRestartMidRun() throws {
        let server = try PostgresTestServer()
        defer { server.stop() }
        let nodes = try instances(2, conninfo: try server.freshDatabase())
        defer { nodes.forEach { $0.kill() } }
        let token = try token(on: nodes[0].port)
        let acknowledged = PGBox<[String]>([])
        let statuses = PGBox<[Int: Int]>([:])
        let stop = PGBox<Bool>(false)
        let posters = Thread.detachedGroup(4) { t in
            var c = pgClient(nodes[t % 2].port, token)
            var k = 0
            while stop.value != true {
                k += 1
                guard let r = try? c.post("/messages", json: ["text": "t\(t) k\(k)"]) else {
                    c.close()
                    c = pgClient(nodes[t % 2].port, token)
                    continue
                }
                statuses.mutate { $0![r.status, default: 0] += 1 }
                if r.status == 201, let id = (r.json["message"] as? [String: Any])?["id"] as? String {
                    acknowledged.mutate { $0!.append(id) }
                }
                if r.status != 201 { usleep(20_000) }
            }
            c.close()
        }
        usleep(500_000)
        server.stop(mode: "immediate", remove: false)
        usleep(1_000_000)
        try server.start()
        let before = acknowledged.value?.count ?? 0
        let deadline = Date().addingTimeInterval(20)
        while (acknowledged.value?.count ?? 0) < before + 100, Date() < deadline { usleep(20_000) }
        stop.value = true
        posters.wait()
        XCTAssertGreaterThanOrEqual(acknowledged.value?.count ?? 0, before + 100, "posting resumed: \(statuses.value ?? [:])")
        XCTAssertGreaterThan(statuses.value?[503] ?? 0, 0, "the outage answered 503: \(statuses.value ?? [:])")
        XCTAssertEqual(Set(statuses.value?.keys.map { $0 } ?? []).subtracting([201, 503]), [], "\(statuses.value ?? [:])")
        let stored = try history(nodes[1].port, token)
        let ids = Set(stored.compactMap { $0["id"] as? String })
        XCTAssertEqual((acknowledged.value ?? []).filter { !ids.contains($0) }, [], "acknowledged but lost")
        XCTAssertEqual(stored.compactMap { $0["seq"] as? Int }, Array(1...stored.count), "gap-free")
        for node in nodes {
            let c = APIClient(port: node.port, timeout: 5)
            XCTAssertEqual(try c.get("/health").status, 200)
            c.close()
        }
    }
}

extension PostgresInstancesE2ETests {
    /// Benchmark (KONNECT_BENCH=1; printed, never asserted on time): a post on instance A to a long-poll held on
    /// instance B, send → B's answer, over `KONNECT_BENCH_ROUNDS` (default 300) posts one at a time.
    func testBenchPostOnOneToPollOnOther() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["KONNECT_BENCH"] == "1", "set KONNECT_BENCH=1 to run benchmarks")
        let rounds = Int(ProcessInfo.processInfo.environment["KONNECT_BENCH_ROUNDS"] ?? "") ?? 300
        let server = try PostgresTestServer.shared()
        let nodes = try instances(2, conninfo: try server.freshDatabase())
        defer { nodes.forEach { $0.kill() } }
        let token = try token(on: nodes[0].port)
        let poster = pgClient(nodes[0].port, token), poller = pgClient(nodes[1].port, token)
        defer { poster.close(); poller.close() }
        var delays: [Double] = []
        for seq in 1...rounds {
            let sent = PGBox<Double>()
            let group = Thread.detachedGroup(1) { _ in
                usleep(5_000)                                  // let the poll below park first
                sent.value = Date().timeIntervalSince1970
                _ = try? poster.post("/messages", json: ["text": "ping \(seq)"])
            }
            let r = try poller.get("/messages?after=\(seq - 1)&wait=10")
            let got = Date().timeIntervalSince1970
            group.wait()
            XCTAssertEqual(r.seqs, [seq])
            if let at = sent.value { delays.append((got - at) * 1000) }
        }
        delays.sort()
        func pct(_ p: Double) -> Double { delays[min(delays.count - 1, Int(Double(delays.count) * p))] }
        print(String(format: "bench post on A → held poll on B (%d rounds): p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                     delays.count, pct(0.5), pct(0.99), delays.last ?? 0))
    }
}

/// A client of `port` that sends `token`.
func pgClient(_ port: Int, _ token: String) -> APIClient {
    let c = APIClient(port: port, timeout: 30)
    c.token = token
    return c
}

/// Holds one value set from any thread.
final class PGBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    init(_ value: T? = nil) { stored = value }
    var value: T? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
    func mutate(_ body: (inout T?) -> Void) { lock.withLock { body(&stored) } }
}

extension Thread {
    /// Starts `count` threads running `body` and answers a group to wait on.
    static func detachedGroup(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) -> DispatchGroup {
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            Thread { body(i); group.leave() }.start()
        }
        return group
    }
}
