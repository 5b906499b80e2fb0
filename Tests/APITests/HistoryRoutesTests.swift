// End-to-end: ../shared/API.md "GET /messages" — paging, has_more/last_seq, long-poll, and concurrent readers.
import XCTest
import Synchronization
import HTTP
import Chat

final class HistoryRoutesTests: XCTestCase {
    var stack: TestStack!
    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() { stack.stop() }

    /// Posts `count` messages "m1"… from 8 threads (group commit makes this fast); seqs are then 1…count.
    func fill(_ count: Int, room: String = "general") throws {
        let clients = try (0..<8).map { try stack.user("filler\($0)") }
        let next = Atomic<Int>(0), failures = Atomic<Int>(0)
        concurrently(8) { t in
            while true {
                let n = next.add(1, ordering: .relaxed).newValue
                guard n <= count else { return }
                if (try? clients[t].post("/messages", json: ["room": room, "text": "m\(n)"]))?.status != 201 {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        XCTAssertEqual(failures.load(ordering: .relaxed), 0, "posts that were not 201")
    }

    func testCursorsHasMoreAndLastSeq() throws {
        let c = try stack.user("alice")
        for i in 1...5 { try c.say("m\(i)") }
        let newest = try c.get("/messages?limit=2")
        XCTAssertEqual(newest.status, 200, newest.text)
        XCTAssertEqual(newest.seqs, [4, 5])
        XCTAssertEqual(newest.json["has_more"] as? Bool, true)
        XCTAssertEqual(newest.json["last_seq"] as? Int, 5)
        XCTAssertEqual(newest.json["room"] as? String, "general")
        XCTAssertEqual(try c.get("/messages?before=4&limit=2").seqs, [2, 3])
        XCTAssertEqual(try c.get("/messages?before=3&limit=2").json["has_more"] as? Bool, false)
        XCTAssertEqual(try c.get("/messages?after=1&limit=2").seqs, [2, 3])
        XCTAssertEqual(try c.get("/messages?after=1&limit=2").json["has_more"] as? Bool, true)
        let tail = try c.get("/messages?after=3")
        XCTAssertEqual(tail.seqs, [4, 5])
        XCTAssertEqual(tail.json["has_more"] as? Bool, false)
        let empty = try c.get("/messages?after=5&wait=0")
        XCTAssertEqual(empty.seqs, [])
        XCTAssertEqual(empty.json["last_seq"] as? Int, 5)
        // Message texts round-trip in order.
        XCTAssertEqual(try c.get("/messages").messages.compactMap { $0["text"] as? String }, ["m1", "m2", "m3", "m4", "m5"])
    }

    func testBadQueriesAndUnknownRoom() throws {
        let c = try stack.user("bob")
        for q in ["limit=0", "limit=201", "limit=x", "before=0", "after=-1", "before=2&after=1", "before=3&wait=1", "after=0&wait=x",
                  "room=", "room=%FF"] {
            XCTAssertProblem(try c.get("/messages?\(q)"), 400, "invalid_parameter")
        }
        XCTAssertProblem(try c.get("/messages?room=nope"), 404, "room_not_found")
        XCTAssertProblem(try c.get("/messages?room=nope&after=0&wait=5"), 404, "room_not_found")
    }

    func testPagingThroughAThousandMessagesReturnsEachOnce() throws {
        try fill(1000)
        let c = try stack.user("reader")
        var forward: [Int] = [], after = 0
        while true {
            let r = try c.get("/messages?after=\(after)&limit=73")
            XCTAssertEqual(r.status, 200)
            forward += r.seqs
            guard let last = r.seqs.last, r.json["has_more"] as? Bool == true else { break }
            after = last
        }
        XCTAssertEqual(forward, Array(1...1000))
        var backward: [Int] = [], target = "/messages?limit=200"
        while true {
            let r = try c.get(target)
            backward = r.seqs + backward
            guard let first = r.seqs.first, r.json["has_more"] as? Bool == true else { break }
            target = "/messages?limit=200&before=\(first)"
        }
        XCTAssertEqual(backward, Array(1...1000))
        // Texts match seqs: the commit order is the seq order.
        let all = try c.get("/messages?after=0&limit=200").messages
        XCTAssertEqual(Set(all.compactMap { $0["text"] as? String }).count, 200)
    }

    /// Contract v2: `wait` without `after` waits for the next message after the room's newest seq now (issue 12),
    /// and every JSON answer ends with a newline (a shell prompt is not glued to it).
    func testWaitWithoutAfterWaitsForTheNextMessage() throws {
        let c = try stack.user("wally")
        try c.say("before the wait")
        let answer = Mutex<HTTPResponse?>(nil)
        let done = DispatchGroup()
        done.enter()
        Thread { [port = stack.port, token = c.token] in
            let poller = APIClient(port: port, timeout: 30)
            poller.token = token
            let r = try? poller.get("/messages?wait=20")
            answer.withLock { $0 = r }
            poller.close()
            done.leave()
        }.start()
        let deadline = Date().addingTimeInterval(10)
        while stack.chat.parkedWaiters < 1 && Date() < deadline { usleep(10_000) }
        XCTAssertEqual(stack.chat.parkedWaiters, 1, "parked, not answered with the old message")
        try c.say("the next one")
        XCTAssertEqual(done.wait(timeout: .now() + 15), .success)
        let r = try XCTUnwrap(answer.withLock { $0 })
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.messages.compactMap { $0["text"] as? String }, ["the next one"])
        XCTAssertEqual(r.body.last, UInt8(ascii: "\n"))
        XCTAssertEqual(try c.get("/messages?wait=0").body.last, UInt8(ascii: "\n"))
        XCTAssertEqual(try c.get("/messages?room=nope").body.last, UInt8(ascii: "\n"), "problems too")
        XCTAssertProblem(try c.get("/messages?room=nope&wait=5"), 404, "room_not_found")
    }

    func testLongPollTimesOutWithAnEmptyList() throws {
        let c = try stack.user("carol")
        try c.say("one")
        let start = Date()
        let r = try c.get("/messages?after=1&wait=1")
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.seqs, [])
        XCTAssertEqual(r.json["last_seq"] as? Int, 1)
        XCTAssertEqual(r.json["has_more"] as? Bool, false)
        XCTAssertGreaterThanOrEqual(elapsed, 0.9)
        XCTAssertLessThan(elapsed, 10)
        // Something already newer: answered at once.
        XCTAssertEqual(try c.get("/messages?after=0&wait=30").seqs, [1])
    }

    func testHundredParkedPollsAreAllWokenByOnePost() throws {
        let writer = try stack.user("dave")
        let token = writer.token
        let results = Mutex<[[Int]]>([])
        let parked = DispatchGroup()
        for _ in 0..<100 {
            parked.enter()
            Thread { [port = stack.port] in
                let c = APIClient(port: port, timeout: 30)
                c.token = token
                let r = try? c.get("/messages?after=0&wait=20")
                results.withLock { $0.append(r?.seqs ?? [-1]) }
                c.close()
                parked.leave()
            }.start()
        }
        // Wait until all 100 are parked (the gauge counts them), then post once.
        let deadline = Date().addingTimeInterval(15)
        while stack.chat.parkedWaiters < 100 && Date() < deadline { usleep(10_000) }
        XCTAssertEqual(stack.chat.parkedWaiters, 100)
        XCTAssertTrue(try writer.get("/metrics").text.contains("\nkonnect_parked_polls 100\n"), "the gauge shows them")
        try writer.say("wake up")
        XCTAssertEqual(parked.wait(timeout: .now() + 15), .success)
        let all = results.withLock { $0 }
        XCTAssertEqual(all.count, 100)
        XCTAssertTrue(all.allSatisfy { $0 == [1] }, "\(all.filter { $0 != [1] })")
        XCTAssertEqual(stack.chat.parkedWaiters, 0)
    }

    func testConcurrentPostersAndLongPollReadersSeeEverySeqOnceInOrder() throws {
        let posters = try (0..<8).map { try stack.user("poster\($0)") }
        let readerToken = try stack.user("reader").token
        let total = 8 * 100
        let seen = Mutex<[[Int]]>(Array(repeating: [], count: 3))
        let readers = DispatchGroup()
        for r in 0..<3 {
            readers.enter()
            Thread { [port = stack.port] in
                let c = APIClient(port: port, timeout: 30)
                c.token = readerToken
                var after = 0
                while after < total {
                    guard let page = try? c.get("/messages?after=\(after)&wait=10&limit=200"), page.status == 200 else { break }
                    seen.withLock { $0[r] += page.seqs }
                    after = page.seqs.last ?? after
                }
                readers.leave()
            }.start()
        }
        let failures = Atomic<Int>(0)
        concurrently(8) { t in
            for i in 0..<100 where (try? posters[t].post("/messages", json: ["text": "p\(t)-\(i)"]))?.status != 201 {
                failures.add(1, ordering: .relaxed)
            }
        }
        XCTAssertEqual(failures.load(ordering: .relaxed), 0)
        XCTAssertEqual(readers.wait(timeout: .now() + 60), .success)
        for r in 0..<3 {
            XCTAssertEqual(seen.withLock { $0[r] }, Array(1...total), "reader \(r)")
        }
        XCTAssertEqual(try posters[0].get("/messages?limit=1").json["last_seq"] as? Int, total)
    }

    func testDeadlineAnswerHasTheRoomsLastSeqEvenForPostsMadeBehindTheAPI() throws {
        let c = try stack.user("erin")
        // Two posts straight through the domain: the API has not seen this room's seq yet.
        let user = User(username: "erin", createdAt: Timestamp(milliseconds: 0))
        for text in ["a", "b"] {
            let done = DispatchSemaphore(value: 0)
            stack.chat.post(user: user, room: "general", text: text, clientID: nil) { _ in done.signal() }
            done.wait()
        }
        let r = try c.get("/messages?after=5&wait=1")     // ahead of the room: last_seq must still be the real one
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.seqs, [])
        XCTAssertEqual(r.json["last_seq"] as? Int, 2)
    }

