// `konnect send/history/rooms` against a real server: round trips, stdin, --json, idempotent retries.
import Foundation
import XCTest

final class CommandMessagesTests: CLITestCase {
    func testSendThenHistoryRoundTrip() throws {
        let (alice, aliceName) = try signedUpUser("alice")
        let room = try freshRoom(alice)
        let sent = try alice.run(["send", "--room", room, "hello", "from", "the", "cli"])
        XCTAssertEqual(sent.status, 0, sent.stderr)
        XCTAssertTrue(sent.stdout.hasSuffix(" \(aliceName): hello from the cli\n"), sent.stdout)

        let history = try alice.run(["history", "--room", room])
        XCTAssertEqual(history.status, 0, history.stderr)
        XCTAssertEqual(history.lines.count, 1)
        // Human output: local HH:MM, the user, the text (TZ=UTC in the sandbox).
        XCTAssertNotNil(history.lines[0].range(of: #"^\d\d:\d\d "# + aliceName + ": hello from the cli$",
                                               options: .regularExpression), history.lines[0])
    }

    func testSendReadsStdinWhenNoTextIsGiven() throws {
        let (alice, _) = try signedUpUser("bob")
        let room = try freshRoom(alice)
        let sent = try alice.run(["send", "--room", room], stdin: "piped line one\nand two\n")
        XCTAssertEqual(sent.status, 0, sent.stderr)
        let history = try alice.run(["history", "--room", room, "--json"])
        let texts = jsonLines(history.stdout).compactMap { $0["text"] as? String }
        XCTAssertEqual(texts, ["piped line one\nand two"], "the text is stdin less its final newline")
    }

    func testJSONOutputIsOneAPIMessagePerLine() throws {
        let (alice, aliceName) = try signedUpUser("carl")
        let room = try freshRoom(alice)
        for text in ["one", "two", "three"] {
            XCTAssertEqual(try alice.run(["send", "--room", room, text]).status, 0)
        }
        let history = try alice.run(["history", "--room", room, "--json", "--limit", "2"])
        XCTAssertEqual(history.status, 0, history.stderr)
        let messages = jsonLines(history.stdout)
        XCTAssertEqual(messages.compactMap { $0["text"] as? String }, ["two", "three"])
        XCTAssertEqual(messages.compactMap { $0["seq"] as? Int }, [2, 3])
        for message in messages {
            XCTAssertEqual(Set(message.keys), ["id", "room", "seq", "user", "text", "created_at", "client_id", "bot", "files"])
            XCTAssertEqual(message["user"] as? String, aliceName)
            XCTAssertEqual(message["room"] as? String, room)
        }
        let before = try alice.run(["history", "--room", room, "--json", "--before", "2"])
        XCTAssertEqual(jsonLines(before.stdout).compactMap { $0["text"] as? String }, ["one"])
        let after = try alice.run(["history", "--room", room, "--json", "--after", "1", "--limit", "1"])
        XCTAssertEqual(jsonLines(after.stdout).compactMap { $0["text"] as? String }, ["two"])
    }

    func testSameClientIDNeverDuplicates() throws {
        let (alice, _) = try signedUpUser("dora")
        let room = try freshRoom(alice)
        let first = try alice.run(["send", "--room", room, "--client-id", "retry-1", "--json", "only once"])
        let second = try alice.run(["send", "--room", room, "--client-id", "retry-1", "--json", "only once"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(second.status, 0, second.stderr)
        let a = jsonLines(first.stdout).first, b = jsonLines(second.stdout).first
        XCTAssertEqual(a?["id"] as? String, b?["id"] as? String)
        XCTAssertEqual(a?["client_id"] as? String, "retry-1")
        let history = try alice.run(["history", "--room", room, "--json"])
        XCTAssertEqual(jsonLines(history.stdout).count, 1)
        // A generated client id is sent too (that is what makes the CLI's own retries safe).
        let generated = try alice.run(["send", "--room", room, "--json", "auto id"])
        XCTAssertFalse((jsonLines(generated.stdout).first?["client_id"] as? String ?? "").isEmpty)
    }

    func testRoomsListAndCreate() throws {
        let (alice, _) = try signedUpUser("eve")
        let room = try freshRoom(alice)
        XCTAssertEqual(try alice.run(["send", "--room", room, "x"]).status, 0)
        let listed = try alice.run(["rooms", "--json"])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let rooms = jsonLines(listed.stdout)
        XCTAssertTrue(rooms.contains { $0["name"] as? String == "general" })
        XCTAssertEqual(rooms.first { $0["name"] as? String == room }?["last_seq"] as? Int, 1)
        let human = try alice.run(["rooms"])
        XCTAssertTrue(human.lines.contains { $0.hasPrefix(room) && $0.hasSuffix("1 message") }, human.stdout)
        let again = try alice.run(["rooms", "create", room])
        XCTAssertEqual(again.status, 1, "the room exists already")
        XCTAssertTrue(again.stderr.hasPrefix("konnect: "), again.stderr)
    }

    func testDoubleDashAndCommonOptionsBeforeTheCommand() throws {
        let (alice, _) = try signedUpUser("gil")
        let room = try freshRoom(alice)
        let url = try server().url
        alice.server = "http://127.0.0.1:1"   // wrong on purpose: --server must win over KONNECT_SERVER
        let sent = try alice.run(["--server", url, "send", "--room=\(room)", "--json", "--", "--not-an-option", "-x"])
        XCTAssertEqual(sent.status, 0, sent.stderr)
        XCTAssertEqual(jsonLines(sent.stdout).first?["text"] as? String, "--not-an-option -x")
        let history = try alice.run(["--json", "--server=\(url)", "history", "--room", room])
        XCTAssertEqual(jsonLines(history.stdout).count, 1, history.stderr)
    }

    func testUnknownRoomExitsOne() throws {
        let (alice, _) = try signedUpUser("fay")
        let result = try alice.run(["send", "--room", "no-such-room-\(UInt32.random(in: 0...UInt32.max))", "hi"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.hasPrefix("konnect: "), result.stderr)
    }

    /// A new, empty room, so each test's seq numbers start at 1.
    private func freshRoom(_ sandbox: CLISandbox) throws -> String {
        let name = "r-" + UUID().uuidString.prefix(8).lowercased()
        let created = try sandbox.run(["rooms", "create", name])
        guard created.status == 0 else { throw TestSetupError("rooms create: \(created.stderr)") }
        return name
    }
}
