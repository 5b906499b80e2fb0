// Store-independent test bodies for bots (../shared/API.md "Bots").
@testable import Chat
import XCTest

extension StoreContract {
    /// Created with a token that never expires, listed for the owner only, rotated (old token fails in the same
    /// commit), deleted (tokens fail, messages stay, name stays taken); no password login.
    func botLifecycle() throws {
        let clock = TestClock()
        let chat = try service(clock: clock, tokenLifetime: 3600)
        let alice = try register(chat, "alice"), bob = try register(chat, "bob")
        let made = try value(outcome { chat.createBot(user: alice, username: "Helper", completion: $0) })
        XCTAssertEqual(made.bot, Bot(username: "Helper", owner: "alice", createdAt: clock.now()))
        XCTAssertEqual(code(outcome { chat.createBot(user: bob, username: "helper", completion: $0) }), "username_taken")
        XCTAssertEqual(code(outcome { chat.createBot(user: bob, username: "no good", completion: $0) }), "invalid_username")
        let helper = try value(outcome { chat.authenticate(token: made.token, completion: $0) })
        XCTAssertTrue(helper.bot)
        let aliceToken = try value(login(chat, "alice")).token
        XCTAssertFalse(try value(outcome { chat.authenticate(token: aliceToken, completion: $0) }).bot)
        XCTAssertTrue(try value(post(chat, helper, "from a bot")).message.bot)
        XCTAssertEqual(try value(history(chat, .newest, limit: 1)).messages.map(\.bot), [true])
        XCTAssertEqual(try value(outcome { chat.bots(user: alice, completion: $0) }).map(\.username), ["Helper"])
        XCTAssertEqual(try value(outcome { chat.bots(user: bob, completion: $0) }), [])
        XCTAssertEqual(code(login(chat, "Helper", "any password at all")), "invalid_credentials")
        clock.advance(seconds: 10 * 365 * 86400)                   // bot tokens do not expire
        XCTAssertEqual(try value(outcome { chat.authenticate(token: made.token, completion: $0) }).username, "Helper")

        XCTAssertEqual(code(outcome { chat.rotateBotToken(user: bob, username: "Helper", completion: $0) }), "bot_not_found")
        let rotated = try value(outcome { chat.rotateBotToken(user: alice, username: "helper", completion: $0) })
        XCTAssertEqual(code(outcome { chat.authenticate(token: made.token, completion: $0) }), "unauthorized")
        XCTAssertEqual(try value(outcome { chat.authenticate(token: rotated.token, completion: $0) }).username, "Helper")

        XCTAssertEqual(code(outcome { chat.deleteBot(user: bob, username: "Helper", completion: $0) }), "bot_not_found")
        XCTAssertEqual(code(outcome { chat.deleteBot(user: alice, username: "bob", completion: $0) }), "bot_not_found")
        _ = try value(outcome { chat.deleteBot(user: alice, username: "Helper", completion: $0) })
        XCTAssertEqual(code(outcome { chat.authenticate(token: rotated.token, completion: $0) }), "unauthorized")
        XCTAssertEqual(try value(outcome { chat.bots(user: alice, completion: $0) }), [])
        XCTAssertEqual(try value(history(chat, .newest, limit: 1)).messages.map(\.text), ["from a bot"])
        XCTAssertEqual(code(outcome { chat.register(username: "helper", password: "long enough", completion: $0) }), "username_taken")
        XCTAssertEqual(code(outcome { chat.rotateBotToken(user: alice, username: "Helper", completion: $0) }), "bot_not_found")
    }
}
