// End-to-end: ../shared/API.md "Rooms" — list in code-point order, create, 409 room_exists, 400 invalid_room_name.
import Foundation
import XCTest
import HTTP

final class RoomRoutesTests: XCTestCase {
    var stack: TestStack!
    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() { stack.stop() }

    func testGeneralExistsAndRoomsAreListedByName() throws {
        let c = try stack.user("alice")
        for name in ["zeta", "a-b", "a_b", "0day"] {
            let r = try c.post("/rooms", json: ["name": name])
            XCTAssertEqual(r.status, 201, r.text)
            let room = r.json["room"] as? [String: Any]
            XCTAssertEqual(room?["name"] as? String, name)
            XCTAssertEqual(room?["last_seq"] as? Int, 0)
            XCTAssertNotNil(room?["created_at"] as? String)
        }
        try c.say("hi", room: "zeta")
        let list = try c.get("/rooms")
        XCTAssertEqual(list.status, 200, list.text)
        XCTAssertEqual(list.headers["Cache-Control"], "no-store")
        let rooms = list.json["rooms"] as? [[String: Any]] ?? []
        XCTAssertEqual(rooms.compactMap { $0["name"] as? String }, ["0day", "a-b", "a_b", "general", "zeta"])
        XCTAssertEqual(rooms.last?["last_seq"] as? Int, 1)
    }

    func testCreateRoomErrors() throws {
        let c = try stack.user("bob")
        XCTAssertEqual(try c.post("/rooms", form: "name=random").status, 201)
        XCTAssertProblem(try c.post("/rooms", form: "name=random"), 409, "room_exists")
        XCTAssertProblem(try c.post("/rooms", json: ["name": "general"]), 409, "room_exists")
        for name in ["", "Upper", "with space", "é", String(repeating: "a", count: 65), "a.b", "<script>"] {
            XCTAssertProblem(try c.post("/rooms", json: ["name": name]), 400, "invalid_room_name")
        }
        XCTAssertProblem(try c.post("/rooms", json: ["name": 7]), 400, "invalid_room_name")
        XCTAssertProblem(try c.post("/rooms", json: [:]), 400, "invalid_room_name")
        XCTAssertProblem(try c.post("/rooms", form: "name=%FF"), 400, "invalid_room_name")
        XCTAssertEqual(try c.post("/rooms", json: ["name": String(repeating: "a", count: 64)]).status, 201)
        XCTAssertProblem(try c.post("/rooms", type: "application/xml", body: Array("<name/>".utf8)), 415, "unsupported_media_type")
    }
}

/// ../shared/API.md "Rooms v2": room objects, visibility, paging, members, and direct rooms by path and parameter.
final class RoomsV2RoutesTests: XCTestCase {
    var stack: TestStack!
    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() { stack.stop() }

    func testRoomObjectsMembersAndPaging() throws {
        let alice = try stack.user("Alice"), bob = try stack.user("bob")
        let made = try alice.post("/rooms", form: "name=plans&visibility=private")
        XCTAssertEqual(made.status, 201, made.text)
        let room = made.json["room"] as? [String: Any] ?? [:]
        XCTAssertEqual(room["visibility"] as? String, "private")
        XCTAssertEqual(room["owner"] as? String, "Alice")
        XCTAssertEqual(room["joined"] as? Bool, true)
        XCTAssertProblem(try alice.post("/rooms", json: ["name": "x", "visibility": "direct"]), 400, "invalid_parameter")
        XCTAssertProblem(try alice.post("/rooms", json: ["name": "x", "visibility": 1]), 400, "invalid_parameter")
        XCTAssertProblem(try bob.post("/rooms", json: ["name": "plans"]), 409, "room_exists")

        let general = try bob.get("/rooms/general")
        XCTAssertEqual(general.status, 200, general.text)
        let g = general.json["room"] as? [String: Any] ?? [:]
        XCTAssertEqual(g["members"] as? [String], ["Alice", "bob"])
        XCTAssertEqual(g["visibility"] as? String, "public")
        XCTAssertTrue(g["owner"] is NSNull)
        XCTAssertEqual(general.headers["Cache-Control"], "no-store")

        XCTAssertEqual(try alice.send("PUT", "/rooms/plans/members/BOB").status, 201)
        let again = try alice.send("PUT", "/rooms/plans/members/bob")
        XCTAssertEqual(again.status, 200, again.text)
        XCTAssertProblem(try alice.send("PUT", "/rooms/plans/members/nobody"), 404, "user_not_found")
        XCTAssertProblem(try bob.send("DELETE", "/rooms/plans/members/Alice"), 403, "not_owner")
        XCTAssertProblem(try bob.send("DELETE", "/rooms/general/members/bob"), 409, "cannot_leave")
        XCTAssertEqual((try bob.get("/rooms/plans").json["room"] as? [String: Any])?["members"] as? [String], ["Alice", "bob"])
        let left = try bob.send("DELETE", "/rooms/plans/members/bob")
        XCTAssertEqual(left.status, 204)
        XCTAssertEqual(left.body, [])
        XCTAssertProblem(try bob.get("/rooms/plans"), 404, "room_not_found")
        XCTAssertProblem(try bob.send("PATCH", "/rooms/plans/members/bob"), 405, "method_not_allowed")

        for name in ["c", "a", "b"] { XCTAssertEqual(try bob.post("/rooms", json: ["name": name]).status, 201) }
        var names: [String] = [], after = ""
        for _ in 0..<5 {
            let page = try bob.get("/rooms?limit=2&after=\(after)")
            XCTAssertEqual(page.status, 200, page.text)
            let rooms = page.json["rooms"] as? [[String: Any]] ?? []
            names += rooms.compactMap { $0["name"] as? String }
            after = names.last ?? ""
            if page.json["has_more"] as? Bool != true { break }
        }
        XCTAssertEqual(names, ["a", "b", "c", "general"])
        XCTAssertEqual(try bob.get("/rooms").json["has_more"] as? Bool, false)
        for bad in ["limit=0", "limit=1001", "limit=x", "after=%FF"] {
            XCTAssertProblem(try bob.get("/rooms?\(bad)"), 400, "invalid_parameter")
        }
    }

