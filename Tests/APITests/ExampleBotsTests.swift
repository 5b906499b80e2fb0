// The README's echo bots (Tests/Examples/echo-bot.sh with curl + jq, Tests/Examples/echo-bot.py with Python's standard library),
// run as they are against a real server: a person's message in any of the bot's rooms is answered there.
import Foundation
import Glibc
import XCTest
@testable import API

final class ExampleBotsTests: XCTestCase {
    func testShellEchoBot() throws {
        try requireTools(["sh", "curl", "jq"])
        try runEchoBot(["/bin/sh", APIOptions.repositoryRoot + "/Tests/Examples/echo-bot.sh"])
    }

    func testPythonEchoBot() throws {
        try requireTools(["python3"])
        try runEchoBot(["/usr/bin/env", "python3", APIOptions.repositoryRoot + "/Tests/Examples/echo-bot.py"])
    }

    /// Fails under CI (`.ci/run` installs them); skips elsewhere when a tool is missing.
    func requireTools(_ tools: [String]) throws {
        for tool in tools where which(tool) == nil {
            if ProcessInfo.processInfo.environment["KONNECT_CI"] != nil { XCTFail("\(tool) is not installed") }
            throw XCTSkip("\(tool) is not installed")
        }
    }

    func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        where FileManager.default.isExecutableFile(atPath: "\(dir)/\(tool)") { return "\(dir)/\(tool)" }
        return nil
    }

    func runEchoBot(_ command: [String]) throws {
        let stack = try TestStack()
        var process: Process?
        defer {
            // By its PID. A shell waiting in $(curl …) may hold SIGTERM until curl's poll ends, and Foundation's
            // wait follows the curl it leaves behind: kill, then stop the server (held polls are answered at
            // shutdown, so that curl ends too), then wait.
            if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
            stack.stop()
            process?.waitUntilExit()
        }
        let alice = try stack.user("alice")
        let created = try alice.post("/bots", json: ["username": "echo"])
        XCTAssertEqual(created.status, 201, created.text)
        let token = try XCTUnwrap(created.json["token"] as? String)
        XCTAssertEqual(try alice.post("/rooms", form: "name=team&visibility=private").status, 201)
        XCTAssertEqual(try alice.send("PUT", "/rooms/team/members/echo").status, 201)

        let bot = Process()
        process = bot
        bot.executableURL = URL(fileURLWithPath: command[0])
        bot.arguments = Array(command.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment["URL"] = "http://127.0.0.1:\(stack.port)"
        environment["TOKEN"] = token
        bot.environment = environment
        bot.standardOutput = FileHandle.nullDevice
        bot.standardError = FileHandle.nullDevice
        try bot.run()

        // Ready once its first long-poll is held.
        let ready = Date().addingTimeInterval(15)
        while stack.chat.feedFollowers == 0 && Date() < ready && bot.isRunning { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertEqual(stack.chat.feedFollowers, 1, "the bot is waiting on /events")
        try alice.say("hello bot")
        try alice.say("in private", room: "team")
        let deadline = Date().addingTimeInterval(15)
        var general: [String] = [], team: [String] = []
        while Date() < deadline {
            general = try alice.get("/messages?room=general").messages.compactMap { $0["text"] as? String }
            team = try alice.get("/messages?room=team").messages.compactMap { $0["text"] as? String }
            if general.contains("echo: hello bot") && team.contains("echo: in private") { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertEqual(general, ["hello bot", "echo: hello bot"])
        XCTAssertEqual(team, ["in private", "echo: in private"])
        let echoed = try alice.get("/messages?room=general").messages.last
        XCTAssertEqual(echoed?["user"] as? String, "echo")
        XCTAssertEqual(echoed?["bot"] as? Bool, true)
        // Its own messages are not echoed again.
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(try alice.get("/messages?room=general").messages.count, 2)
        XCTAssertTrue(bot.isRunning)

    }
}
