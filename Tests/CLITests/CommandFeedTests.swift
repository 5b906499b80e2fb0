// `konnect listen` without a room (the feed of every room, resumed per server) and `konnect bots`, on the real binary.
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class CommandFeedTests: CLITestCase {
    /// Every room, prefixed by its name; a restart of the command resumes where it stopped: nothing lost, nothing
    /// twice; `--from start` replays from the beginning, `--from now` skips what is there.
    func testListenFollowsEveryRoomAndResumes() throws {
        let (alice, _) = try signedUpUser("feeda")
        let (bob, bobName) = try signedUpUser("feedb")
        let one = "f1-" + UUID().uuidString.prefix(8).lowercased(), two = "f2-" + UUID().uuidString.prefix(8).lowercased()
        XCTAssertEqual(try alice.run(["rooms", "create", one]).status, 0)
        XCTAssertEqual(try alice.run(["rooms", "create", two, "--private"]).status, 0)
        XCTAssertEqual(try alice.run(["members", "add", two, bobName]).status, 0)

        let first = try alice.spawn(["listen", "--json"])
        XCTAssertTrue(first.stderr.waitFor("listening to all your rooms"), first.stderr.text)
        XCTAssertEqual(try bob.run(["send", "--room", one, "a1"]).status, 0)
        XCTAssertEqual(try bob.run(["send", "--room", two, "a2"]).status, 0)
        XCTAssertTrue(first.stdout.waitFor(#""text":"a2""#), first.stdout.text)
        XCTAssertEqual(first.stop(signal: SIGINT), 0)
        let firstEvents = jsonLines(first.stdout.text)
        XCTAssertEqual(firstEvents.map { $0["room"] as? String }, [one, two])
        XCTAssertEqual(firstEvents.compactMap { ($0["message"] as? [String: Any])?["text"] as? String }, ["a1", "a2"])

        // While nobody listens.
        XCTAssertEqual(try bob.run(["send", "--room", one, "b1"]).status, 0)
        let second = try alice.spawn(["listen"])
        XCTAssertTrue(second.stdout.waitFor("\(bobName): b1\n"), second.stdout.text + second.stderr.text)
        XCTAssertEqual(try bob.run(["send", "--room", two, "b2"]).status, 0)
        XCTAssertTrue(second.stdout.waitFor("\(bobName): b2\n"), second.stdout.text)
        XCTAssertEqual(second.stop(signal: SIGINT), 0)
        let lines = second.stdout.text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, "nothing from the first run again: \(lines)")
        XCTAssertTrue(lines[0].hasPrefix("[\(one)] "), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("[\(two)] "), lines[1])

        let replay = try alice.spawn(["listen", "--from", "start", "--json"])
        XCTAssertTrue(replay.stdout.waitFor(#""text":"b2""#), replay.stdout.text)
        XCTAssertEqual(replay.stop(signal: SIGINT), 0)
        let all = jsonLines(replay.stdout.text)
        XCTAssertEqual(all.map { "\($0["type"] as? String ?? "?") \($0["room"] as? String ?? "?")" },
                       ["joined general", "joined \(one)", "joined \(two)", "message \(one)", "message \(two)",
                        "message \(one)", "message \(two)"])
        let positions = all.compactMap { $0["pos"] as? Int }
        XCTAssertEqual(positions, positions.sorted())

        let now = try alice.spawn(["listen", "--from", "now", "--json"])
        XCTAssertTrue(now.stderr.waitFor("listening to all your rooms"), now.stderr.text)
        XCTAssertEqual(try bob.run(["send", "--room", one, "c1"]).status, 0)
        XCTAssertTrue(now.stdout.waitFor(#""text":"c1""#), now.stdout.text)
        XCTAssertEqual(now.stop(signal: SIGINT), 0)
        XCTAssertEqual(jsonLines(now.stdout.text).count, 1)

        XCTAssertEqual(try alice.run(["listen", "--from", "soon"]).status, 2)
        XCTAssertEqual(try alice.run(["listen", "--after", "3"]).status, 2, "--after needs a room")
        XCTAssertEqual(try alice.run(["listen", "--room", one, "--from", "start"]).status, 2)
    }

    /// `konnect bots`: the token printed once, `send`/`listen` with it (--token, KONNECT_TOKEN), rotation, deletion.
    func testBotsCommands() throws {
        let (alice, _) = try signedUpUser("owner")
        let botName = uniqueName("bot")
        let created = try alice.run(["bots", "create", botName])
        XCTAssertEqual(created.status, 0, created.stderr)
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertGreaterThanOrEqual(token.count, 43, created.stdout)
        XCTAssertTrue(created.stderr.contains("shown once"), created.stderr)
        let listed = try alice.run(["bots", "--json"])
        XCTAssertEqual(jsonLines(listed.stdout).compactMap { $0["username"] as? String }, [botName])
        XCTAssertFalse(listed.stdout.contains(token))

        // A sandbox that never logged in: the bot's token alone.
        let script = try CLISandbox(server: try server().url)
        let sent = try script.run(["send", "--token", token, "--json", "from the bot"])
        XCTAssertEqual(sent.status, 0, sent.stderr)
        XCTAssertEqual(jsonLines(sent.stdout).first?["bot"] as? Bool, true)
        script.extraEnvironment["KONNECT_TOKEN"] = token
        let listen = try script.spawn(["listen", "--from", "start", "--json"])
        XCTAssertTrue(listen.stdout.waitFor(#""text":"from the bot""#), listen.stdout.text + listen.stderr.text)
        XCTAssertEqual(listen.stop(signal: SIGINT), 0)

        let rotated = try alice.run(["bots", "token", botName, "--json"])
        XCTAssertEqual(rotated.status, 0, rotated.stderr)
        let newToken = try XCTUnwrap(jsonLines(rotated.stdout).first?["token"] as? String)
        let refused = try script.run(["send", "old token"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("401") || refused.stderr.contains("unauthorized") || refused.stderr.contains("token"), refused.stderr)
        XCTAssertEqual(try script.run(["send", "--token", newToken, "new token"]).status, 0)

        XCTAssertEqual(try alice.run(["bots", "delete", botName]).status, 0)
        XCTAssertEqual(try script.run(["send", "--token", newToken, "after deletion"]).status, 1)
        XCTAssertEqual(try alice.run(["bots", "delete", botName]).status, 1, "bot_not_found")
        let history = try alice.run(["history", "--json"])
        XCTAssertTrue(history.stdout.contains("from the bot"), "its messages stay")
    }
}
