// Two real `konnect serve` processes on one database file: caches never make one miss what the other committed.
import XCTest
import Foundation
import Glibc
import HTTP

final class MultiInstanceTests: XCTestCase {
    /// Contract: a logout "fails with 401 from then on, on every server instance", and history includes what any
    /// instance committed. A's token and page caches are warmed before each change made through B.
    func testCachesFollowTheOtherProcess() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: KonnectProcess.binary.path),
                          "konnect binary not built beside the tests: \(KonnectProcess.binary.path)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("konnect-multi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("konnect.db").path
        let a = try KonnectProcess(db: db, log: dir.appendingPathComponent("a.log"), extra: ["--log-level", "warn"])
        defer { a.kill(SIGTERM) }
        let b = try KonnectProcess(db: db, log: dir.appendingPathComponent("b.log"), extra: ["--log-level", "warn"])
        defer { b.kill(SIGTERM) }
        let onA = APIClient(port: a.port, timeout: 10), onB = APIClient(port: b.port, timeout: 10)
        defer { onA.close(); onB.close() }
        XCTAssertEqual(try onA.post("/register", json: ["username": "twin", "password": "password123"]).status, 201)

        for round in 1...3 {
            try onA.login("twin", "password123")
            onB.token = onA.token
            for _ in 0..<5 {
                XCTAssertEqual(try onA.get("/me").status, 200)
                XCTAssertEqual(try onA.get("/messages?limit=50").seqs, Array(1..<round))
            }
            XCTAssertEqual(try onB.post("/messages", json: ["text": "round \(round)"]).status, 201)
            XCTAssertEqual(try onA.get("/messages?limit=50").seqs, Array(1...round), "B's post is on A at once")
            XCTAssertEqual(try onA.get("/messages?limit=50").seqs, Array(1...round))
            XCTAssertEqual(try onB.post("/logout", json: [:]).status, 204)
            XCTAssertEqual(try onA.get("/me").status, 401, "B's logout holds on A at once (round \(round))")
            XCTAssertEqual(try onA.get("/messages?limit=50").status, 401)
        }
    }
}
