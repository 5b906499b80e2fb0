// The feed's followers decided in memory: a commit of this process answers the followers it concerns from its own
// events (no store read), moves the others' `seen` on, and a commit of another process makes them read.
@testable import Chat
import Dispatch
import Foundation
@testable import Store
import XCTest

final class FeedWaiterRegistryTests: XCTestCase {
    var dir = TempDir()
    override func tearDown() { dir.cleanUp() }

    func testLocalCommitsAnswerFromMemory() throws {
        let store = CountingStore(try SQLiteStore(path: dir.file()))
        let chat = ChatService(store: store, passwordCost: 1)
        let contract = StoreContract { store }
        let ann = try contract.register(chat, "ann"), bob = try contract.register(chat, "bob")
        _ = try value(contract.create(chat, bob, "elsewhere"))
        let start = try contract.feed(chat, ann, after: nil).next
        let got = Box<FeedPage>()
        let done = DispatchSemaphore(value: 0)
        let ticket = chat.waitForEvents(user: ann, after: start, limit: 10) { got.value = try? $0.get(); done.signal() }
        XCTAssertNotNil(ticket)
        let reads = store.feedReads.value ?? 0
        // Not hers: no read, and her known position moves on.
        _ = try value(contract.post(chat, bob, "not for ann", room: "elsewhere"))
        let elsewhere = try contract.feed(chat, bob, after: nil).next
        // The writer reports a commit just after completing its posts.
        let deadline = DispatchTime.now() + 5
        while chat.feedPosition(ticket!) != elsewhere && DispatchTime.now() < deadline { usleep(1000) }
        XCTAssertEqual(chat.feedPosition(ticket!), elsewhere)
        XCTAssertEqual(store.feedReads.value ?? 0, reads + 1, "only the test's own read of bob's feed")
        // Hers: answered from the commit's events, still no read.
        let message = try value(contract.post(chat, bob, "for ann")).message
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(got.value?.events.map(\.kind), [.message(message)])
        XCTAssertEqual(got.value?.next, got.value?.events.last?.pos)
        XCTAssertEqual(got.value?.hasMore, false)
        XCTAssertEqual(store.feedReads.value ?? 0, reads + 1, "decided from memory")
        // The same page as a read from her old cursor gives.
        XCTAssertEqual(try contract.feed(chat, ann, after: start).events, got.value?.events)
        // Her own membership change: a joined, from memory too.
        let again = Box<FeedPage>()
        let second = DispatchSemaphore(value: 0)
        XCTAssertNotNil(chat.waitForEvents(user: ann, after: got.value!.next, limit: 10) { again.value = try? $0.get(); second.signal() })
        let before = store.feedReads.value ?? 0
        XCTAssertEqual(try value(contract.add(chat, bob, "elsewhere", "ann")), .added)
        XCTAssertEqual(second.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(again.value.map { contract.describe($0.events) }, ["+elsewhere"])
        XCTAssertEqual(store.feedReads.value ?? 0, before, "decided from memory")
    }

    /// Issue 10: 10,000 followers re-poll after every answer. A re-poll from the `next` just handed out parks
    /// without a store read, and one from an older cursor is answered from the latest commits: one read per
    /// follower to learn its rooms, then none per round, whatever the number of followers.
    func testRePollsAreDecidedFromMemory() throws {
        let store = CountingStore(try SQLiteStore(path: dir.file()))
        let chat = ChatService(store: store, passwordCost: 1)
        let contract = StoreContract { store }
        let users = try (0..<12).map { try contract.register(chat, "user\($0)") }
        _ = try value(contract.create(chat, users[0], "side"))
        for user in users[1..<6] { XCTAssertEqual(try value(contract.add(chat, users[0], "side", user.username)), .added) }
        let start = try contract.feed(chat, users[0], after: nil).next
        var cursors = users.map { _ in start }
        var pages = users.map { _ in Box<FeedPage>() }
        var answered = DispatchSemaphore(value: 0)
        var tickets: [WaitTicket?] = []
        func pollAll() {
            pages = users.map { _ in Box<FeedPage>() }
            answered = DispatchSemaphore(value: 0)
            let semaphore = answered
            tickets = users.indices.map { i in
                let box = pages[i]
                return chat.waitForEvents(user: users[i], after: cursors[i], limit: 10) { result in
                    box.value = try? result.get()
                    semaphore.signal()
                }
            }
        }
        for round in 0..<3 {
            let before = store.feedReads.value ?? 0
            pollAll()
            XCTAssertTrue(tickets.allSatisfy { $0 != nil }, "round \(round): nothing new yet, parked")
            XCTAssertEqual((store.feedReads.value ?? 0) - before, round == 0 ? users.count : 0,
                           "round \(round): store reads for \(users.count) polls (one each to learn their rooms, then none)")
            let posted = try value(contract.post(chat, users[0], "everyone \(round)")).message
            for _ in users { XCTAssertEqual(answered.wait(timeout: .now() + 10), .success) }
            XCTAssertEqual((store.feedReads.value ?? 0) - before, round == 0 ? users.count : 0, "round \(round): answered from memory")
            for i in users.indices {
                XCTAssertEqual(pages[i].value?.events.map(\.kind), [.message(posted)], "round \(round), user\(i)")
                cursors[i] = try XCTUnwrap(pages[i].value?.next)
            }
        }
        // A post in side answers its members from memory; the others stay parked and move on.
        let before = store.feedReads.value ?? 0
        pollAll()
        let side = try value(contract.post(chat, users[0], "side only", room: "side")).message
        for _ in 0..<6 { XCTAssertEqual(answered.wait(timeout: .now() + 10), .success) }
        for i in 0..<6 { XCTAssertEqual(pages[i].value?.events.map(\.kind), [.message(side)], "user\(i)") }
        let newest = try XCTUnwrap(pages[0].value?.next)
        for i in 6..<12 {
            XCTAssertNil(pages[i].value, "user\(i) is not in side")
            XCTAssertEqual(chat.cancelFeedWait(tickets[i]!), newest, "user\(i) has seen up to the side post")
        }
        XCTAssertEqual((store.feedReads.value ?? 0) - before, 0, "decided from memory")
        // An older cursor, within the latest commits: answered at once with the same events a read gives.
        for user in [users[3], users[9]] {
            let old = Box<FeedPage>()
            let reads = store.feedReads.value ?? 0
            XCTAssertNil(chat.waitForEvents(user: user, after: start, limit: 100) { old.value = try? $0.get() })
            XCTAssertEqual(store.feedReads.value ?? 0, reads, "from memory")
            XCTAssertEqual(old.value?.events, try contract.feed(chat, user, after: start).events)
            XCTAssertEqual(old.value?.events.count, user == users[3] ? 4 : 3)
            XCTAssertEqual(old.value?.next, newest)
        }
    }
}

/// The registry alone, with commits made up: what it decides without a store.
final class FeedWaiterRegistryUnitTests: XCTestCase {
    func message(_ pos: Int64, _ room: String, seq: Int64) -> FeedEvent {
        FeedEvent(pos: pos, room: room, kind: .message(Message(id: "m\(pos)", room: room, seq: seq, user: "x", text: "t\(pos)",
                                                           createdAt: Timestamp(milliseconds: pos), clientID: nil)), user: nil)
    }

