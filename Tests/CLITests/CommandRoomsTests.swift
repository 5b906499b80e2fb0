// `konnect rooms create --private`, `rooms join|leave`, `members …`, `@user` rooms, and the rooms table, against
// the real binary and a real server (../shared/API.md "Rooms v2").
import Foundation
import XCTest

final class CommandRoomsTests: CLITestCase {
    private func room(_ prefix: String) -> String { prefix + "-" + UUID().uuidString.prefix(8).lowercased() }

    func testPrivateRoomMembersAddRemove() throws {
        let (alice, aliceName) = try signedUpUser("alice")
        let (bob, bobName) = try signedUpUser("bob")
        let plans = room("plans")
        let created = try alice.run(["rooms", "create", plans, "--private"])
        XCTAssertEqual(created.status, 0, created.stderr)
        XCTAssertEqual(created.stdout, "created private room \(plans)\n")
        XCTAssertFalse(try bob.run(["rooms"]).stdout.contains(plans), "bob does not see it")
        let refused = try bob.run(["history", plans])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("does not exist"), refused.stderr)

        let added = try alice.run(["members", "add", plans, bobName])
        XCTAssertEqual(added.status, 0, added.stderr)
        XCTAssertEqual(added.stdout, "added \(bobName) to \(plans)\n")
        XCTAssertEqual(try alice.run(["members", "add", plans, bobName]).stdout, "\(bobName) is already in \(plans)\n")
        let members = try bob.run(["members", plans])
        XCTAssertEqual(members.status, 0, members.stderr)
        XCTAssertEqual(members.lines, ["\(aliceName)  (owner)", bobName].sorted { $0.lowercased() < $1.lowercased() })
        let json = jsonLines(try bob.run(["members", plans, "--json"]).stdout).first
        XCTAssertEqual(json?["members"] as? [String], [aliceName, bobName].sorted())
        XCTAssertEqual(json?["visibility"] as? String, "private")
        let listed = try bob.run(["rooms"])
        XCTAssertNotNil(listed.lines.first { $0.hasPrefix(plans) }?.range(of: #"^\S+\s+private\s+member\s+0 messages$"#,
                                                                                   options: .regularExpression), listed.stdout)

        let notOwner = try bob.run(["members", "remove", plans, aliceName])
        XCTAssertEqual(notOwner.status, 1)
        XCTAssertTrue(notOwner.stderr.hasPrefix("konnect: "), notOwner.stderr)
        let removed = try alice.run(["members", "remove", plans, bobName])
        XCTAssertEqual(removed.status, 0, removed.stderr)
        XCTAssertEqual(try bob.run(["send", "--room", plans, "hello?"]).status, 1, "removed: the room is gone for bob")
        let unknown = try alice.run(["members", "add", plans, "nobody-\(UInt32.random(in: 0...UInt32.max))"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertEqual(try alice.run(["members", "add", plans]).status, 2, "usage: USER is missing")
    }

    func testJoinAndLeaveAPublicRoom() throws {
        let (alice, _) = try signedUpUser("ann")
        let (bob, bobName) = try signedUpUser("ben")
        let open = room("open")
        XCTAssertEqual(try alice.run(["rooms", "create", open]).stdout, "created room \(open)\n")
        let before = try bob.run(["rooms", "--json"])
        XCTAssertEqual(jsonLines(before.stdout).first { $0["name"] as? String == open }?["joined"] as? Bool, false)
        XCTAssertEqual(try bob.run(["rooms", "join", open]).stdout, "joined \(open)\n")
        XCTAssertEqual(try bob.run(["rooms", "join", open]).stdout, "already a member of \(open)\n")
        XCTAssertTrue(try bob.run(["members", open]).lines.contains(bobName))
        XCTAssertTrue(try bob.run(["rooms"]).lines.contains { $0.hasPrefix(open) && $0.contains(" member ") })
        XCTAssertEqual(try bob.run(["rooms", "leave", open]).stdout, "left \(open)\n")
        XCTAssertFalse(try bob.run(["members", open]).lines.contains(bobName))
        let general = try bob.run(["rooms", "leave", "general"])
        XCTAssertEqual(general.status, 1)
        XCTAssertTrue(general.stderr.contains("general"), general.stderr)
    }

    /// `@user` wherever a room goes: send (first word), history, listen, members; both directions, any case.
    func testDirectRoomsByAt() throws {
        let (alice, aliceName) = try signedUpUser("amy")
        let (bob, bobName) = try signedUpUser("bo")
        let direct = "@" + [aliceName, bobName].sorted().joined(separator: ",")
        let sent = try alice.run(["send", "@\(bobName.uppercased())", "hi", "bob", "--json"])
        XCTAssertEqual(sent.status, 0, sent.stderr)
        XCTAssertEqual(jsonLines(sent.stdout).first?["room"] as? String, direct)
        XCTAssertEqual(jsonLines(sent.stdout).first?["text"] as? String, "hi bob")
        XCTAssertEqual(try bob.run(["send", "--room", "@\(aliceName)", "hi alice"]).status, 0)
        let history = try bob.run(["history", "@\(aliceName)", "--json"])
        XCTAssertEqual(history.status, 0, history.stderr)
        XCTAssertEqual(jsonLines(history.stdout).compactMap { $0["text"] as? String }, ["hi bob", "hi alice"])
        XCTAssertEqual(try bob.run(["members", "@\(aliceName)"]).lines, [aliceName, bobName].sorted())
        XCTAssertTrue(try alice.run(["rooms"]).lines.contains { $0.hasPrefix(direct) && $0.contains(" direct ") })
        let listener = try bob.spawn(["listen", "@\(aliceName)", "--json"])
        XCTAssertTrue(listener.stderr.waitFor("listening to @\(aliceName)"), listener.stderr.text)
        XCTAssertEqual(try alice.run(["send", "@\(bobName)", "live"]).status, 0)
        XCTAssertTrue(listener.stdout.waitFor("\"live\""), listener.stdout.text)
        _ = listener.stop()
        let nobody = try alice.run(["send", "@nobody-\(UInt32.random(in: 0...UInt32.max))", "hello?"])
        XCTAssertEqual(nobody.status, 1)
        XCTAssertTrue(nobody.stderr.contains("does not exist"), nobody.stderr)
        XCTAssertEqual(try alice.run(["history", "--room", "general", "general"]).status, 2, "the room given twice")
    }

    /// On a terminal, `konnect rooms` fits its width (80 when the terminal does not say): long names are cut.
    func testRoomsTableFitsTheTerminal() throws {
        let (alice, _) = try signedUpUser("wide")
        let long = room(String(repeating: "x", count: 55))
        XCTAssertEqual(try alice.run(["rooms", "create", long]).status, 0)
        let terminal = try PseudoTerminal()
        try terminal.spawn(["rooms"], environment: alice.environment)
        XCTAssertEqual(terminal.waitForExit(), 0, terminal.output.text)
        let lines = terminal.output.text.components(separatedBy: .newlines).filter { !$0.isEmpty }
        XCTAssertTrue(lines.contains { $0.hasPrefix("general ") && $0.contains(" public ") && $0.contains(" member ") },
                      terminal.output.text)
        XCTAssertTrue(lines.contains { $0.contains("xxxxx…") }, "the long name is cut: \(terminal.output.text)")
        for line in lines { XCTAssertLessThanOrEqual(line.count, 80, line) }
        // Through a pipe nothing is cut.
        XCTAssertTrue(try alice.run(["rooms"]).lines.contains { $0.hasPrefix(long + "  ") })
    }
}
