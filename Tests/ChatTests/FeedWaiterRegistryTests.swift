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
}
