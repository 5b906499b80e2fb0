// Store-independent test bodies for posting, paging, idempotency, concurrency and long-poll waiting.
@testable import Chat
import Dispatch
import Foundation
import Store
import XCTest

extension StoreContract {
    /// Fires `count` posts at once (they share group commits) and waits for all.
    func postMany(_ chat: ChatService, _ user: User, _ count: Int, room: String = "general") -> [Message] {
        let group = DispatchGroup()
        let messages = Box<[Message]>([])
        for i in 1...count {
            group.enter()
            chat.post(user: user, room: room, text: "message \(i)", clientID: nil) { result in
                if case .success(let outcome) = result { messages.mutate { $0!.append(outcome.message) } }
                group.leave()
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 30), .success)
        return messages.value ?? []
    }

    func pagingThroughAThousand() throws {
        let chat = try service()
        let user = try register(chat, "pager")
        XCTAssertEqual(postMany(chat, user, 1000).count, 1000)
        let newest = try value(history(chat, .newest, limit: 50))
        XCTAssertEqual(newest.messages.map(\.seq), Array(951...1000))
        XCTAssertTrue(newest.hasMore)
        XCTAssertEqual(newest.lastSeq, 1000)
        // Backwards from the newest with `before`.
        var seen: [Int64] = newest.messages.map(\.seq)
        var page = newest
        while page.hasMore {
            page = try value(history(chat, .before(page.messages.first!.seq), limit: 37))
            XCTAssertEqual(page.lastSeq, 1000)
            XCTAssertEqual(page.messages.map(\.seq), page.messages.map(\.seq).sorted())
            seen = page.messages.map(\.seq) + seen
        }
        XCTAssertEqual(seen, Array(1...1000))
        // Forwards from 0 with `after`.
        seen = []
        var after: Int64 = 0
        repeat {
            page = try value(history(chat, .after(after), limit: 200))
            seen += page.messages.map(\.seq)
            after = page.messages.last?.seq ?? after
        } while page.hasMore
        XCTAssertEqual(seen, Array(1...1000))
        XCTAssertEqual(page.messages.count, 200)
        XCTAssertFalse(page.hasMore)
        let empty = try value(history(chat, .after(1000), limit: 10))
        XCTAssertEqual(empty.messages, [])
        XCTAssertFalse(empty.hasMore)
        XCTAssertFalse(try value(history(chat, .before(2), limit: 10)).hasMore)
        XCTAssertEqual(Set(newest.messages.map(\.id)).count, 50, "ids are unique")
        let rooms = try value(outcome { chat.rooms(completion: $0) })
        XCTAssertEqual(rooms.first { $0.name == "general" }?.lastSeq, 1000)
    }

    func idempotentRetry() throws {
        let clock = TestClock()
        let chat = try service(clock: clock)
        let user = try register(chat, "retry")
        let other = try register(chat, "other")
        _ = try value(outcome { chat.createRoom(name: "side", completion: $0) })
        let first = try value(post(chat, user, "hello", clientID: "key-1"))
        XCTAssertTrue(first.isCreated)
        XCTAssertEqual(first.message.clientID, "key-1")
        let again = try value(post(chat, user, "hello", clientID: "key-1"))
        XCTAssertFalse(again.isCreated)
        XCTAssertEqual(again.message, first.message)
        let reused = post(chat, user, "changed", clientID: "key-1")
        XCTAssertEqual(code(reused), "idempotency_key_reused")
        if case .failure(let e) = reused { XCTAssertEqual(e.kind, .unprocessable) }
        // Issue 13 #7: the stored bytes decide, not Swift's canonical equivalence ("e\u{301}" == "\u{E9}").
        let decomposed = try value(post(chat, user, "caf\u{65}\u{301}", clientID: "key-nfd"))
        XCTAssertEqual(Array(decomposed.message.text.utf8), Array("cafe\u{301}".utf8))
        XCTAssertEqual(code(post(chat, user, "caf\u{E9}", clientID: "key-nfd")), "idempotency_key_reused")
        XCTAssertFalse(try value(post(chat, user, "caf\u{65}\u{301}", clientID: "key-nfd")).isCreated)
        XCTAssertTrue(try value(post(chat, other, "hello", clientID: "key-1")).isCreated, "another user")
        XCTAssertTrue(try value(post(chat, user, "hello", room: "side", clientID: "key-1")).isCreated, "another room")
        XCTAssertEqual(try value(history(chat, .newest, limit: 10)).lastSeq, 3, "the retries created nothing")
        clock.advance(seconds: 24 * 3600 + 1)
        let later = try value(post(chat, user, "hello", clientID: "key-1"))
        XCTAssertTrue(later.isCreated, "after 24 h the key is free again")
        XCTAssertEqual(later.message.seq, 4)
    }

