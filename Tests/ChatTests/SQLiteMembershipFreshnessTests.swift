// Membership kept fresh across instances on one file: the access cache answers without a query, and a change on
// another instance (or by hand) drops it before the next request (../shared/API.md "Rooms v2", issue 14).
@testable import Chat
@testable import Store
import Dispatch
import XCTest

final class SQLiteMembershipFreshnessTests: SharedFileTestCase {
    private func read(_ chat: ChatService, _ token: String, _ room: String) -> Result<HistoryPage, ChatError> {
        outcome { chat.history(token: token, room: room, cursor: .newest, limit: 10, completion: $0) }
    }

    /// B's reader knows guest is a member (cache hits, no query); A removes guest; guest's next request on B is
    /// refused. A post on A in between keeps B's access cache (it changes no membership).
    func testMemberRemovedOnOneInstanceIsRefusedOnTheOther() throws {
        let (a, _) = try instance()
        let (b, storeB) = try instance()
        let (owner, _) = try session(a, "owner")
        let (guest, token) = try session(a, "guest")
        _ = try value(outcome { a.createRoom(user: owner, name: "vault", visibility: "private", completion: $0) })
        _ = try value(outcome { a.addMember(user: owner, room: "vault", username: "guest", completion: $0) })
        try post(a, owner, "one", room: "vault")
        XCTAssertEqual(try value(read(b, token, "vault")).messages.map(\.text), ["one"])
        let hits = storeB.readCacheHits
        XCTAssertEqual(try value(read(b, token, "vault")).messages.map(\.text), ["one"])
        XCTAssertGreaterThanOrEqual(storeB.readCacheHits, hits + 3, "token, access and page from the cache")
        try post(a, owner, "two", room: "vault")
        let afterPost = storeB.readCacheHits
        XCTAssertEqual(try value(read(b, token, "vault")).messages.map(\.text), ["one", "two"])
        XCTAssertGreaterThanOrEqual(storeB.readCacheHits, afterPost + 2, "a post elsewhere keeps token and access")
        _ = try value(outcome { a.removeMember(user: owner, room: "vault", username: "guest", completion: $0) })
        XCTAssertEqual(code(read(b, token, "vault")), "room_not_found")
        XCTAssertEqual(code(outcome { b.post(user: guest, room: "vault", text: "still here?", clientID: nil, completion: $0) }),
                       "room_not_found")
        // Added back by hand (another process, any code): seen at once too.
        try rawSQL("""
            INSERT INTO room_members SELECT r.id, u.id FROM rooms r, users u WHERE r.name = 'vault' AND u.username_key = 'guest'
            """)
        XCTAssertEqual(try value(read(b, token, "vault")).messages.count, 2)
    }

    /// A room created on A after B cached "no such room" exists on B at once (creation bumps the generation).
    func testRoomCreatedElsewhereIsSeenDespiteCachedAbsence() throws {
        let (a, _) = try instance()
        let (b, _) = try instance()
        let (owner, token) = try session(a, "maker")
        XCTAssertEqual(code(read(b, token, "late")), "room_not_found")
        XCTAssertEqual(code(read(b, token, "late")), "room_not_found")
        _ = try value(outcome { a.createRoom(user: owner, name: "late", visibility: nil, completion: $0) })
        XCTAssertEqual(try value(read(b, token, "late")).messages, [])
    }

    /// A held request of a removed member on B answers 404 when A's next post arrives (through B's watcher).
    func testRemovedMembersWaiterOnOtherInstance() throws {
        let (a, _) = try instance()
        let (b, _) = try instance()
        let (owner, _) = try session(a, "host")
        let (guest, _) = try session(a, "visitor")
        _ = try value(outcome { a.createRoom(user: owner, name: "den", visibility: "private", completion: $0) })
        _ = try value(outcome { a.addMember(user: owner, room: "den", username: "visitor", completion: $0) })
        let room = try value(outcome { b.openRoom(user: guest, room: "den", completion: $0) })
        let answer = Box<Result<HistoryPage, ChatError>>()
        let done = DispatchSemaphore(value: 0)
        XCTAssertNotNil(b.waitForMessages(room: room, after: 0, limit: 10) { answer.value = $0; done.signal() })
        _ = try value(outcome { a.removeMember(user: owner, room: "den", username: "visitor", completion: $0) })
        try post(a, owner, "secret plans", room: "den")
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(answer.value.flatMap { code($0) }, "room_not_found")
    }
}
