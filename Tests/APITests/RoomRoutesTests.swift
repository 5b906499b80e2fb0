// End-to-end: ../shared/API.md "Rooms" — list in code-point order, create, 409 room_exists, 400 invalid_room_name.
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
