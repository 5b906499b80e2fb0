// WaiterRegistry: re-polls decided from memory (park, or answer from the tail), never a lost wake-up.
@testable import Chat
import Dispatch
import Foundation
import Store
import XCTest

final class WaiterRegistryTests: XCTestCase {
    let dir = TempDir()
    override func tearDown() { dir.cleanUp() }

    private func messages(_ seqs: ClosedRange<Int64>, room: String = "r") -> [Message] {
        seqs.map { Message(id: "m\($0)", room: room, seq: $0, user: "u", text: "t\($0)", createdAt: Timestamp(milliseconds: $0), clientID: nil) }
    }

    private func register(_ registry: WaiterRegistry, after: Int64, limit: Int = 200) -> WaiterRegistry.Registration {
        registry.register(room: "r", after: after, limit: limit) { _ in }
    }

    private func seqs(_ registration: WaiterRegistry.Registration) -> [Int64]? {
        if case .ready(let found, _) = registration { return found.map(\.seq) }
        return nil
    }

    func testUnknownUntilTheStoreReports() {
        let registry = WaiterRegistry()
        guard case .unknown(let ticket) = register(registry, after: 3) else { return XCTFail("nothing reported yet") }
        XCTAssertEqual(registry.advance(room: "r", lastSeq: 3, messages: messages(1...3)).count, 0, "after 3 has seen 3")
        XCTAssertEqual(registry.advance(room: "r", lastSeq: 4, messages: messages(4...4)).map(\.ticket), [ticket])
        XCTAssertEqual(registry.count, 0)
    }

    func testRepollAtTheNewestSeqParksAndIsWoken() {
        let registry = WaiterRegistry()
        _ = registry.advance(room: "r", lastSeq: 5, messages: messages(1...5))
        guard case .parked(let ticket) = register(registry, after: 5) else { return XCTFail("at the newest seq: park") }
        guard case .parked = register(registry, after: 9) else { return XCTFail("ahead of the room: park") }
        XCTAssertEqual(registry.count, 2)
        XCTAssertEqual(registry.advance(room: "r", lastSeq: 6, messages: messages(6...6)).map(\.ticket), [ticket])
        XCTAssertEqual(registry.count, 1)
    }

    func testBehindIsAnsweredFromTheTail() {
        let registry = WaiterRegistry()
        _ = registry.advance(room: "r", lastSeq: 3, messages: messages(1...3))
        _ = registry.advance(room: "r", lastSeq: 6, messages: messages(4...6))      // contiguous: the tail grows
        XCTAssertEqual(seqs(register(registry, after: 2)), [3, 4, 5, 6])
        XCTAssertEqual(seqs(register(registry, after: 0)), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(seqs(register(registry, after: 2, limit: 2)), [3, 4])
        if case .ready(_, let lastSeq) = register(registry, after: 4) { XCTAssertEqual(lastSeq, 6) } else { XCTFail() }
        XCTAssertEqual(registry.count, 0, "answered from memory: nothing registered")
    }

    func testOtherWritersAndGapsRestartTheTail() {
        let registry = WaiterRegistry()
        _ = registry.advance(room: "r", lastSeq: 3, messages: messages(1...3))
        _ = registry.advance(room: "r", lastSeq: 4, messages: nil)                   // another process wrote 4
        guard case .unknown = register(registry, after: 2) else { return XCTFail("3…4 not all in memory: read") }
        guard case .parked = register(registry, after: 4) else { return XCTFail("4 is the newest: park") }
        _ = registry.advance(room: "r", lastSeq: 7, messages: messages(6...7))       // 5 came from elsewhere
        XCTAssertEqual(seqs(register(registry, after: 5)), [6, 7])
        guard case .unknown = register(registry, after: 4) else { return XCTFail("5 is not in memory") }
        _ = registry.advance(room: "r", lastSeq: 6, messages: nil)                   // a stale report changes nothing
        XCTAssertEqual(seqs(register(registry, after: 6)), [7])
    }

    func testTailIsBounded() {
        let registry = WaiterRegistry()
        let n = Int64(WaiterRegistry.tailLength) + 10
        for seq in 1...n { _ = registry.advance(room: "r", lastSeq: seq, messages: messages(seq...seq)) }
        XCTAssertEqual(seqs(register(registry, after: n - Int64(WaiterRegistry.tailLength)))?.count, WaiterRegistry.tailLength)
        guard case .unknown = register(registry, after: 5) else { return XCTFail("fell out of the tail: read") }
    }

    func testWaitForMessagesRepollsWithoutReads() throws {
        let store = CountingStore(try SQLiteStore(path: dir.file()))
        let chat = ChatService(store: store, passwordCost: 1)
        let contract = StoreContract { store }
        let user = try contract.register(chat, "poller")
        // Parked before the first post: once it is woken the registry knows seq 1 (the writer completes posts
        // before it reports the commit, so the post's answer alone does not say that).
        let known = DispatchSemaphore(value: 0)
        XCTAssertNotNil(chat.waitForMessages(room: "general", after: 0, limit: 50) { _ in known.signal() })
        let first = try value(contract.post(chat, user, "one")).message
        XCTAssertEqual(known.wait(timeout: .now() + 5), .success)
        let reads = store.historyReads.value ?? 0
        let woken = Box<HistoryPage>()
        let done = DispatchSemaphore(value: 0)
        let ticket = chat.waitForMessages(room: "general", after: 1, limit: 50) { result in
            woken.value = try? result.get()
            done.signal()
        }
        XCTAssertNotNil(ticket)
        let second = try value(contract.post(chat, user, "two")).message
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(woken.value, HistoryPage(room: "general", messages: [second], hasMore: false, lastSeq: 2))
        let behind = Box<HistoryPage>()
        XCTAssertNil(chat.waitForMessages(room: "general", after: 0, limit: 1) { behind.value = try? $0.get() })
        XCTAssertEqual(behind.value, HistoryPage(room: "general", messages: [first], hasMore: true, lastSeq: 2))
        XCTAssertEqual(store.historyReads.value ?? 0, reads, "both decided from memory")
    }

    /// Another instance's commit that this one has not noticed yet: the re-poll parks, and the store's watcher
    /// wakes it (the registry registers before it decides, so the report cannot slip between).
    func testOtherInstancesCommitStillWakesAParkedRepoll() throws {
        let path = dir.file("shared.db")
        let contract = StoreContract { try SQLiteStore(path: path) }
        let a = try contract.service(), b = try contract.service()
        let user = try contract.register(a, "twin")
        _ = try value(contract.post(a, user, "from a"))
        let fromB = try value(contract.post(b, user, "from b")).message
        let woken = Box<HistoryPage>()
        let done = DispatchSemaphore(value: 0)
        _ = a.waitForMessages(room: "general", after: 1, limit: 10) { result in
            woken.value = try? result.get()
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(woken.value?.messages, [fromB])
    }
}
