// `RoomName.resolve`: what a `room` parameter names for a caller (../shared/API.md "Rooms v2", direct rooms).
import Chat
import XCTest

final class RoomNameTests: XCTestCase {
    func testResolveTable() {
        // (typed, caller's lowercase name, canonical name or nil for "no room can have it", direct members)
        let cases: [(String, String, String?, [String]?, String)] = [
            ("general", "alice", "general", nil, "a plain name is itself"),
            ("@bob", "alice", "@alice,bob", ["alice", "bob"], "the alias: caller and bob"),
            ("@BOB", "alice", "@alice,bob", ["alice", "bob"], "any letter case"),
            ("@alice", "bob", "@alice,bob", ["alice", "bob"], "the other direction"),
            ("@Bob,Alice", "carol", "@alice,bob", ["alice", "bob"], "full form, any order and case"),
            ("@alice", "alice", "@alice,alice", ["alice", "alice"], "self-chat"),
            ("@alice,alice", "bob", "@alice,alice", ["alice", "alice"], "someone else's self-chat (not theirs)"),
            ("@a.b-c_d,x", "x", "@a.b-c_d,x", ["a.b-c_d", "x"], "every username character"),
            ("@", "alice", nil, nil, "no user"),
            ("@,bob", "alice", nil, nil, "an empty user"),
            ("@bob,", "alice", nil, nil, "an empty second user"),
            ("@a,b,c", "alice", nil, nil, "three users"),
            ("@bad name", "alice", nil, nil, "not a username"),
            ("@" + String(repeating: "x", count: 33), "alice", nil, nil, "a username is at most 32"),
            ("General", "alice", nil, nil, "room names are lowercase"),
            ("", "alice", nil, nil, "empty"),
            ("a@b", "alice", nil, nil, "@ only first"),
        ]
        for (typed, caller, name, direct, why) in cases {
            let resolved = RoomName.resolve(typed, caller: caller)
            XCTAssertEqual(resolved?.name, name, why)
            XCTAssertEqual(resolved?.direct, direct, why)
        }
        XCTAssertEqual(RoomName.direct("Zed", "amy"), "@amy,zed")
    }
}
