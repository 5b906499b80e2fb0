// Two PostgresStores on one database, as two `konnect serve` instances: wake-ups, logout, idempotency races,
// throttling and seq order across instances; the feed's pos in commit order; a lost listener; PostgreSQL stopped
// and started again.
@testable import Chat
import CPostgres
import Dispatch
import Foundation
@testable import Store
import XCTest

final class PostgresInstancesTests: XCTestCase {
    var server: PostgresTestServer!
    var contract: StoreContract { StoreContract { fatalError("the tests here make their own stores") } }

    override func setUpWithError() throws {
        server = try PostgresTestServer.shared()
    }

    /// Two services, each on its own store, on one fresh database.
    func pair(clock: TestClock = TestClock()) throws -> (ChatService, ChatService) {
        let conninfo = try server.freshDatabase()
        func service() throws -> ChatService {
            ChatService(store: try PostgresStore(conninfo: conninfo), clock: { clock.now() }, passwordCost: 1)
        }
        return (try service(), try service())
    }

    /// Six instances starting at once on an empty database: one migrates (under the advisory lock), the others
    /// find the schema made; `general` exists once.
    func testInstancesStartingTogetherMigrateOnce() throws {
        let conninfo = try server.freshDatabase()
        let stores = Box<[PostgresStore]>([])
        let errors = Box<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            do {
                let store = try PostgresStore(conninfo: conninfo, readers: 1)
                stores.mutate { $0!.append(store) }
            } catch {
                errors.mutate { $0!.append("\(error)") }
            }
        }
        XCTAssertEqual(errors.value, [])
        XCTAssertEqual(stores.value?.count, 6)
        guard let store = stores.value?.first else { return }
        let rooms = try value(outcome { store.rooms(username: "nobody", after: nil, limit: 10, completion: $0) })
        XCTAssertEqual(rooms.rooms.map(\.name), ["general"])
    }

    func testPostOnOneWakesWaiterOnOther() throws {
        let (a, b) = try pair()
        let user = try contract.register(a, "alice")
        let woken = DispatchSemaphore(value: 0)
        let page = Box<HistoryPage>()
        let ticket = b.waitForMessages(room: "general", after: 0, limit: 10) { result in
            page.value = try? result.get()
            woken.signal()
        }
        XCTAssertNotNil(ticket, "nothing posted yet: parked")
        let message = try value(contract.post(a, user, "across")).message
        XCTAssertEqual(woken.wait(timeout: .now() + 5), .success, "the NOTIFY woke the other instance")
        XCTAssertEqual(page.value?.messages, [message])
    }

    /// Tokens are cached for at most 90 ms and evicted by NOTIFY: a logout on A fails the token on B within
    /// 100 ms (../shared/API.md Accounts; issue 11), on A itself at once — also when B's listener is down and the
    /// NOTIFY is lost.
    func testLogoutOnOneFailsOnOtherWithin100ms() throws {
        let (a, b) = try pair()
        _ = try contract.register(a, "bob")
        for round in 0..<2 {
            let session = try value(contract.login(a, "bob"))
            for _ in 0..<3 {    // warm B's cache
                XCTAssertEqual(try value(outcome { b.authenticate(token: session.token, completion: $0) }).username, "bob")
            }
            if round == 1 { try killListeners() }
            _ = try value(outcome { a.logout(token: session.token, completion: $0) })
            let loggedOut = Date()
            XCTAssertEqual(code(outcome { a.authenticate(token: session.token, completion: $0) }), "unauthorized",
                           "at once on the instance that logged out")
            var refusedAfter: Double?
            while Date().timeIntervalSince(loggedOut) < 1 {
                if case .failure = outcome({ b.authenticate(token: session.token, completion: $0) }) {
                    refusedAfter = Date().timeIntervalSince(loggedOut)
                    break
                }
                usleep(2_000)
            }
            // The 100 ms bound holds by construction (an entry is used at most 90 ms after its read started:
            // PostgresCacheLifetimeTests); here, end to end, B refuses the token, also with its listener killed. The
            // delay is printed, not asserted below 100 ms: on a loaded machine the polling loop itself is late.
            XCTAssertNotNil(refusedAfter, "round \(round): B still accepts the token 1 s after the logout")
            print("# logout on A refused on B after \(Int((refusedAfter ?? 1) * 1000)) ms (round \(round))")
            XCTAssertEqual(code(outcome { b.history(token: session.token, room: "general", cursor: .newest, limit: 5, completion: $0) }),
                           "unauthorized")
        }
    }

    /// Public rooms' access is kept in memory (`PostgresAccessCache`); a leave through A counts on B within 100 ms
    /// (its only effect there: `not_member` when adding someone else), also with B's listener killed; private
    /// rooms are never answered from memory, so a removal counts on B at its next request (see the contract's
    /// `membershipFreshAcrossInstances`).
    func testPublicRoomMembershipLeftOnOneCountsOnOtherWithin100ms() throws {
        let (a, b) = try pair()
        let owner = try contract.register(a, "owner"), guest = try contract.register(a, "guest")
        _ = try contract.register(a, "third")
        _ = try value(outcome { a.createRoom(user: owner, name: "club", visibility: nil, completion: $0) })
        /// B's answer to guest adding third: "added"/"alreadyMember", or the error code — never failing the test.
        func guestAddsThirdOnB() -> String {
            switch outcome({ b.addMember(user: guest, room: "club", username: "third", completion: $0) }) {
            case .success(let change): return "\(change)"
            case .failure(let error): return error.code
            }
        }
        /// Seconds until B answers guest's add with something other than `stale`, at most 1.
        func secondsUntilB(leaves stale: (String) -> Bool) -> Double? {
            let start = Date()
            while Date().timeIntervalSince(start) < 1 {
                if !stale(guestAddsThirdOnB()) { return Date().timeIntervalSince(start) }
                usleep(2_000)
            }
            return nil
        }
        for round in 0..<2 {
            _ = try value(outcome { a.addMember(user: guest, room: "club", username: "guest", completion: $0) })
            XCTAssertNotNil(secondsUntilB(leaves: { $0 == "not_member" }), "round \(round): joined on A, a member on B")
            for _ in 0..<3 {    // warm B's cache
                XCTAssertEqual(try value(outcome { b.openRoom(user: guest, room: "club", completion: $0) }).access.isMember, true)
            }
            if round == 1 { try killListeners() }
            _ = try value(outcome { a.removeMember(user: guest, room: "club", username: "guest", completion: $0) })
            XCTAssertEqual(code(outcome { a.addMember(user: guest, room: "club", username: "third", completion: $0) }),
                           "not_member", "at once on the instance that removed")
            let refusedAfter = secondsUntilB(leaves: { $0 != "not_member" })
            // As for logout: the bound is the cache's (PostgresCacheLifetimeTests); the delay is printed.
            XCTAssertNotNil(refusedAfter, "round \(round): B still counts guest a member 1 s after the removal")
            print("# leave on A counted on B after \(Int((refusedAfter ?? 1) * 1000)) ms (round \(round))")
            XCTAssertNoThrow(try value(outcome { b.openRoom(user: guest, room: "club", completion: $0) }),
                             "a public room still admits them")
        }
    }

    /// Ends every listener connection of the test server (their NOTIFYs meanwhile are lost).
    func killListeners() throws {
        let admin = PQconnectdb(server.conninfo())
        defer { PQfinish(admin) }
        PQclear(PQexec(admin, """
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'konnect-listener'
            """))
    }

    func testTwoInstancesRacingOneKeyMakeOneMessage() throws {
        let (a, b) = try pair()
        let user = try contract.register(a, "racer")
        for round in 0..<20 {
            let group = DispatchGroup()
            let outcomes = Box<[PostOutcome]>([])
            for chat in [a, b, a, b] {
                group.enter()
                chat.post(user: user, room: "general", text: "once \(round)", clientID: "key-\(round)") { result in
                    if case .success(let o) = result { outcomes.mutate { $0!.append(o) } }
                    group.leave()
                }
            }
            XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
            let all = outcomes.value ?? []
            XCTAssertEqual(all.count, 4)
            XCTAssertEqual(all.filter(\.isCreated).count, 1, "round \(round)")
            XCTAssertEqual(Set(all.map(\.message)).count, 1, "every answer is the original")
        }
        let page = try value(contract.history(b, .newest, limit: 50))
        XCTAssertEqual(page.lastSeq, 20)
        XCTAssertEqual(page.messages.map(\.seq), Array(1...20))
    }

    /// 8 threads over two instances, 100 posts each: seqs 1…800 once each, and each instance's waiters see them
    /// all in order.
    func testConcurrentPostsOnTwoInstancesAreGapless() throws {
        let (a, b) = try pair()
        let user = try contract.register(a, "burst")
        let group = DispatchGroup()
        let seqs = Box<[Int64]>([])
        for _ in 0..<800 { group.enter() }
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            let chat = thread % 2 == 0 ? a : b
            for i in 0..<100 {
                chat.post(user: user, room: "general", text: "t\(thread) #\(i)", clientID: nil) { result in
                    if case .success(let o) = result { seqs.mutate { $0!.append(o.message.seq) } }
                    group.leave()
                }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(seqs.value?.sorted(), Array(1...800))
        for chat in [a, b] {
            var seen: [Int64] = []
            var after: Int64 = 0
            while true {
                let page = try value(contract.history(chat, .after(after), limit: 200))
                seen += page.messages.map(\.seq)
                guard let last = page.messages.last else { break }
                after = last.seq
            }
            XCTAssertEqual(seen, Array(1...800))
        }
    }

    /// Ten wrong guesses spread over both instances: exactly five are tried.
    func testThrottlingCountsAcrossInstances() throws {
        let (a, b) = try pair()
        _ = try contract.register(a, "target")
        let group = DispatchGroup()
        let codes = Box<[String]>([])
        for i in 0..<10 {
            group.enter()
            (i % 2 == 0 ? a : b).login(username: "target", password: "guess number \(i)", clientAddress: "192.0.2.7") { result in
                if case .failure(let e) = result { codes.mutate { $0!.append(e.code) } }
                group.leave()
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 20), .success)
        let all = codes.value ?? []
        XCTAssertEqual(all.filter { $0 == "invalid_credentials" }.count, 5, "\(all)")
        XCTAssertEqual(all.filter { $0 == "too_many_attempts" }.count, 5, "\(all)")
    }

    /// The listener connections are killed and a post lands while they are down (its NOTIFY is lost): the
    /// waiter on the other instance is answered anyway, by the re-check after reconnecting.
    func testLostListenerRechecksEveryRoom() throws {
        let (a, b) = try pair()
        let user = try contract.register(a, "nudge")
        let woken = DispatchSemaphore(value: 0)
        let page = Box<HistoryPage>()
        XCTAssertNotNil(b.waitForMessages(room: "general", after: 0, limit: 10) { result in
            page.value = try? result.get()
            woken.signal()
        })
        try killListeners()
        let message = try value(contract.post(a, user, "while deaf")).message
        XCTAssertEqual(woken.wait(timeout: .now() + 10), .success, "woken after the listener came back")
        XCTAssertEqual(page.value?.messages, [message])
    }

    /// PostgreSQL stopped like a crash: every call is `unavailable` (never a false success), waiters stay parked;
    /// started again, the store serves again by itself and the parked waiter gets the next post.
    func testServerRestartIsUnavailableThenRecovers() throws {
        let own = try PostgresTestServer()
        defer { own.stop() }
        let clock = TestClock()
        let conninfo = try own.freshDatabase()
        let a = ChatService(store: try PostgresStore(conninfo: conninfo), clock: { clock.now() }, passwordCost: 1)
        let b = ChatService(store: try PostgresStore(conninfo: conninfo), clock: { clock.now() }, passwordCost: 1)
        let user = try contract.register(a, "phoenix")
        _ = try value(contract.post(a, user, "before"))
        let woken = DispatchSemaphore(value: 0)
        let page = Box<HistoryPage>()
        XCTAssertNotNil(b.waitForMessages(room: "general", after: 1, limit: 10) { result in
            page.value = try? result.get()
            woken.signal()
        })
        // The registration's own read (is there anything after 1 yet?) must land before the server goes: a read
        // that fails answers the waiter with 503 (ChatService), which is right, but not what is tested here.
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(b.parkedWaiters, 1)
        own.stop(mode: "immediate", remove: false)
        XCTAssertEqual(code(contract.post(a, user, "during")), "unavailable")
        XCTAssertEqual(code(contract.history(a, .newest, limit: 5)), "unavailable")
        XCTAssertFalse(outcomeBool { a.health(completion: $0) })
        XCTAssertEqual(b.parkedWaiters, 1, "held requests stay held")
        try own.start()
        var posted: Message?
        let deadline = Date().addingTimeInterval(20)
        while posted == nil, Date() < deadline {
            if case .success(let o) = contract.post(a, user, "after") { posted = o.message } else { Thread.sleep(forTimeInterval: 0.1) }
        }
        XCTAssertEqual(posted?.seq, 2, "serving again, and the failed post made nothing")
        XCTAssertEqual(woken.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(page.value?.messages.map(\.text), ["after"])
        XCTAssertTrue(outcomeBool { b.health(completion: $0) })
    }

    /// Issue 11: the feed's `pos` is in commit order over every instance, so a follower never misses a row
    /// committed late with a lower number. Writers on both instances; meanwhile a transaction takes its position
    /// FIRST (the writer's own statement, `PGSQL.appendEvents`: the follower joins `side`) and commits LAST, 0.5 s
    /// later. A follower that always passes `next` back, reading from both instances in turn, sees every event of
    /// its rooms exactly once, in pos order — the late one too (a SEQUENCE would have let it read past it).
    func testFeedFollowerSeesEveryEventOnceInCommitOrderAcrossInstances() throws {
        let (a, b) = try pair()
        let follower = try contract.register(a, "follower")
        let writers = [(a, try contract.register(a, "w1")), (b, try contract.register(b, "w2"))]
        _ = try value(outcome { a.createRoom(user: writers[0].1, name: "side", visibility: nil, completion: $0) })
        let conninfo = (a.store as! PostgresStore).conninfo

        let seen = Box<[FeedEvent]>([])
        let writing = Box<Bool>(true)
        let followed = DispatchSemaphore(value: 0)
        nonisolated(unsafe) let contract = self.contract   // its helpers only call the services: no state of its own
        DispatchQueue.global().async {
            var next: Int64 = 0, round = 0, quietRounds = 0
            // Until the writers are done and two reads in a row brought nothing more.
            while writing.value == true || quietRounds < 2 {
                round += 1
                guard let page = try? contract.feed(round % 2 == 0 ? a : b, follower, after: next, limit: 7) else { continue }
                seen.mutate { $0!.append(contentsOf: page.events) }
                quietRounds = page.events.isEmpty && writing.value == false ? quietRounds + 1 : 0
                next = page.next
            }
            followed.signal()
        }
        let group = DispatchGroup()
        for (w, (chat, user)) in (writers + writers).enumerated() {
            DispatchQueue.global().async(group: group) {
                for i in 0..<60 { _ = contract.post(chat, user, "w\(w) #\(i)") }
            }
        }
        usleep(100_000)
        let late = try PostgresConnection(conninfo: conninfo)
        try late.execute("BEGIN")
        try late.execute("""
            INSERT INTO room_members (room_id, user_id) SELECT r.id, u.id FROM rooms r, users u
            WHERE r.name = 'side' AND u.username_key = 'follower'
            """)
        let ids = try late.query("""
            SELECT r.id, u.id FROM rooms r, users u WHERE r.name = 'side' AND u.username_key = 'follower'
            """, []) { ($0.int(0), $0.int(1)) }.first!
        let latePos = try late.query(PGSQL.appendEvents, [
            .int(1), .text("{joined}"), .text("{\(ids.0)}"), .text("{NULL}"), .text("{\(ids.1)}"),
        ]) { $0.int(0) }.first!
        usleep(500_000)                            // the writers queue behind the counter's row lock meanwhile
        try late.commit()
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        writing.value = false
        XCTAssertEqual(followed.wait(timeout: .now() + 30), .success)

        let events = seen.value ?? []
        XCTAssertEqual(events.map(\.pos), events.map(\.pos).sorted(), "pos order")
        XCTAssertEqual(Set(events.map(\.pos)).count, events.count, "each once")
        let described = contract.describe(events)
        XCTAssertEqual(described.filter { $0 == "+side" }.count, 1, "the late commit is seen once")
        XCTAssertEqual(events.first { $0.room == "side" }?.pos, latePos)
        XCTAssertEqual(described.first, "+general")
        var expected = Set<String>()
        for w in 0..<4 { for i in 0..<60 { expected.insert("general:w\(w) #\(i)") } }
        XCTAssertEqual(Set(described.filter { $0.hasPrefix("general:") }), expected)
        XCTAssertEqual(described.count, 2 + 240)
        XCTAssertGreaterThan(events.filter { $0.pos > latePos }.count, 0, "writers committed after the late one")
        // From an old cursor: the same events at the same positions (a `joined` carries the room as it is now).
        let again = try contract.wholeFeed(b, follower, limit: 100)
        XCTAssertEqual(again.map(\.pos), events.map(\.pos))
        XCTAssertEqual(contract.describe(again), described)
    }

    /// A follower held on B while B's listener is down (the NOTIFY of A's commit lost) is answered anyway: B
    /// reports the feed once after reconnecting, and the follower re-reads.
    func testLostListenerWakesHeldFeed() throws {
        let (a, b) = try pair()
        let ann = try contract.register(a, "ann"), ben = try contract.register(b, "ben")
        let start = try contract.feed(b, ben, after: nil).next
        let got = Box<FeedPage>()
        let woken = DispatchSemaphore(value: 0)
        XCTAssertNotNil(b.waitForEvents(user: ben, after: start, limit: 10) { result in
            got.value = try? result.get()
            woken.signal()
        })
        Thread.sleep(forTimeInterval: 0.5)         // the registration's own read is back: parked
        XCTAssertEqual(b.feedFollowers, 1)
        try killListeners()
        _ = try value(contract.post(a, ann, "while deaf"))
        XCTAssertEqual(woken.wait(timeout: .now() + 10), .success, "woken after the listener came back")
        XCTAssertEqual(contract.describe(got.value?.events ?? []), ["general:while deaf"])
    }

    private func outcomeBool(_ body: (@escaping @Sendable (Bool) -> Void) -> Void) -> Bool {
        let box = Box<Bool>()
        let done = DispatchSemaphore(value: 0)
        body { box.value = $0; done.signal() }
        _ = done.wait(timeout: .now() + 10)
        return box.value ?? false
    }
}
