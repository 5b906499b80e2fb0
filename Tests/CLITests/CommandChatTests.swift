// `konnect chat` in real pseudo-terminals: two users talk, incoming lines are drawn above the typed input.
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class CommandChatTests: CLITestCase {
    func testTwoUsersSeeEachOthersLines() throws {
        let (alice, aliceName) = try signedUpUser("alice")
        let (bob, bobName) = try signedUpUser("bob")
        let room = "chat-" + UUID().uuidString.prefix(8).lowercased()
        XCTAssertEqual(try alice.run(["rooms", "create", room]).status, 0)
        XCTAssertEqual(try alice.run(["send", "--room", room, "earlier"]).status, 0)

        let aliceTerminal = try PseudoTerminal(), bobTerminal = try PseudoTerminal()
        try aliceTerminal.spawn(["chat", "--room", room], environment: alice.environment)
        try bobTerminal.spawn(["chat", "--room", room], environment: bob.environment)
        XCTAssertTrue(aliceTerminal.output.waitFor("logged in as \(aliceName)"), aliceTerminal.output.text)
        XCTAssertTrue(bobTerminal.output.waitFor("logged in as \(bobName)"), bobTerminal.output.text)
        XCTAssertTrue(bobTerminal.output.text.contains("\(aliceName): earlier"), "recent history is shown first")

        aliceTerminal.type("hello bob\r")
        XCTAssertTrue(bobTerminal.output.waitFor("\(aliceName): hello bob"), bobTerminal.output.text)

        // Alice has half a line typed when Bob's answer comes in: it is printed above, and her input redrawn.
        aliceTerminal.type("typing…")
        XCTAssertTrue(aliceTerminal.output.waitFor("typing…"))
        bobTerminal.type("hi alice\r")
        let redrawn = "\r\u{1b}[2K"
        XCTAssertTrue(aliceTerminal.output.waitFor { text in
            guard let range = text.range(of: "\(bobName): hi alice") else { return false }
            return text[range.upperBound...].contains("[\(room)] typing…")
        }, aliceTerminal.output.text)
        XCTAssertTrue(aliceTerminal.output.text.contains(redrawn))
        aliceTerminal.type("\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}done\r")   // backspace over "typing…"
        XCTAssertTrue(bobTerminal.output.waitFor("\(aliceName): done"), bobTerminal.output.text)

        aliceTerminal.type("/quit\r")
        bobTerminal.type("\u{04}")   // Ctrl-D
        XCTAssertEqual(aliceTerminal.waitForExit(), 0)
        XCTAssertEqual(bobTerminal.waitForExit(), 0)
        for terminal in [aliceTerminal, bobTerminal] {
            XCTAssertNotEqual(terminal.localFlags & tcflag_t(ECHO), 0, "echo restored on exit")
            XCTAssertNotEqual(terminal.localFlags & tcflag_t(ICANON), 0, "line mode restored on exit")
        }
    }

    /// Issue 12: ←/→ Home/End move the cursor, Backspace works anywhere, ↑ recalls a sent line, /quit leaves the
    /// prompt row cleared for the shell.
    func testEditingKeysAndRecallInATerminal() throws {
        let (erin, name) = try signedUpUser("erin")
        let room = "chat-" + UUID().uuidString.prefix(8).lowercased()
        XCTAssertEqual(try erin.run(["rooms", "create", room]).status, 0)
        let terminal = try PseudoTerminal()
        try terminal.spawn(["chat", "--room", room], environment: erin.environment)
        XCTAssertTrue(terminal.output.waitFor("logged in as \(name)"), terminal.output.text)
        terminal.type("helo\u{1b}[Dl\r")                               // ← then insert: "hello"
        XCTAssertTrue(terminal.output.waitFor("\(name): hello"), terminal.output.text)
        terminal.type("\u{1b}[A\u{1b}[H¡\u{1b}[F!\r")                  // ↑ recalls it; Home "¡", End "!"
        XCTAssertTrue(terminal.output.waitFor("\(name): ¡hello!"), terminal.output.text)
        terminal.type("abc\u{1b}[D\u{1b}[D\u{7f}\r")                    // Backspace in the middle: "bc"
        XCTAssertTrue(terminal.output.waitFor("\(name): bc\r"), terminal.output.text)
        terminal.type("/quit\r")
        XCTAssertEqual(terminal.waitForExit(), 0)
        XCTAssertTrue(terminal.output.text.hasSuffix("\r\u{1b}[2K"), "the prompt row is cleared on the way out")
        let history = try erin.run(["history", "--room", room])
        XCTAssertTrue(history.stdout.contains("\(name): hello\n") && history.stdout.contains("\(name): ¡hello!\n")
                      && history.stdout.contains("\(name): bc\n"), history.stdout)
    }

    func testRoomSwitchAndLineModeWithoutTerminal() throws {
        let (alice, aliceName) = try signedUpUser("carol")
        let room = "chat-" + UUID().uuidString.prefix(8).lowercased()
        XCTAssertEqual(try alice.run(["rooms", "create", room]).status, 0)
        // stdin is a pipe: line mode. Switch rooms, say something there, leave.
        let result = try alice.run(["chat"], stdin: "/room \(room)\nin the new room\n/help\n/quit\n")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("— \(room) —"), result.stdout)
        XCTAssertTrue(result.stdout.contains("/room NAME"), "help was shown: \(result.stdout)")
        XCTAssertFalse(result.stdout.contains("\u{1b}"), "no terminal control sequences in line mode")
        let history = try alice.run(["history", "--room", room])
        XCTAssertTrue(history.stdout.contains("\(aliceName): in the new room"), history.stdout)
    }
}
