// Issue 13 #4: logins cannot be stalled by a flood — junk names are refused without hashing, each address gets a
// bounded share of the hashing queue, failed logins are throttled per address, and the queue itself is bounded.
@testable import Chat
import Dispatch
import Foundation
import Store
import Synchronization
import XCTest

final class LoginGateTests: XCTestCase {
    private var dir = TempDir()
    override func tearDown() { dir.cleanUp() }

    private func service(clock: TestClock = TestClock(), limits: LoginGate.Limits = LoginGate.Limits(),
                         maxPendingHashes: Int = 64) throws -> ChatService {
        ChatService(store: try SQLiteStore(path: dir.file("\(UUID().uuidString).db")), clock: { clock.now() },
                    passwordCost: 1, loginLimits: limits, maxPendingHashes: maxPendingHashes)
    }

    func testANameNoAccountCanHaveIsRefusedWithoutHashing() throws {
        let chat = try service()
        for name in ["no such user!", "", String(repeating: "a", count: 33), "tab\there"] {
            let before = chat.hasher.hashesComputed
            let result = outcome { chat.login(username: name, password: "whatever it is", clientAddress: "192.0.2.1", completion: $0) }
            XCTAssertEqual(code(result), "invalid_credentials", name)
            XCTAssertEqual(chat.hasher.hashesComputed, before, "no yescrypt for '\(name)'")
        }
        // A well-formed unknown name still costs a hash (timing must not tell which names exist).
        let before = chat.hasher.hashesComputed
        XCTAssertEqual(code(outcome { chat.login(username: "nobody", password: "whatever it is", clientAddress: "192.0.2.1", completion: $0) }),
                       "invalid_credentials")
        XCTAssertEqual(chat.hasher.hashesComputed, before + 1)
    }

    func testFailedLoginsAreThrottledPerAddressAcrossUsernames() throws {
        let clock = TestClock()
        var limits = LoginGate.Limits()
        limits.failures = 6
        let chat = try service(clock: clock, limits: limits)
        _ = try value(outcome { chat.register(username: "real", password: "correct horse", completion: $0) })
        for i in 0..<6 {   // a different username each time: the (username, address) rule alone would never trip
            let result = outcome { chat.login(username: "guess\(i)", password: "wrong password", clientAddress: "198.51.100.9", completion: $0) }
            XCTAssertEqual(code(result), "invalid_credentials")
            clock.advance(seconds: 1)
        }
        let refused = outcome { chat.login(username: "real", password: "correct horse", clientAddress: "198.51.100.9", completion: $0) }
        XCTAssertEqual(code(refused), "too_many_attempts")
        if case .failure(let e) = refused { XCTAssertEqual(e.retryAfter, 15 * 60 - 6) }
        XCTAssertNoThrow(try value(outcome { chat.login(username: "real", password: "correct horse", clientAddress: "198.51.100.10", completion: $0) }),
                         "another address is not affected")
        XCTAssertNoThrow(try value(outcome { chat.register(username: "newcomer", password: "correct horse", clientAddress: "198.51.100.9", completion: $0) }),
                         "failed logins do not stop registration from that address")
        clock.advance(seconds: 15 * 60)
        XCTAssertNoThrow(try value(outcome { chat.login(username: "real", password: "correct horse", clientAddress: "198.51.100.9", completion: $0) }),
                         "the window passes")
    }

    /// One address runs `running` jobs at once; more wait in its line (bounded), other addresses go straight in.
    func testEachAddressRunsABoundedShareAndWaitsInItsOwnLine() {
        var limits = LoginGate.Limits()
        limits.running = 2
        limits.waiting = 3
        let gate = LoginGate(limits: limits)
        let started = Mutex<[String]>([])
        let dones = Mutex<[LoginGate.Done]>([])
        func submit(_ address: String, _ tag: String) -> ChatError? {
            gate.admit(address: address) { done in
                started.withLock { $0.append(tag) }
                dones.withLock { $0.append(done) }
            }
        }
        for i in 0..<5 { XCTAssertNil(submit("flood", "f\(i)")) }
        XCTAssertEqual(submit("flood", "f5"), .loginsBusy, "its line is full")
        XCTAssertEqual(started.withLock { $0 }, ["f0", "f1"])
        XCTAssertNil(submit("real", "r0"))
        XCTAssertEqual(started.withLock { $0 }, ["f0", "f1", "r0"], "another address does not wait behind the flood")
        let first = dones.withLock { $0.removeFirst() }
        first(false)
        XCTAssertEqual(started.withLock { $0 }, ["f0", "f1", "r0", "f2"], "a finished job starts the next in line")
        while let done = dones.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { done(false) }
        XCTAssertEqual(started.withLock { $0 }.count, 6)
        XCTAssertEqual(gate.trackedAddresses, 0, "nothing is kept for addresses with nothing running and no failures")
    }

    func testTheHashingQueueIsBounded() {
        let hasher = PasswordHasher(cost: 0, maxPending: 4)   // the real cost: each job takes milliseconds
        let finished = DispatchGroup()
        var accepted = 0
        for i in 0..<40 {
            finished.enter()
            if hasher.verify("password \(i)", against: nil, completion: { _ in finished.leave() }) {
                accepted += 1
            } else {
                finished.leave()
            }
        }
        XCTAssertLessThan(accepted, 40, "past maxPending jobs are refused, not queued")
        XCTAssertGreaterThanOrEqual(accepted, 4)
        XCTAssertEqual(finished.wait(timeout: .now() + 60), .success)
        XCTAssertTrue(hasher.hasRoom)
    }

    func testAFullHashingQueueIsUnavailableWithRetryAfter() throws {
        let chat = try service(maxPendingHashes: 0)
        let result = outcome { chat.login(username: "someone", password: "a password", clientAddress: "192.0.2.3", completion: $0) }
        XCTAssertEqual(code(result), "unavailable")
        if case .failure(let e) = result {
            XCTAssertEqual(e.retryAfter, 1)
            XCTAssertNil(e.cause, "a busy queue is said as it is, not as a store failure")
        }
        XCTAssertEqual(code(outcome { chat.register(username: "someone", password: "a password", completion: $0) }), "unavailable")
    }
}
