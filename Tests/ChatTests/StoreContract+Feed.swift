// Store-independent test bodies for the feed (../shared/API.md "The feed"): positions, whose events, paging,
// membership events at the right place, and followers woken only by what concerns them.
@testable import Chat
import Dispatch
import Store
import XCTest

extension StoreContract {
    func feed(_ chat: ChatService, _ user: User, after: Int64?, limit: Int = 100) throws -> FeedPage {
        try value(outcome { chat.feed(user: user, after: after, limit: limit, completion: $0) })
    }

    /// Every event of `user` from the start, paged by `limit` and following `next`.
    func wholeFeed(_ chat: ChatService, _ user: User, limit: Int) throws -> [FeedEvent] {
        var after: Int64 = 0, events: [FeedEvent] = []
        while true {
            let page = try feed(chat, user, after: after, limit: limit)
            events += page.events
            XCTAssertLessThanOrEqual(page.events.count, limit)
            if !page.hasMore { return events }
            XCTAssertEqual(page.next, page.events.last?.pos)
            after = page.next
        }
    }

    /// A short description per event, for comparing whole feeds: `+room`, `-room`, `room:text`.
    func describe(_ events: [FeedEvent]) -> [String] {
        events.map { e in
            switch e.kind {
            case .message(let m): return "\(e.room):\(m.text)"
            case .joined(let view):
                XCTAssertEqual(view.name, e.room)
                XCTAssertTrue(view.joined)
                return "+\(e.room)"
            case .left: return "-\(e.room)"
            }
        }
    }

    /// Joined/left at the right place; a message reaches exactly the members at its pos; pos ascending over rooms,
    /// following seq within a room; paging by any limit gives the same events; `next` as the contract says.
    func feedOrderAndMembership() throws {
        let chat = try service()
        let alice = try register(chat, "Alice"), bob = try register(chat, "bob"), carol = try register(chat, "carol")
        _ = try value(create(chat, alice, "p", "private"))
        XCTAssertTrue(try value(post(chat, alice, "g1")).isCreated)
        XCTAssertTrue(try value(post(chat, alice, "p1", room: "p")).isCreated)
        XCTAssertEqual(try value(add(chat, alice, "p", "bob")), .added)
        XCTAssertEqual(try value(add(chat, alice, "p", "bob")), .alreadyMember, "no second joined")
        XCTAssertTrue(try value(post(chat, bob, "p2", room: "p")).isCreated)
        _ = try value(remove(chat, bob, "p", "bob"))
        XCTAssertEqual(code(remove(chat, bob, "p", "bob")), "room_not_found")   // gone for him: no second left
        _ = try value(remove(chat, alice, "p", "bob"))        // not a member: succeeds, no second left either
        XCTAssertTrue(try value(post(chat, alice, "p3", room: "p")).isCreated)
        XCTAssertTrue(try value(post(chat, carol, "g2")).isCreated)
        XCTAssertTrue(try value(post(chat, alice, "hi", room: "@carol")).isCreated)   // first use: joined for both
        _ = try value(create(chat, carol, "pub"))
        XCTAssertTrue(try value(post(chat, carol, "pub1", room: "pub")).isCreated)   // alice and bob are not members

        let aliceFeed = try wholeFeed(chat, alice, limit: 100)
        XCTAssertEqual(describe(aliceFeed), ["+general", "+p", "general:g1", "p:p1", "p:p2", "p:p3", "general:g2",
                                             "+@alice,carol", "@alice,carol:hi"])
        XCTAssertEqual(describe(try wholeFeed(chat, bob, limit: 100)),
                       ["+general", "general:g1", "+p", "p:p2", "-p", "general:g2"])
        XCTAssertEqual(describe(try wholeFeed(chat, carol, limit: 100)),
                       ["+general", "general:g1", "general:g2", "+@alice,carol", "@alice,carol:hi", "+pub", "pub:pub1"])
        for limit in [1, 2, 3] {
            XCTAssertEqual(try wholeFeed(chat, alice, limit: limit), aliceFeed, "limit \(limit)")
        }
        let positions = aliceFeed.map(\.pos)
        XCTAssertEqual(positions, positions.sorted())
        XCTAssertEqual(Set(positions).count, positions.count)
        if case .joined(let view) = aliceFeed[1].kind {
            XCTAssertEqual(view.room.visibility, .private)
            XCTAssertEqual(view.room.owner, "Alice")
        } else { XCTFail("\(aliceFeed[1])") }
        if case .message(let m) = aliceFeed[3].kind {
            XCTAssertEqual(m.seq, 1)
            XCTAssertEqual(m.room, "p")
            XCTAssertFalse(m.bot)
        } else { XCTFail("\(aliceFeed[3])") }

        // From now: nothing, next = the newest position; past it: nothing, next = the newest (lower than after).
        let now = try feed(chat, alice, after: nil)
        XCTAssertEqual(now.events, [])
        XCTAssertFalse(now.hasMore)
        XCTAssertGreaterThanOrEqual(now.next, aliceFeed.last!.pos)
        XCTAssertEqual(try feed(chat, alice, after: now.next + 1000).next, now.next)
        XCTAssertEqual(try feed(chat, alice, after: now.next + 1000).events, [])
        // The last page's next is the newest position, past the last event alice may see (carol's pub1).
        XCTAssertEqual(try feed(chat, alice, after: 0, limit: 100).next, now.next)
        XCTAssertGreaterThan(now.next, aliceFeed.last!.pos)
        XCTAssertEqual(Set(now.rooms), ["general", "p", "@alice,carol"])
        XCTAssertEqual(try feed(chat, bob, after: nil).rooms, ["general"])
        // Reading again from an old cursor gives the same events.
        let middle = aliceFeed[4].pos
        XCTAssertEqual(try feed(chat, alice, after: middle).events, Array(aliceFeed[5...]))
    }

