// Issue 10: a post to many ndjson/SSE followers of the feed is encoded once, and every stream gets the same bytes.
import Foundation
import XCTest
@testable import API

final class EventsEncodingTests: XCTestCase {
    var stack: TestStack!

    override func setUpWithError() throws {
        try TestStack.requireSQLite(for: "the feed")
        stack = try TestStack()
    }

    override func tearDown() { stack?.stop() }   // nil when setUp skipped

    func testOnePostToManyStreamsIsEncodedOnce() throws {
        let users = try (0..<6).map { try stack.user("reader\($0)") }
        let streams = try users.enumerated().map { i, user in
            try FeedStream(port: stack.port, path: "/events", headers: [
                ("Accept", i % 2 == 0 ? "application/x-ndjson" : "text/event-stream"), ("Authorization", "Bearer \(user.token!)")])
        }
        for stream in streams { XCTAssertTrue(stream.readHead()) }
        let parked = Date().addingTimeInterval(10)
        while stack.chat.feedFollowers < streams.count && Date() < parked { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertEqual(stack.chat.feedFollowers, streams.count)
        let before = FeedEventCache.shared.hitsAndMisses
        _ = try users[0].say("once for all")
        var json: [String] = []
        for (i, stream) in streams.enumerated() {
            var line = stream.line() ?? ""
            if i % 2 == 1 {                               // SSE: skip the ": connected" comment, then id:, data:
                while !line.hasPrefix("data: "), let next = stream.line() { line = next }
                line.removeFirst("data: ".count)
            }
            json.append(line)
        }
        XCTAssertEqual(describeEvents(json.map(parseJSON)), Array(repeating: "general:once for all", count: streams.count))
        XCTAssertEqual(Set(json).count, 1, "every stream got the same bytes")
        let after = FeedEventCache.shared.hitsAndMisses
        XCTAssertEqual(after.misses - before.misses, 2, "encoded once per form (ndjson line, SSE event)")
        XCTAssertEqual(after.hits - before.hits, streams.count - 2, "the other streams reuse those bytes")
        for stream in streams { stream.close() }
    }
}
