// End-to-end, over real sockets: every route that takes a room × {public, private, direct} × {member, non-member,
// owner, removed member} → status and code (../shared/API.md "Rooms v2"; issue 14 "No leaks").
import Foundation
import XCTest
import HTTP

final class RoomAuthorizationTests: XCTestCase {
    var stack: TestStack!
    var users: [Role: APIClient] = [:]
    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() { stack.stop() }

    enum Role: String, CaseIterable { case member, nonMember = "outsider", owner, removed }

    /// The rooms under test. `direct` is the direct room of owner and member: both are its members (it has no
    /// owner), and nobody can be removed from it, so "removed" there is one more outsider.
    static let rooms = ["public": "pub", "private": "priv", "direct": "@member,owner"]
    static let roles: [Role] = [.member, .nonMember, .owner, .removed]

    /// One row per route: the expected answer for each role (member, non-member, owner, removed) per visibility.
    /// "404" is always room_not_found; "list+" / "list-" mean the room is / is not in GET /rooms (with `joined`
    /// as given by "j" / "n"). Long-polls wait 0.3 s past the newest seq: admitted callers get 200 empty.
    static let table: [(route: String, public: [String], private: [String], direct: [String])] = [
        ("GET page", ["200", "200", "200", "200"], ["200", "404", "200", "404"], ["200", "404", "200", "404"]),
        ("GET before", ["200", "200", "200", "200"], ["200", "404", "200", "404"], ["200", "404", "200", "404"]),
        ("GET after", ["200", "200", "200", "200"], ["200", "404", "200", "404"], ["200", "404", "200", "404"]),
        ("GET long-poll", ["200", "200", "200", "200"], ["200", "404", "200", "404"], ["200", "404", "200", "404"]),
        ("POST message", ["201", "201", "201", "201"], ["201", "404", "201", "404"], ["201", "404", "201", "404"]),
        ("GET room", ["200", "200", "200", "200"], ["200", "404", "200", "404"], ["200", "404", "200", "404"]),
        ("PUT owner", ["200", "403 not_member", "200", "403 not_member"], ["200", "404", "200", "404"],
         ["409 direct_room", "404", "409 direct_room", "404"]),
        ("DELETE stranger", ["403 not_owner", "403 not_owner", "204", "403 not_owner"], ["403 not_owner", "404", "204", "404"],
         ["409 direct_room", "404", "409 direct_room", "404"]),
        ("GET /rooms", ["list+j", "list+n", "list+j", "list+n"], ["list+j", "list-", "list+j", "list-"],
         ["list+j", "list-", "list+j", "list-"]),
        ("GET /rooms paged", ["list+j", "list+n", "list+j", "list+n"], ["list+j", "list-", "list+j", "list-"],
         ["list+j", "list-", "list+j", "list-"]),
    ]

    /// owner makes "pub" and "priv"; member is in both; removed was in both and was removed by owner; outsider is
    /// in neither; owner and member talk in their direct room. Each room has three messages. `stranger` exists
    /// and is in no room but general.
    func makeWorld() throws {
        for role in Role.allCases { users[role] = try stack.user(role.rawValue) }
        _ = try stack.user("stranger")
        let owner = users[.owner]!
        XCTAssertEqual(try owner.post("/rooms", json: ["name": "pub"]).status, 201)
        XCTAssertEqual(try owner.post("/rooms", json: ["name": "priv", "visibility": "private"]).status, 201)
        for room in ["pub", "priv"] {
            for who in ["member", "removed"] {
                XCTAssertEqual(try owner.send("PUT", "/rooms/\(room)/members/\(who)").status, 201)
            }
            XCTAssertEqual(try owner.send("DELETE", "/rooms/\(room)/members/removed").status, 204)
        }
        for room in Self.rooms.values { for i in 1...3 { try owner.say("m\(i)", room: room) } }
    }