    /// Issue 12: created_at never goes backwards within a room, even when a post's clock reading is older than the
    /// room's newest message (posts taken on several threads or instances commit in seq order).
    func createdAtNeverGoesBackwards() throws {
        let clock = TestClock()
        let chat = try service(clock: clock)
        let user = try register(chat, "clocks")
        let first = try value(post(chat, user, "now")).message
        clock.advance(seconds: -5)                      // a post whose clock reading is 5 s older
        let second = try value(post(chat, user, "earlier clock")).message
        XCTAssertEqual(second.seq, first.seq + 1)
        XCTAssertGreaterThanOrEqual(second.createdAt, first.createdAt)
        let page = try value(history(chat, .newest, limit: 10))
        XCTAssertEqual(page.messages.map(\.createdAt), page.messages.map(\.createdAt).sorted(), "stored as answered")
        clock.advance(seconds: 10)
        XCTAssertGreaterThan(try value(post(chat, user, "later")).message.createdAt, second.createdAt)
    }

    /// 8 threads × 100 posts at once: seqs 1…800 gap-free, and every completion sees its message committed.
    func concurrentPosts() throws {
        let chat = try service()
        let user = try register(chat, "burst")
        let group = DispatchGroup()
        let seqs = Box<[Int64]>([])
        let invisible = Box<Int>(0)
        for _ in 0..<800 { group.enter() }
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for i in 0..<100 {
                chat.post(user: user, room: "general", text: "t\(thread) #\(i)", clientID: nil) { result in
                    if case .success(let outcome) = result {
                        let seq = outcome.message.seq
                        seqs.mutate { $0!.append(seq) }
                        // Another connection must already see it: the completion came after COMMIT.
                        chat.history(room: "general", cursor: .after(seq - 1), limit: 1) { page in
                            if (try? page.get().messages.first?.id) != outcome.message.id { invisible.mutate { $0! += 1 } }
                        }
                    }
                    group.leave()
                }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(seqs.value?.sorted(), Array(1...800))
        XCTAssertEqual(invisible.value, 0)
        XCTAssertEqual(chat.messagesStored, 800)
    }

    func waitersWokenByOnePost() throws {
        let chat = try service()
        let user = try register(chat, "waker")
        _ = try value(outcome { chat.createRoom(name: "lobby", completion: $0) })
        let group = DispatchGroup()
        let pages = Box<[HistoryPage]>([])
        var tickets: [WaitTicket] = []
        for _ in 0..<100 {
            group.enter()
            let ticket = chat.waitForMessages(room: "lobby", after: 0, limit: 50) { result in
                if case .success(let page) = result { pages.mutate { $0!.append(page) } }
                group.leave()
            }
            XCTAssertNotNil(ticket)
            if let ticket { tickets.append(ticket) }
        }
        let ahead = chat.waitForMessages(room: "lobby", after: 5, limit: 50) { _ in XCTFail("woken too early") }
        XCTAssertEqual(chat.parkedWaiters, 101)
        let message = try value(post(chat, user, "wake up", room: "lobby")).message
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        let all = pages.value ?? []
        XCTAssertEqual(all.count, 100)
        XCTAssertTrue(all.allSatisfy { $0 == HistoryPage(room: "lobby", messages: [message], hasMore: false, lastSeq: 1) })
        XCTAssertEqual(chat.parkedWaiters, 1)
        chat.cancelWait(ahead!)
        chat.cancelWait(tickets[0])                       // already fired: harmless
        XCTAssertEqual(chat.parkedWaiters, 0)
    }

    func waiterAnswersAtOnce() throws {
        let chat = try service()
        let user = try register(chat, "early")
        let message = try value(post(chat, user, "already here")).message
        // A store that reads synchronously (SQLite) answers before waitForMessages returns (no ticket); one that
        // reads on its own threads (PostgreSQL) answers moments later, without any post.
        let answered = Box<HistoryPage>()
        let done = DispatchSemaphore(value: 0)
        let ticket = chat.waitForMessages(room: "general", after: 0, limit: 10) {
            answered.value = try? $0.get()
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        if ticket != nil { XCTAssertTrue(store(isAsynchronous: chat)) }
        XCTAssertEqual(answered.value?.messages, [message])
        XCTAssertEqual(chat.parkedWaiters, 0)
        let missing = Box<String>()
        let ticket2 = chat.waitForMessages(room: "nowhere", after: 0, limit: 10) {
            if case .failure(let e) = $0 { missing.value = e.code }
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        if ticket2 != nil { XCTAssertTrue(store(isAsynchronous: chat)) }
        XCTAssertEqual(missing.value, "room_not_found")
        XCTAssertEqual(chat.parkedWaiters, 0)
    }

    /// Whether the service's store may answer reads after the call returned (then a ticket may come back even
    /// for a wait that is answered at once).
    private func store(isAsynchronous chat: ChatService) -> Bool {
        !(chat.store is SQLiteStore)
    }
}
