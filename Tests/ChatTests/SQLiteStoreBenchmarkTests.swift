// Throughput numbers for the SQLite store (printed, never asserted). Runs only with KONNECT_BENCH=1:
//   KONNECT_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter SQLiteStoreBenchmarkTests
@testable import Chat
import Dispatch
import Foundation
import Store
import XCTest

final class SQLiteStoreBenchmarkTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["KONNECT_BENCH"] == "1", "set KONNECT_BENCH=1")
    }

    /// 64 clients, each posting its next message as soon as the previous one is durably stored.
    func testDurablePostsWith64Clients() throws {
        let dir = TempDir(base: ProcessInfo.processInfo.environment["KONNECT_BENCH_DIR"])
        defer { dir.cleanUp() }
        let chat = ChatService(store: try SQLiteStore(path: dir.file()), passwordCost: 1)
        let user = try value(outcome { chat.register(username: "bench", password: "bench password", completion: $0) })
        let clients = 64
        let seconds = 5.0
        let deadline = DispatchTime.now() + seconds
        let done = DispatchGroup()
        @Sendable func loop(_ client: Int, _ n: Int) {
            if DispatchTime.now() >= deadline { return done.leave() }
            chat.post(user: user, room: "general", text: "client \(client) message \(n)", clientID: "c\(client)-\(n)") { _ in
                loop(client, n + 1)
            }
        }
        let start = Timestamp.now()
        for client in 0..<clients {
            done.enter()
            DispatchQueue.global().async { loop(client, 0) }
        }
        XCTAssertEqual(done.wait(timeout: .now() + seconds + 30), .success)
        let elapsed = Double(Timestamp.now().milliseconds - start.milliseconds) / 1000
        let page = try value(outcome { chat.history(room: "general", cursor: .newest, limit: 1, completion: $0) })
        print("BENCH durable posts: \(page.lastSeq) in \(elapsed) s = \(Int(Double(page.lastSeq) / elapsed)) posts/s, \(clients) clients, dir \(dir.path)")
    }

    /// 10,000 waiters on one room woken by one post: one page build for all.
    func testWakeTenThousandWaiters() throws {
        let dir = TempDir()
        defer { dir.cleanUp() }
        let chat = ChatService(store: try SQLiteStore(path: dir.file()), passwordCost: 1)
        let user = try value(outcome { chat.register(username: "bench", password: "bench password", completion: $0) })
        let group = DispatchGroup()
        for _ in 0..<10_000 {
            group.enter()
            _ = chat.waitForMessages(room: "general", after: 0, limit: 50) { _ in group.leave() }
        }
        let start = DispatchTime.now()
        chat.post(user: user, room: "general", text: "wake", clientID: nil) { _ in }
        XCTAssertEqual(group.wait(timeout: .now() + 30), .success)
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
        print("BENCH wake 10000 waiters: post + wake in \(ms) ms")
    }

    /// authenticate: SHA-256 + one indexed read per call.
    func testAuthenticate() throws {
        let dir = TempDir()
        defer { dir.cleanUp() }
        let chat = ChatService(store: try SQLiteStore(path: dir.file()), passwordCost: 1)
        _ = try value(outcome { chat.register(username: "bench", password: "bench password", completion: $0) })
        let session = try value(outcome { chat.login(username: "bench", password: "bench password", clientAddress: "::1", completion: $0) })
        let n = 100_000
        let start = DispatchTime.now()
        for _ in 0..<n { chat.authenticate(token: session.token) { _ in } }
        let s = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        print("BENCH authenticate: \(Int(Double(n) / s)) /s on one thread")
    }

    /// Login at the default yescrypt cost (what production uses): right password, wrong password, unknown user
    /// (the last two should cost the same), 10 each, interleaved so machine load hits all alike.
    func testDefaultCostLogin() throws {
        let dir = TempDir()
        defer { dir.cleanUp() }
        let chat = ChatService(store: try SQLiteStore(path: dir.file()))
        _ = try value(outcome { chat.register(username: "bench", password: "bench password", completion: $0) })
        func timed(_ name: String, _ password: String, _ address: String) -> Double {
            let start = DispatchTime.now()
            _ = outcome { chat.login(username: name, password: password, clientAddress: address, completion: $0) }
            return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
        }
        var right = 0.0, wrong = 0.0, unknown = 0.0
        for i in 0..<10 {
            right += timed("bench", "bench password", "10.0.0.\(i)")
            wrong += timed("bench", "wrong password", "10.0.1.\(i)")
            unknown += timed("nobody", "bench password", "10.0.2.\(i)")
        }
        print("BENCH login at default yescrypt cost (mean of 10): right password \(right / 10) ms, "
              + "wrong password \(wrong / 10) ms, unknown user \(unknown / 10) ms")
    }
}