    func joined(_ pos: Int64, _ room: String, _ user: String) -> FeedEvent {
        FeedEvent(pos: pos, room: room, kind: .joined(RoomView(room: Room(name: room, createdAt: Timestamp(milliseconds: 0),
                                                                          lastSeq: 0), joined: true)), user: user)
    }

    /// A follower armed once; what register decides next for the same user.
    func armed(_ registry: FeedWaiterRegistry, user: String, rooms: [String], at pos: Int64) -> WaitTicket {
        guard case .unknown(let ticket) = registry.register(user: user, after: pos, limit: 10, onWake: { _ in },
                                                            onReady: { _ in XCTFail("not expected") }) else {
            XCTFail("first poll of \(user) must read")
            return WaitTicket(id: 0)
        }
        guard case .armed = registry.arm(ticket, rooms: rooms, next: pos) else {
            XCTFail("arm")
            return ticket
        }
        return ticket
    }

    func testCommitVisitsOnlyItsRoomsAndMovesEveryoneOn() {
        let registry = FeedWaiterRegistry()
        XCTAssertTrue(registry.advance(newest: 10, events: nil).isEmpty)
        let a = armed(registry, user: "ann", rooms: ["general", "a"], at: 10)
        let b = armed(registry, user: "bob", rooms: ["general", "b"], at: 10)
        let wakes = registry.advance(newest: 12, events: [message(11, "a", seq: 1), message(12, "a", seq: 2)])
        XCTAssertEqual(wakes.count, 1)
        guard case .answer(let follower, let page)? = wakes.first else { return XCTFail("ann answered from memory") }
        XCTAssertEqual(follower.ticket, a)
        XCTAssertEqual(page.events.map(\.pos), [11, 12])
        XCTAssertEqual(page.next, 12)
        XCTAssertEqual(registry.seen(b), 12, "bob was not visited, yet has seen up to 12")
        XCTAssertNil(registry.seen(a))
        XCTAssertEqual(registry.count, 1)
    }

