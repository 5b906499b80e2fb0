// `konnect bench` end to end: brief runs against a real `konnect serve` on port 0, and its verifier on planted faults.
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class BenchTests: XCTestCase {
    /// The reader verifier, table-driven through `konnect bench check` (no server): each row a seq stream as a
    /// reader starting after 0 would get it, the last seq of the room, and the faults it must report.
    func testVerifierTable() throws {
        let cases: [(seqs: String, last: Int, faults: [String], why: String)] = [
            ("1,2,3,4", 4, [], "every seq once, in order"),
            ("", 0, [], "an empty room"),
            ("1,2,2,3,4", 4, ["duplicate: seq 2"], "a seq delivered twice"),
            ("1,3,4", 4, ["gap: expected seq 2, got 3", "loss: seq 2 never delivered"], "a gap never filled is a loss"),
            ("1,3,2,4", 4, ["gap: expected seq 2, got 3", "reordering: seq 2 arrived after seq 3"], "late is reordered"),
            ("1,2,3", 4, ["loss: seq 4 never delivered"], "the tail never arrived"),
            ("2,3", 3, ["gap: expected seq 1, got 2", "loss: seq 1 never delivered"], "the first seq lost"),
            ("1,2,1", 2, ["duplicate: seq 1"], "an old seq again"),
        ]
        for row in cases {
            let run = try BenchRun.konnect(["bench", "check", "--last", String(row.last), row.seqs])
            XCTAssertEqual(run.status, row.faults.isEmpty ? 0 : 1, "\(row.why): \(run.stdout)")
            let lines = run.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, row.faults.count + 1, "\(row.why): \(run.stdout)")
            for (line, expected) in zip(lines, row.faults) { XCTAssertTrue(line.hasPrefix(expected), "\(row.why): \(line)") }
            XCTAssertEqual(lines.last?.hasPrefix(row.faults.isEmpty ? "verification passed" : "verification FAILED"), true)
        }
    }

    func testPostRunVerifiesHistory() throws {
        let server = try BenchServer()
        defer { server.stop() }
        let run = try BenchRun.konnect(["bench", "--server", server.url, "post", "--duration", "1", "--clients", "4", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let result = try run.json()
        XCTAssertEqual(result["verified"] as? Bool, true)
        let metrics = try XCTUnwrap(result["metrics"] as? [String: Double])
        XCTAssertGreaterThan(metrics["posts"] ?? 0, 0, "a second of posting stored nothing")
        XCTAssertEqual(metrics["abandoned"], 0)
    }

    func testFanoutDeliversEveryPostToEverySubscriber() throws {
        let server = try BenchServer()
        defer { server.stop() }
        let run = try BenchRun.konnect(["bench", "--server", server.url, "fanout", "--subscribers", "50", "--posts", "3",
                                        "--server-pid", String(server.pid), "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let result = try run.json()
        XCTAssertEqual(result["verified"] as? Bool, true, run.stdout)
        let metrics = try XCTUnwrap(result["metrics"] as? [String: Double])
        XCTAssertEqual(metrics["pairs_delivered"], 150)
        XCTAssertEqual(metrics["misses"], 0)
        XCTAssertGreaterThan(metrics["server_rss_parked_mb"] ?? 0, 1)
    }

    /// Subscribers spread over worker processes (as past the open-files cap) report back over their pipes.
    func testFanoutAcrossWorkerProcesses() throws {
        let server = try BenchServer()
        defer { server.stop() }
        let run = try BenchRun.konnect(["bench", "--server", server.url, "fanout", "--subscribers", "30", "--posts", "2",
                                        "--per-process", "12", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let metrics = try XCTUnwrap(try run.json()["metrics"] as? [String: Double])
        XCTAssertEqual(metrics["worker_processes"], 3)
        XCTAssertEqual(metrics["pairs_delivered"], 60)
    }

    /// A reader's record with a planted duplicate (or dropped message) must fail the run with exit 1, in process
    /// and in a worker; so must a falsified record of 201s against the history read back.
    func testPlantedFaultsFailTheRun() throws {
        let server = try BenchServer()
        defer { server.stop() }
        let planted: [(args: [String], fault: String)] = [
            (["fanout", "--subscribers", "5", "--posts", "2", "--plant-fault", "duplicate"], "duplicate: seq 1"),
            (["fanout", "--subscribers", "6", "--posts", "2", "--per-process", "3", "--plant-fault", "gap"], "loss: seq 1"),
            (["mixed", "--duration", "1", "--rooms", "1", "--clients", "2", "--readers", "3", "--plant-fault", "duplicate"],
             "duplicate: seq 1"),
            (["post", "--duration", "0.5", "--clients", "2", "--plant-fault", "lost"], "is not in history"),
            (["post", "--duration", "0.5", "--clients", "2", "--plant-fault", "extra"], "no post was answered with it"),
        ]
        for row in planted {
            let run = try BenchRun.konnect(["bench", "--server", server.url] + row.args)
            XCTAssertEqual(run.status, 1, "\(row.args): \(run.stdout) \(run.stderr)")
            XCTAssertTrue(run.stdout.contains(row.fault), "\(row.args): \(run.stdout)")
            XCTAssertTrue(run.stdout.contains("verification  ") || run.stdout.contains("FAILED"), run.stdout)
        }
    }

    func testMixedRunPasses() throws {
        let server = try BenchServer()
        defer { server.stop() }
        let run = try BenchRun.konnect(["bench", "--server", server.url, "mixed", "--duration", "1", "--rooms", "2",
                                        "--clients", "4", "--readers", "5", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let result = try run.json()
        XCTAssertEqual(result["verified"] as? Bool, true, run.stdout)
        let metrics = try XCTUnwrap(result["metrics"] as? [String: Double])
        XCTAssertEqual(metrics["deliveries"], (metrics["posts"] ?? -1) * 5, "every post reaches each of its room's 5 readers")
    }

    /// Issue 12: against a server that limits posting, the report says why posts were refused and how to measure.
    func testARateLimitedServerIsCalledOut() throws {
        let server = try BenchServer(["--post-rate", "1", "--post-burst", "2"])
        defer { server.stop() }
        let run = try BenchRun.konnect(["bench", "--server", server.url, "post", "--duration", "1", "--clients", "2"])
        XCTAssertTrue(run.stdout.contains("errors: HTTP 429"), run.stdout)
        XCTAssertTrue(run.stdout.contains("it limits posting per account") && run.stdout.contains("--post-rate 0"), run.stdout)
    }

    func testUsageErrorsExitTwo() throws {
        XCTAssertEqual(try BenchRun.konnect(["bench", "nonsense"]).status, 2)
        XCTAssertEqual(try BenchRun.konnect(["bench", "post", "--clients", "0"]).status, 2)
        let help = try BenchRun.konnect(["bench", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("fanout"))
    }
}

/// The `konnect` binary next to the test bundle (Linux: the bundle URL is its directory), run to completion.
struct BenchRun {
    var status: Int32
    var stdout: String
    var stderr: String

    static var binary: URL {
        let bundle = Bundle(for: BenchTests.self).bundleURL
        let candidates = [bundle.deletingLastPathComponent().appendingPathComponent("konnect"), bundle.appendingPathComponent("konnect")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    static func konnect(_ arguments: [String]) throws -> BenchRun {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let errPath = FileManager.default.temporaryDirectory.appendingPathComponent("bench-err-\(UUID().uuidString)")
        XCTAssertTrue(FileManager.default.createFile(atPath: errPath.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: errPath) }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()     // until exit: the run is bounded by its flags
        process.waitUntilExit()
        return BenchRun(status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self),
                        stderr: (try? String(contentsOf: errPath, encoding: .utf8)) ?? "")
    }

    func json() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
        return try XCTUnwrap(object as? [String: Any], stdout)
    }
}

/// `konnect serve --port 0 --db <tmp>` for one test; its port comes from the `konnect listening on …` line.
final class BenchServer {
    let process = Process()
    let directory: URL
    let logPath: URL
    private(set) var url = ""
    var pid: Int32 { process.processIdentifier }

    /// Posting is not rate limited (`--post-rate 0`) unless `arguments` say otherwise (the last value wins).
    init(_ arguments: [String] = []) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("konnect-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        logPath = directory.appendingPathComponent("serve.log")
        XCTAssertTrue(FileManager.default.createFile(atPath: logPath.path, contents: nil))
        process.executableURL = BenchRun.binary
        process.arguments = ["serve", "--port", "0", "--log-level", "warn", "--post-rate", "0",
                             "--db", directory.appendingPathComponent("k.db").path] + arguments
        process.standardError = try FileHandle(forWritingTo: logPath)
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let marker = "konnect listening on "
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let log = (try? String(contentsOf: logPath, encoding: .utf8)) ?? ""
            if let range = log.range(of: marker), let end = log[range.upperBound...].firstIndex(of: "\n") {
                url = String(log[range.upperBound..<end])
                return
            }
            if !process.isRunning { break }
            usleep(20_000)
        }
        stop()
        throw BenchServerFailed(log: (try? String(contentsOf: logPath, encoding: .utf8)) ?? "")
    }

    /// SIGTERM by PID, then wait.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

private struct BenchServerFailed: Error, CustomStringConvertible {
    var log: String
    var description: String { "konnect serve did not start: \(log)" }
}