    /// `@bob` and `@a,b` in paths, queries and bodies, in any case, both directions; self-chat; unknown users;
    /// fixed members; a third user sees nothing.
    func testDirectRoomAliases() throws {
        let alice = try stack.user("Alice"), bob = try stack.user("Bob"), carol = try stack.user("carol")
        let first = try alice.say("hi bob", room: "@BOB")
        XCTAssertEqual(first["room"] as? String, "@alice,bob")
        let fromBob = try bob.post("/messages?room=%40alice", type: "text/plain", body: Array("hi alice".utf8))
        XCTAssertEqual(fromBob.status, 201, fromBob.text)
        XCTAssertEqual((fromBob.json["message"] as? [String: Any])?["room"] as? String, "@alice,bob")
        for (client, room) in [(alice, "%40bob"), (bob, "@Alice"), (alice, "@bob,alice"), (bob, "%40ALICE%2Cbob")] {
            let page = try client.get("/messages?room=\(room)")
            XCTAssertEqual(page.status, 200, page.text)
            XCTAssertEqual(page.json["room"] as? String, "@alice,bob")
            XCTAssertEqual(page.seqs, [1, 2])
        }
        let detail = try bob.get("/rooms/@alice")
        XCTAssertEqual(detail.status, 200, detail.text)
        let d = detail.json["room"] as? [String: Any] ?? [:]
        XCTAssertEqual(d["name"] as? String, "@alice,bob")
        XCTAssertEqual(d["visibility"] as? String, "direct")
        XCTAssertEqual(d["members"] as? [String], ["Alice", "Bob"])
        XCTAssertTrue(d["owner"] is NSNull)
        XCTAssertProblem(try alice.send("PUT", "/rooms/@bob/members/carol"), 409, "direct_room")
        XCTAssertProblem(try alice.send("DELETE", "/rooms/@bob/members/alice"), 409, "direct_room")
        XCTAssertProblem(try alice.get("/messages?room=@nobody"), 404, "user_not_found")
        XCTAssertProblem(try alice.post("/messages", json: ["room": "@nobody", "text": "hi"]), 404, "user_not_found")
        XCTAssertProblem(try alice.get("/rooms/@nobody"), 404, "user_not_found")
        for room in ["@alice,bob", "@bob", "@Bob,Alice"] where room != "@bob" {
            XCTAssertProblem(try carol.get("/messages?room=\(formEncode(room))"), 404, "room_not_found")
        }
        XCTAssertFalse(try carol.get("/rooms").text.contains("@alice,bob"))
        XCTAssertTrue(try bob.get("/rooms").text.contains("\"@alice,bob\""))
        let selfChat = try alice.say("note", room: "@alice")
        XCTAssertEqual(selfChat["room"] as? String, "@alice,alice")
        XCTAssertEqual((try alice.get("/rooms/@ALICE").json["room"] as? [String: Any])?["members"] as? [String], ["Alice"])
        // A long-poll on the alias is woken by a post on the canonical name.
        let held = Box<HTTPResponse>(), done = DispatchSemaphore(value: 0)
        let waiter = stack.client()
        waiter.token = bob.token
        Thread {
            held.value = try? waiter.get("/messages?room=@alice&after=2&wait=10")
            done.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.2)
        try alice.say("are you there?", room: "@alice,bob")
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(held.value?.seqs, [3])
        XCTAssertEqual(held.value?.json["room"] as? String, "@alice,bob")
    }
}
