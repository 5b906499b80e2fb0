// What reader caches save while posts commit (printed, never asserted). Runs only with KONNECT_BENCH=1:
//   KONNECT_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter SQLiteReaderCacheBenchmarkTests
import Chat
import Dispatch
import Foundation
import Store
import XCTest

final class SQLiteReaderCacheBenchmarkTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["KONNECT_BENCH"] == "1", "set KONNECT_BENCH=1")
    }

    /// A fan-out's shape: after each post (through another instance on the file), every one of 2,000 distinct
    /// sessions authenticates and reads the newest page of an unrelated room, as re-polls do.
    func testAuthenticateAndReadAfterEachPost() throws {
        let dir = TempDir()
        defer { dir.cleanUp() }
        let a = ChatService(store: try SQLiteStore(path: dir.file()), passwordCost: 1)
        let b = ChatService(store: try SQLiteStore(path: dir.file()), passwordCost: 1)
        _ = try value(outcome { a.createRoom(name: "quiet", completion: $0) })
        var tokens: [String] = []
        var poster: User?
        for i in 0..<2000 {
            let user = try value(outcome { a.register(username: "u\(i)", password: "password \(i)", completion: $0) })
            poster = poster ?? user
            tokens.append(try value(outcome {
                a.login(username: "u\(i)", password: "password \(i)", clientAddress: "::1", completion: $0)
            }).token)
        }
        let rounds = 50
        let start = DispatchTime.now()
        for round in 0..<rounds {
            _ = outcome { b.post(user: poster!, room: "general", text: "round \(round)", clientID: nil, completion: $0) }
            for token in tokens {
                a.history(token: token, room: "quiet", cursor: .newest, limit: 50) { _ in }
            }
        }
        let s = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        print("BENCH \(rounds) posts, each followed by \(tokens.count) authenticated reads: \(Int(s * 1000)) ms, "
              + "\(Int(Double(rounds * tokens.count) / s)) reads/s on one thread")
    }
}
