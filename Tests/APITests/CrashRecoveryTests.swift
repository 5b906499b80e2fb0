// A real `konnect serve` process killed with SIGKILL after a burst of 201s: on restart every acknowledged message
// is there (contract: "after a 201, no crash of the server process … loses it") and old tokens still work.
import XCTest
import Foundation
import Synchronization
import Glibc
import HTTP

final class CrashRecoveryTests: XCTestCase {
    func testSIGKILLAfterABurstLosesNoAcknowledgedMessage() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: KonnectProcess.binary.path),
                          "konnect binary not built beside the tests: \(KonnectProcess.binary.path)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("konnect-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("konnect.db").path, log = dir.appendingPathComponent("konnect.log")

        var server = try KonnectProcess(db: db, log: log)
        var setup = APIClient(port: server.port, timeout: 10)
        XCTAssertEqual(try setup.post("/register", json: ["username": "alice", "password": "password123"]).status, 201)
        try setup.login("alice", "password123")
        let token = try XCTUnwrap(setup.token)

        // 8 threads post as fast as they can; once 300 have been acknowledged the server is killed mid-burst.
        let acknowledged = Mutex<[Int: String]>([:])     // seq → text, from 201 answers only
        let killed = Atomic<Bool>(false)
        let port = server.port, process = server
        concurrently(8) { t in
            let c = APIClient(port: port, timeout: 5)
            c.token = token
            var i = 0
            while !killed.load(ordering: .relaxed) {
                i += 1
                let text = "t\(t)-\(i)"
                guard let r = try? c.post("/messages", json: ["text": text]), r.status == 201,
                      let seq = (r.json["message"] as? [String: Any])?["seq"] as? Int else { continue }
                let count = acknowledged.withLock { $0[seq] = text; return $0.count }
                if count >= 300, !killed.exchange(true, ordering: .relaxed) { process.kill() }
            }
            c.close()
        }
        let acked = acknowledged.withLock { $0 }
        XCTAssertGreaterThanOrEqual(acked.count, 300)

        server = try KonnectProcess(db: db, log: log)
        defer { server.kill(SIGTERM) }
        setup = APIClient(port: server.port, timeout: 10)
        setup.token = token                                  // issued before the crash
        XCTAssertEqual(try setup.get("/me").status, 200, "a token from before the crash still works")
        var stored: [Int: String] = [:], after = 0
        while true {
            let page = try setup.get("/messages?after=\(after)&limit=200")
            XCTAssertEqual(page.status, 200)
            for m in page.messages { stored[m["seq"] as? Int ?? -1] = m["text"] as? String }
            guard let last = page.seqs.last else { break }
            after = last
        }
        for (seq, text) in acked { XCTAssertEqual(stored[seq], text, "acknowledged seq \(seq) lost or changed") }
        XCTAssertEqual(stored.keys.sorted(), Array(1...max(1, stored.count)), "seqs are gap-free")
    }
}
