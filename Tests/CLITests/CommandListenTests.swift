// `konnect listen` against a real server that is restarted mid-stream: every message printed exactly once.
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class CommandListenTests: CLITestCase {
    func testListenSurvivesServerRestartWithoutGapsOrRepeats() throws {
        let server = try server()
        let (alice, _) = try signedUpUser("alice")
        let (bob, bobName) = try signedUpUser("bob")
        let room = "listen-" + UUID().uuidString.prefix(8).lowercased()
        XCTAssertEqual(try alice.run(["rooms", "create", room]).status, 0)
        XCTAssertEqual(try bob.run(["send", "--room", room, "old"]).status, 0)

        let listen = try alice.spawn(["listen", "--room", room, "--json"])
        // Without --after, listening starts at the room's newest seq: "old" must not be printed.
        XCTAssertTrue(listen.stderr.waitFor("after #1;"), listen.stderr.text)
        for text in ["m1", "m2"] { XCTAssertEqual(try bob.run(["send", "--room", room, text]).status, 0) }
        XCTAssertTrue(listen.stdout.waitFor(#""text":"m2""#), listen.stdout.text)

        try server.restart()   // SIGTERM by PID, then the same port and database
        // Posted at once: usually before the listener's backoff has reconnected, so it is caught up by `after`.
        for text in ["m3", "m4"] { XCTAssertEqual(try bob.run(["send", "--room", room, text]).status, 0) }
        XCTAssertTrue(listen.stdout.waitFor(#""text":"m4""#, timeout: 15), listen.stdout.text + listen.stderr.text)
        XCTAssertEqual(try bob.run(["send", "--room", room, "m5"]).status, 0)
        XCTAssertTrue(listen.stdout.waitFor(#""text":"m5""#), listen.stdout.text)

        XCTAssertEqual(listen.stop(signal: SIGINT), 0, "Ctrl-C is a normal end")
        let messages = jsonLines(listen.stdout.text)
        XCTAssertEqual(messages.compactMap { $0["text"] as? String }, ["m1", "m2", "m3", "m4", "m5"])
        XCTAssertEqual(messages.compactMap { $0["seq"] as? Int }, [2, 3, 4, 5, 6])
        XCTAssertTrue(messages.allSatisfy { $0["user"] as? String == bobName })
        XCTAssertTrue(listen.stderr.text.contains("reconnect"), "the outage is reported: \(listen.stderr.text)")
    }

    func testSendRetriesWhileTheServerIsDown() throws {
        let server = try server()
        let (alice, _) = try signedUpUser("dina")
        let room = "retry-" + UUID().uuidString.prefix(8).lowercased()
        XCTAssertEqual(try alice.run(["rooms", "create", room]).status, 0)
        server.stop()
        // The first attempts are refused; the server is back within the retry window (about 4 s of backoff).
        let send = try alice.spawn(["send", "--room", room, "--json", "sent during an outage"])
        usleep(300_000)
        XCTAssertTrue(send.process.isRunning, "send must still be retrying")
        try server.start(port: server.port)
        send.process.waitUntilExit()
        send.stdout.waitForEnd()
        XCTAssertEqual(send.process.terminationStatus, 0, send.stderr.text)
        let history = try alice.run(["history", "--room", room, "--json"])
        XCTAssertEqual(jsonLines(history.stdout).compactMap { $0["text"] as? String }, ["sent during an outage"])
    }

    func testAfterZeroPrintsEverythingInHumanForm() throws {
        let (alice, aliceName) = try signedUpUser("carol")
        let room = "listen-" + UUID().uuidString.prefix(8).lowercased()
        XCTAssertEqual(try alice.run(["rooms", "create", room]).status, 0)
        XCTAssertEqual(try alice.run(["send", "--room", room, "first"]).status, 0)
        let listen = try alice.spawn(["listen", "--room", room, "--after", "0"])
        XCTAssertTrue(listen.stdout.waitFor("\(aliceName): first\n"), listen.stdout.text)
        XCTAssertEqual(try alice.run(["send", "--room", room, "second"]).status, 0)
        XCTAssertTrue(listen.stdout.waitFor("\(aliceName): second\n"), listen.stdout.text)
        XCTAssertEqual(listen.stop(signal: SIGINT), 0)
        XCTAssertEqual(listen.stdout.text.components(separatedBy: "\n").filter { !$0.isEmpty }.count, 2)
    }
}