    func testEveryRoomRouteForEveryRoleAndVisibility() throws {
        try makeWorld()
        var checked = 0
        for row in Self.table {
            for (visibility, expected) in [("public", row.public), ("private", row.private), ("direct", row.direct)] {
                let room = Self.rooms[visibility]!
                for (role, want) in zip(Self.roles, expected) {
                    let got = try answer(row.route, room: room, as: users[role]!)
                    XCTAssertEqual(got, want, "\(row.route) \(visibility) room as \(role)")
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, Self.table.count * 12)
    }

    /// The answer of `route` on `room` for `client`, as the table writes it.
    func answer(_ route: String, room: String, as client: APIClient) throws -> String {
        let q = formEncode(room), path = room.replacingOccurrences(of: ",", with: "%2C")
        let r: HTTPResponse
        switch route {
        case "GET page": r = try client.get("/messages?room=\(q)")
        case "GET before": r = try client.get("/messages?room=\(q)&before=3&limit=1")
        case "GET after": r = try client.get("/messages?room=\(q)&after=1&limit=1")
        case "GET long-poll":
            let newest = try users[.owner]!.get("/messages?room=\(q)").json["last_seq"] as? Int ?? 0
            r = try client.get("/messages?room=\(q)&after=\(newest)&wait=0.3")
            if r.status == 200 { XCTAssertEqual(r.seqs, [], "\(room): held, then empty") }
        case "POST message": r = try client.post("/messages", json: ["room": room, "text": "hello"])
        case "GET room": r = try client.get("/rooms/\(path)")
        case "PUT owner": r = try client.send("PUT", "/rooms/\(path)/members/owner")
        case "DELETE stranger": r = try client.send("DELETE", "/rooms/\(path)/members/stranger")
        case "GET /rooms", "GET /rooms paged":
            // Paged: one room after the name just before this one (names here differ in their first letters).
            let target = route == "GET /rooms" ? "/rooms" : "/rooms?limit=1&after=\(formEncode(before(room)))"
            let list = try client.get(target)
            XCTAssertEqual(list.status, 200, list.text)
            let rooms = list.json["rooms"] as? [[String: Any]] ?? []
            guard let found = rooms.first(where: { $0["name"] as? String == room }) else { return "list-" }
            return found["joined"] as? Bool == true ? "list+j" : "list+n"
        default: XCTFail("no route \(route)"); return ""
        }
        if r.status == 404 || r.status == 403 || r.status == 409 {
            XCTAssertEqual(r.headers["Content-Type"], "application/problem+json")
            return r.code == "room_not_found" ? "404" : "\(r.status) \(r.code ?? "?")"
        }
        return String(r.status)
    }

    /// A name that sorts just before `room` and is no room itself.
    private func before(_ room: String) -> String {
        var bytes = Array(room.utf8)
        bytes[bytes.count - 1] -= 1
        return String(decoding: bytes, as: UTF8.self) + "~"
    }

    /// A non-member's 404 is the never-created room's, byte for byte, but for the name in `detail`: same status,
    /// same headers (names, order, values — `Content-Length` too: the names have the same length), same body.
    func testNonMembersNotFoundIsByteForByteANeverCreatedRoomsNotFound() throws {
        try makeWorld()
        let outsider = users[.nonMember]!
        func requests(_ room: String) -> [(String, String, [UInt8])] {
            let q = formEncode(room), path = room.replacingOccurrences(of: ",", with: "%2C")
            return [
                ("GET", "/messages?room=\(q)", []), ("GET", "/messages?room=\(q)&before=2", []),
                ("GET", "/messages?room=\(q)&after=0&wait=5", []),
                ("POST", "/messages", Array("{\"room\":\"\(room)\",\"text\":\"hi\"}".utf8)),
                ("GET", "/rooms/\(path)", []), ("PUT", "/rooms/\(path)/members/outsider", []),
                ("PUT", "/rooms/\(path)/members/owner", []), ("DELETE", "/rooms/\(path)/members/outsider", []),
                ("DELETE", "/rooms/\(path)/members/owner", []),
            ]
        }
        for (hidden, never) in [("priv", "nope"), ("@member,owner", "@member,ownex")] {
            for (a, b) in zip(requests(hidden), requests(never)) {
                let headers = a.2.isEmpty ? [] : [("Content-Type", "application/json")]
                let x = try outsider.send(a.0, a.1, headers: headers, body: a.2)
                let y = try outsider.send(b.0, b.1, headers: headers, body: b.2)
                XCTAssertProblem(x, 404, "room_not_found")
                XCTAssertEqual(x.status, y.status, a.1)
                XCTAssertEqual(x.headers.fields.map { "\($0.name): \($0.value)" }.filter { !$0.hasPrefix("Date:") },
                               y.headers.fields.map { "\($0.name): \($0.value)" }.filter { !$0.hasPrefix("Date:") }, a.1)
                XCTAssertEqual(x.text.replacingOccurrences(of: hidden, with: never), y.text, a.1)
                XCTAssertEqual(x.body.count, y.body.count, a.1)
            }
        }
    }

    /// A member removed while their GET /messages is held on this instance gets 404 at once (on another instance:
    /// when the next message arrives, MultiInstanceTests), and never what is posted after.
    func testRemovedMembersHeldLongPollAnswers404() throws {
        try makeWorld()
        let member = stack.client(), owner = users[.owner]!
        member.token = users[.member]!.token
        let held = Box<HTTPResponse>(), done = DispatchSemaphore(value: 0)
        Thread {
            held.value = try? member.get("/messages?room=priv&after=3&wait=30")
            done.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertEqual(try owner.send("DELETE", "/rooms/priv/members/member").status, 204)
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success, "answered by the removal")
        try owner.say("after the removal", room: "priv")
        let r = try XCTUnwrap(held.value)
        XCTAssertProblem(r, 404, "room_not_found")
        XCTAssertFalse(r.text.contains("after the removal"))
        XCTAssertProblem(try users[.member]!.get("/messages?room=priv"), 404, "room_not_found")
    }
}
