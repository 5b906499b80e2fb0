// ../shared/API.md "Rate limits": one bucket per account for the posting routes, 429 rate_limited with Retry-After,
// RateLimit-Policy and RateLimit on every answer of those routes.
import XCTest
import Synchronization
@testable import API
import HTTP

final class RateLimitTests: XCTestCase {
    func testPostsAndRoomCreationShareOneBucketPerAccount() throws {
        let stack = try TestStack(postRateLimit: PostRateLimit(burst: 5, rate: 0.5))
        defer { stack.stop() }
        let alice = try stack.user("alice"), bob = try stack.user("bob")
        for i in 0..<3 {
            let r = try alice.post("/messages", json: ["text": "hi \(i)"])
            XCTAssertEqual(r.status, 201, r.text)
            XCTAssertEqual(r.headers["RateLimit-Policy"], #""post";q=5;w=10"#)
            XCTAssertEqual(r.headers["RateLimit"]?.hasPrefix(#""post";r=\#(4 - i);t="#), true, r.headers["RateLimit"] ?? "none")
        }
        // Refused and replayed requests take their token too (the contract).
        XCTAssertProblem(try alice.post("/messages", json: ["text": "   "]), 400, "empty_text")
        let created = try alice.post("/rooms", json: ["name": "side"])
        XCTAssertEqual(created.status, 201, "room creation shares the bucket (issue 13 #10)")
        XCTAssertEqual(created.headers["RateLimit"]?.hasPrefix(#""post";r=0;"#), true)

        for refused in [try alice.post("/messages", json: ["text": "one too many"]), try alice.post("/rooms", json: ["name": "more"])] {
            XCTAssertProblem(refused, 429, "rate_limited")
            let retry = try XCTUnwrap(Int(refused.headers["Retry-After"] ?? ""))
            XCTAssertTrue((1...2).contains(retry), "a token every 2 s: \(retry)")
            XCTAssertEqual(refused.headers["RateLimit-Policy"], #""post";q=5;w=10"#)
            XCTAssertEqual(refused.headers["RateLimit"]?.hasPrefix(#""post";r=0;t="#), true)
        }
        XCTAssertEqual(try bob.post("/messages", json: ["text": "bob is not limited by alice"]).status, 201)
        XCTAssertEqual(try alice.get("/messages").status, 200, "reading is not limited")
        XCTAssertNil(try alice.get("/messages").headers["RateLimit"])

        let anonymous = try stack.client().post("/messages", json: ["text": "no token"])
        XCTAssertProblem(anonymous, 401, "unauthorized")
        XCTAssertEqual(anonymous.headers["RateLimit-Policy"], #""post";q=5;w=10"#, "the policy is advertised to everyone")
        XCTAssertNil(anonymous.headers["RateLimit"], "no account, no bucket")
    }

    func testTheBucketRefillsAtTheRateAndNeverPastTheBurst() {
        let now = Mutex<Double>(100)
        let limiter = PostLimiter(PostRateLimit(burst: 3, rate: 2), clock: { now.withLock { $0 } })
        XCTAssertEqual(limiter.policy, #""post";q=3;w=2"#)
        XCTAssertEqual(limiter.take(account: "a"), .allowed(remaining: 2, reset: 1))
        XCTAssertEqual(limiter.take(account: "a"), .allowed(remaining: 1, reset: 1))
        XCTAssertEqual(limiter.take(account: "a"), .allowed(remaining: 0, reset: 2))
        XCTAssertEqual(limiter.take(account: "a"), .refused(retryAfter: 1, reset: 2))
        XCTAssertEqual(limiter.take(account: "b"), .allowed(remaining: 2, reset: 1), "accounts are apart")
        now.withLock { $0 += 0.5 }                  // one token back
        XCTAssertEqual(limiter.take(account: "a"), .allowed(remaining: 0, reset: 2))
        now.withLock { $0 += 3600 }                 // a long pause refills to the burst, not beyond
        for remaining in [2, 1, 0] { XCTAssertEqual(limiter.take(account: "a"), .allowed(remaining: remaining, reset: remaining == 0 ? 2 : 1)) }
        XCTAssertEqual(limiter.take(account: "a"), .refused(retryAfter: 1, reset: 2))
    }

    func testIdleBucketsAreDroppedPastTheAccountBound() {
        let now = Mutex<Double>(0)
        let limiter = PostLimiter(PostRateLimit(burst: 2, rate: 1), maxAccounts: 10, clock: { now.withLock { $0 } })
        for i in 0..<10 { _ = limiter.take(account: "user\(i)") }
        XCTAssertEqual(limiter.take(account: "busy"), .allowed(remaining: 1, reset: 1), "a full table still serves")
        XCTAssertEqual(limiter.trackedAccounts, 11, "nothing was idle yet")
        now.withLock { $0 += 10 }
        for i in 0..<10 { _ = limiter.take(account: "more\(i)") }   // the sweep comes when the table has doubled
        _ = limiter.take(account: "late")
        XCTAssertLessThanOrEqual(limiter.trackedAccounts, 12, "refilled buckets were dropped")
        XCTAssertEqual(limiter.take(account: "late"), .allowed(remaining: 0, reset: 2), "a kept bucket keeps its count")
    }
}
