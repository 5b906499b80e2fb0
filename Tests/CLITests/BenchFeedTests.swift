// `konnect bench feed` and `feed-stream` end to end: brief runs against a real `konnect serve` on port 0, with the
// per-follower verification shown to fail on planted faults (in process and in worker processes).
import Foundation
import XCTest

final class BenchFeedTests: XCTestCase {
    /// Both scenarios: every follower got every post of its room once (GET /messages first, then the feed), the
    /// ratio and the server's RSS are reported.
    func testFeedScenariosVerifyEveryFollower() throws {
        let server = try BenchServer()
        defer { server.stop() }
        for scenario in ["feed", "feed-stream"] {
            let run = try BenchRun.konnect(["bench", "--server", server.url, scenario, "--subscribers", "40", "--rooms", "4",
                                            "--rounds", "3", "--server-pid", String(server.pid), "--json"])
            XCTAssertEqual(run.status, 0, "\(scenario): \(run.stderr)")
            let result = try run.json()
            XCTAssertEqual(result["verified"] as? Bool, true, run.stdout)
            let metrics = try XCTUnwrap(result["metrics"] as? [String: Double])
            for phase in ["messages", "feed"] {
                XCTAssertEqual(metrics["\(phase)_pairs_delivered"], 120, "\(scenario) \(phase): 40 followers × 3 rounds")
                XCTAssertEqual(metrics["\(phase)_misses"], 0, "\(scenario) \(phase)")
                XCTAssertGreaterThan(metrics["\(phase)_server_rss_parked_mb"] ?? 0, 1, "\(scenario) \(phase)")
            }
            XCTAssertGreaterThan(metrics["ratio_p99_feed_to_messages"] ?? 0, 0, scenario)
            let latency = try XCTUnwrap(result["latency"] as? [String: [String: Double]])
            XCTAssertEqual(latency["feed_delivery"]?["count"], 120, scenario)
        }
    }

    /// A follower's record with a planted duplicate or gap fails the run with exit 1, in process and in a worker.
    func testPlantedFaultsFailTheFeedRuns() throws {
        let server = try BenchServer()
        defer { server.stop() }
        let planted: [(args: [String], fault: String)] = [
            (["feed", "--plant-fault", "duplicate"], "duplicate: seq 1"),
            (["feed-stream", "--plant-fault", "gap"], "loss: seq 1"),
            (["feed", "--per-process", "4", "--plant-fault", "gap"], "loss: seq 1"),
            (["feed-stream", "--per-process", "4", "--plant-fault", "duplicate"], "duplicate: seq 1"),
        ]
        for (args, fault) in planted {
            let run = try BenchRun.konnect(["bench", "--server", server.url] + args
                                           + ["--subscribers", "9", "--rooms", "3", "--rounds", "2"])
            XCTAssertEqual(run.status, 1, "\(args): \(run.stdout) \(run.stderr)")
            XCTAssertTrue(run.stdout.contains(fault), "\(args): \(run.stdout)")
            XCTAssertTrue(run.stderr.contains("verification FAILED"), "\(args): \(run.stderr)")
        }
    }
}