    /// Positions are unique and ascending across rooms and concurrent writers; within a room they follow seq.
    func feedPositionsUnderConcurrency() throws {
        let chat = try service()
        let dave = try register(chat, "dave")
        _ = try value(create(chat, dave, "r2"))
        let group = DispatchGroup()
        for i in 1...200 {
            for room in ["general", "r2"] {      // interleaved, many per group commit
                group.enter()
                chat.post(user: dave, room: room, text: "\(room) \(i)", clientID: nil) { _ in group.leave() }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        let events = try wholeFeed(chat, dave, limit: 500)
        XCTAssertEqual(events.count, 2 + 400)
        XCTAssertEqual(events.map(\.pos), events.map(\.pos).sorted())
        XCTAssertEqual(Set(events.map(\.pos)).count, events.count)
        for room in ["general", "r2"] {
            let seqs = events.compactMap { e -> Int64? in
                if case .message(let m) = e.kind, m.room == room { return m.seq } else { return nil }
            }
            XCTAssertEqual(seqs, Array(1...200), room)
        }
    }

    /// A follower is answered by a commit that concerns it, and only then: a post in a room it is not in leaves
    /// it parked; its own joined wakes it; cancel forgets it.
    func feedFollowerWakesOnlyForItsEvents() throws {
        let chat = try service()
        let erin = try register(chat, "erin"), fay = try register(chat, "fay")
        _ = try value(create(chat, fay, "elsewhere"))
        let start = try feed(chat, erin, after: nil).next
        let got = Box<Result<FeedPage, ChatError>>()
        let done = DispatchSemaphore(value: 0)
        let ticket = chat.waitForEvents(user: erin, after: start, limit: 10) { result in
            got.value = result
            done.signal()
        }
        XCTAssertNotNil(ticket, "nothing yet: parked")
        XCTAssertTrue(try value(post(chat, fay, "not for erin", room: "elsewhere")).isCreated)
        XCTAssertEqual(done.wait(timeout: .now() + 0.5), .timedOut, "a post elsewhere does not answer")
        XCTAssertEqual(chat.feedFollowers, 1)
        XCTAssertEqual(try value(add(chat, fay, "elsewhere", "erin")), .added)
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        let page = try value(got.value!)
        XCTAssertEqual(describe(page.events), ["+elsewhere"])
        XCTAssertEqual(chat.feedFollowers, 0)
        // Already there: answered at once, nothing left registered. A store that reads synchronously (SQLite)
        // answers before waitForEvents returns (no ticket); one that reads on its own threads (PostgreSQL) moments
        // later, without any new event.
        let again = DispatchSemaphore(value: 0)
        let ticket2 = chat.waitForEvents(user: erin, after: start, limit: 10) { _ in again.signal() }
        XCTAssertEqual(again.wait(timeout: .now() + 5), .success)
        if ticket2 != nil { XCTAssertFalse(chat.store is SQLiteStore, "SQLite answers before returning") }
        XCTAssertEqual(chat.feedFollowers, 0)
        // Cancelled: gone, and answers the next its read knew.
        let parked = chat.waitForEvents(user: erin, after: page.next, limit: 10) { _ in XCTFail("cancelled") }
        XCTAssertNotNil(parked)
        XCTAssertEqual(chat.cancelFeedWait(parked!), page.next)
        XCTAssertTrue(try value(post(chat, fay, "after cancel", room: "elsewhere")).isCreated)
        XCTAssertEqual(chat.feedFollowers, 0)
    }
}

extension StoreContract {
    /// Two instances on one database: positions are one order over both, and a follower on one is woken by a
    /// commit on the other (SQLite: the watcher notices within ~200 ms).
    func feedAcrossInstances(_ makeStores: () throws -> (Store, Store)) throws {
        let (storeA, storeB) = try makeStores()
        let a = ChatService(store: storeA, passwordCost: 1), b = ChatService(store: storeB, passwordCost: 1)
        let ann = try register(a, "ann"), ben = try register(b, "ben")
        let start = try feed(b, ben, after: nil).next
        let got = Box<Result<FeedPage, ChatError>>()
        let done = DispatchSemaphore(value: 0)
        XCTAssertNotNil(b.waitForEvents(user: ben, after: start, limit: 10) { got.value = $0; done.signal() })
        XCTAssertTrue(try value(post(a, ann, "from a")).isCreated)
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success, "woken by the other instance's commit")
        XCTAssertEqual(describe(try value(got.value!).events), ["general:from a"])
        XCTAssertTrue(try value(post(b, ben, "from b")).isCreated)
        let fromA = try wholeFeed(a, ann, limit: 1), fromB = try wholeFeed(b, ann, limit: 100)
        XCTAssertEqual(fromA, fromB, "the same events at the same positions on both")
        XCTAssertEqual(describe(fromA), ["+general", "general:from a", "general:from b"])
    }
}
