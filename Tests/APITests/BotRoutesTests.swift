// Bots (../shared/API.md "Bots"): token shown once, rotation revokes at once, deletion keeps messages, no password.
import Foundation
import XCTest
@testable import API
import HTTP

final class BotRoutesTests: XCTestCase {
    var stack: TestStack!
    override func setUpWithError() throws {
        stack = try TestStack()
    }
    override func tearDown() { stack?.stop() }   // nil when setUp skipped

    func bot(token: String) -> APIClient {
        let c = stack.client()
        c.token = token
        return c
    }

    func testLifecycle() throws {
        let alice = try stack.user("alice"), bob = try stack.user("bob")
        let created = try alice.post("/bots", json: ["username": "Echo-Bot"])
        XCTAssertEqual(created.status, 201, created.text)
        let info = created.json["bot"] as? [String: Any]
        XCTAssertEqual(info?["username"] as? String, "Echo-Bot")
        XCTAssertEqual(info?["owner"] as? String, "alice")
        XCTAssertNotNil(info?["created_at"] as? String)
        let token = try XCTUnwrap(created.json["token"] as? String)
        XCTAssertGreaterThanOrEqual(token.utf8.count, 43)

        // The bot works like a user, says it is a bot, and its messages say so too.
        let echo = bot(token: token)
        let me = try echo.get("/me")
        XCTAssertEqual(me.status, 200)
        XCTAssertEqual((me.json["user"] as? [String: Any])?["bot"] as? Bool, true)
        XCTAssertEqual((try alice.get("/me").json["user"] as? [String: Any])?["bot"] as? Bool, false)
        let said = try echo.say("beep")
        XCTAssertEqual(said["bot"] as? Bool, true)
        XCTAssertEqual(said["user"] as? String, "Echo-Bot")
        let history = try alice.get("/messages")
        XCTAssertEqual(history.messages.last?["bot"] as? Bool, true)
        let feed = try echo.get("/events?after=0")
        XCTAssertEqual(describeEvents(feed.events), ["+general", "general:beep"], "a member of general, as any new account")

        // Listed for its owner only; the token is never shown again.
        let list = try alice.get("/bots")
        XCTAssertEqual(list.status, 200)
        XCTAssertEqual((list.json["bots"] as? [[String: Any]])?.map { $0["username"] as? String }, ["Echo-Bot"])
        XCTAssertFalse(list.text.contains(token))
        XCTAssertEqual((try bob.get("/bots").json["bots"] as? [[String: Any]])?.count, 0)

        // No password login: exactly as for an unknown user.
        let login = try stack.client().post("/login", json: ["username": "Echo-Bot", "password": "anything at all"])
        XCTAssertProblem(login, 401, "invalid_credentials")
        XCTAssertProblem(try stack.client().post("/login", json: ["username": "Echo-Bot", "password": "!"]), 401, "invalid_credentials")

        // Rotation: a new token at once, the old one fails at once.
        let rotated = try alice.send("POST", "/bots/echo-bot/token")
        XCTAssertEqual(rotated.status, 200, rotated.text)
        let newToken = try XCTUnwrap(rotated.json["token"] as? String)
        XCTAssertNotEqual(newToken, token)
        XCTAssertProblem(try echo.get("/me"), 401, "unauthorized")
        XCTAssertEqual(try bot(token: newToken).get("/me").status, 200)

        // Someone else's bot, or none: 404 bot_not_found.
        XCTAssertProblem(try bob.send("POST", "/bots/Echo-Bot/token"), 404, "bot_not_found")
        XCTAssertProblem(try bob.send("DELETE", "/bots/Echo-Bot"), 404, "bot_not_found")
        XCTAssertProblem(try alice.send("DELETE", "/bots/bob"), 404, "bot_not_found")
        XCTAssertProblem(try alice.send("DELETE", "/bots/no-such"), 404, "bot_not_found")

        // Deletion: tokens fail, messages stay, the name stays taken.
        XCTAssertEqual(try alice.send("DELETE", "/bots/Echo-Bot").status, 204)
        XCTAssertProblem(try bot(token: newToken).get("/me"), 401, "unauthorized")
        XCTAssertEqual(try alice.get("/messages").messages.last?["text"] as? String, "beep")
        XCTAssertEqual((try alice.get("/bots").json["bots"] as? [[String: Any]])?.count, 0)
        XCTAssertProblem(try alice.send("DELETE", "/bots/Echo-Bot"), 404, "bot_not_found")
        XCTAssertProblem(try alice.post("/bots", json: ["username": "echo-bot"]), 409, "username_taken")
        XCTAssertProblem(try stack.client().post("/register", json: ["username": "echo-bot", "password": "long enough"]),
                         409, "username_taken")
    }

    func testBadInput() throws {
        let alice = try stack.user("alice")
        XCTAssertProblem(try alice.post("/bots", json: ["username": "bad name"]), 400, "invalid_username")
        XCTAssertProblem(try alice.post("/bots", json: [:]), 400, "invalid_username")
        XCTAssertProblem(try alice.post("/bots", json: ["username": 5]), 400, "invalid_username")
        XCTAssertProblem(try alice.post("/bots", json: ["username": "alice"]), 409, "username_taken")
        XCTAssertProblem(try stack.client().post("/bots", json: ["username": "x"]), 401, "unauthorized")
        XCTAssertProblem(try stack.client().get("/bots"), 401, "unauthorized")
        XCTAssertProblem(try alice.send("PUT", "/bots"), 405, "method_not_allowed")
        let form = try alice.post("/bots", form: "username=formbot")
        XCTAssertEqual(form.status, 201, form.text)
    }
}