    func testClientHangingUpCancelsItsWait() throws {
        let c = try stack.user("frank")
        let token = c.token
        Thread { [port = stack.port] in
            let poller = APIClient(port: port, timeout: 0.5)     // gives up (closes) long before the 30 s wait
            poller.token = token
            _ = try? poller.get("/messages?after=0&wait=30")
            poller.close()
        }.start()
        let deadline = Date().addingTimeInterval(10)
        while stack.chat.parkedWaiters == 0 && Date() < deadline { usleep(5_000) }
        XCTAssertEqual(stack.chat.parkedWaiters, 1)
        while stack.chat.parkedWaiters > 0 && Date() < deadline { usleep(10_000) }
        XCTAssertEqual(stack.chat.parkedWaiters, 0, "the hang-up should cancel the waiter")
    }

    func testShutdownAnswersParkedPollsAtOnceWithAnEmptyList() throws {
        let c = try stack.user("gina")
        try c.say("one")
        let token = c.token
        let answer = Mutex<HTTPResponse?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread { [port = stack.port] in
            let poller = APIClient(port: port, timeout: 30)
            poller.token = token
            answer.withLock { $0 = try? poller.get("/messages?after=1&wait=30") }
            done.signal()
        }.start()
        let deadline = Date().addingTimeInterval(10)
        while stack.chat.parkedWaiters == 0 && Date() < deadline { usleep(5_000) }
        let start = Date()
        stack.stop()
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        let r = try XCTUnwrap(answer.withLock { $0 })
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.seqs, [])
        XCTAssertEqual(r.json["last_seq"] as? Int, 1)
    }
}