    /// One commit over many rooms: each follower gets its rooms' events and its own joined, in commit order, and
    /// a room it joins within the commit counts from its joined on (a message reaches the members at its pos).
    func testCommitOverManyRoomsKeepsOrderPerFollower() {
        let registry = FeedWaiterRegistry()
        _ = registry.advance(newest: 10, events: nil)
        _ = armed(registry, user: "ann", rooms: ["a", "b"], at: 10)
        _ = armed(registry, user: "bob", rooms: ["b", "c", "d", "e"], at: 10)
        let commit = [message(11, "a", seq: 1), message(12, "b", seq: 1), joined(13, "c", "ann"), message(14, "c", seq: 1),
                      message(15, "a", seq: 2), message(16, "z", seq: 1), message(17, "e", seq: 1)]
        var pages: [String: [Int64]] = [:]
        for wake in registry.advance(newest: 17, events: commit) {
            guard case .answer(let f, let page) = wake else { return XCTFail("answered from memory") }
            pages[f.user] = page.events.map(\.pos)
            XCTAssertEqual(page.next, 17)
        }
        XCTAssertEqual(pages, ["ann": [11, 12, 13, 14, 15], "bob": [12, 14, 17]])
    }

    func testRePollParksOrAnswersFromTheTail() {
        let registry = FeedWaiterRegistry()
        _ = registry.advance(newest: 10, events: nil)
        _ = armed(registry, user: "ann", rooms: ["general", "a"], at: 10)
        _ = registry.advance(newest: 13, events: [message(11, "a", seq: 1), message(12, "b", seq: 1), message(13, "a", seq: 2)])
        // At the newest position: parked, no read.
        guard case .parked(let t) = registry.register(user: "ann", after: 13, limit: 10, onWake: { _ in }, onReady: { _ in }) else {
            return XCTFail("parked from memory")
        }
        XCTAssertEqual(registry.seen(t), 13)
        // Behind: answered from the tail, her rooms only, paged by limit.
        guard case .ready(let page) = registry.register(user: "ann", after: 10, limit: 1, onWake: { _ in }, onReady: { _ in }) else {
            return XCTFail("ready from the tail")
        }
        XCTAssertEqual(page.events.map(\.pos), [11])
        XCTAssertEqual(page.next, 11)
        XCTAssertTrue(page.hasMore)
        guard case .ready(let rest) = registry.register(user: "ann", after: 11, limit: 10, onWake: { _ in }, onReady: { _ in }) else {
            return XCTFail("ready from the tail")
        }
        XCTAssertEqual(rest.events.map(\.pos), [13])
        XCTAssertEqual(rest.next, 13)
        XCTAssertFalse(rest.hasMore)
        // Before the tail: only the store knows.
        guard case .unknown = registry.register(user: "ann", after: 5, limit: 10, onWake: { _ in }, onReady: { _ in }) else {
            return XCTFail("a read")
        }
        // A user never seen: a read.
        guard case .unknown = registry.register(user: "cat", after: 13, limit: 10, onWake: { _ in }, onReady: { _ in }) else {
            return XCTFail("a read")
        }
    }

    func testOwnMembershipChangeIsFollowedOrRead() {
        let registry = FeedWaiterRegistry()
        _ = registry.advance(newest: 10, events: nil)
        let t = armed(registry, user: "ann", rooms: ["general"], at: 10)
        let wakes = registry.advance(newest: 11, events: [joined(11, "b", "Ann")])
        guard case .answer(let f, let page)? = wakes.first, wakes.count == 1 else { return XCTFail("her joined answers her") }
        XCTAssertEqual(f.ticket, t)
        XCTAssertEqual(page.events.map(\.pos), [11])
        // Her rooms now include b: a message there answers her re-poll from memory.
        guard case .parked = registry.register(user: "ann", after: 11, limit: 10, onWake: { _ in }, onReady: { _ in }) else {
            return XCTFail("parked")
        }
        let second = registry.advance(newest: 12, events: [message(12, "b", seq: 1)])
        guard case .answer(_, let p2)? = second.first else { return XCTFail("a message in b reaches her") }
        XCTAssertEqual(p2.events.map(\.pos), [12])
        // A cursor before her joined: the store decides (her rooms were different then).
        guard case .unknown = registry.register(user: "ann", after: 10, limit: 10, onWake: { _ in }, onReady: { _ in }) else {
            return XCTFail("a read")
        }
    }

    func testUnknownCommitHandsEveryoneBackAndForgets() {
        let registry = FeedWaiterRegistry()
        _ = registry.advance(newest: 10, events: nil)
        let t = armed(registry, user: "ann", rooms: ["general"], at: 10)
        // Another process wrote 11: positions and rooms unknown, so she reads again.
        let wakes = registry.advance(newest: 11, events: nil)
        guard case .read(let f)? = wakes.first, wakes.count == 1 else { return XCTFail("handed back to read") }
        XCTAssertEqual(f.ticket, t)
        XCTAssertEqual(registry.seen(t), 10)
        guard case .unknown = registry.register(user: "ann", after: 11, limit: 10, onWake: { _ in }, onReady: { _ in }) else {
            return XCTFail("her rooms are forgotten")
        }
        // Skipped positions (12 unknown, 13 known) are as unknown.
        _ = registry.arm(t, rooms: ["general"], next: 11)
        let gap = registry.advance(newest: 13, events: [message(13, "general", seq: 1)])
        XCTAssertTrue(gap.contains { if case .read(let f) = $0 { return f.ticket == t } else { return false } })
    }
}

