// Store-independent test bodies: each runs against any `Store` (SQLite now; PostgreSQL adds a one-line caller).
@testable import Chat
import Dispatch
import XCTest

/// The behaviour every store must show through ChatService. A test class per store calls each body with its
/// own factory (see SQLiteStoreTests).
struct StoreContract {
    let makeStore: () throws -> Store

    func service(clock: TestClock = TestClock(), tokenLifetime: Double = ChatService.defaultTokenLifetime) throws -> ChatService {
        ChatService(store: try makeStore(), clock: { clock.now() }, tokenLifetime: tokenLifetime, passwordCost: 1)
    }

    func register(_ chat: ChatService, _ name: String, _ password: String = "correct horse") throws -> User {
        try value(outcome { chat.register(username: name, password: password, completion: $0) })
    }

    func login(_ chat: ChatService, _ name: String, _ password: String = "correct horse",
               from address: String = "127.0.0.1") -> Result<Session, ChatError> {
        outcome { chat.login(username: name, password: password, clientAddress: address, completion: $0) }
    }

    func post(_ chat: ChatService, _ user: User, _ text: String?, room: String = "general",
              clientID: String? = nil) -> Result<PostOutcome, ChatError> {
        outcome { chat.post(user: user, room: room, text: text, clientID: clientID, completion: $0) }
    }

    func history(_ chat: ChatService, _ cursor: HistoryCursor, limit: Int, room: String = "general") -> Result<HistoryPage, ChatError> {
        outcome { chat.history(room: room, cursor: cursor, limit: limit, completion: $0) }
    }

    // MARK: accounts

    func accounts() throws {
        let clock = TestClock()
        let chat = try service(clock: clock, tokenLifetime: 3600)
        let alice = try register(chat, "Alice_1.x-y")
        XCTAssertEqual(alice.username, "Alice_1.x-y")
        XCTAssertEqual(alice.createdAt, clock.now())
        let session = try value(login(chat, "Alice_1.x-y"))
        XCTAssertEqual(session.user, alice)
        XCTAssertEqual(session.expiresAt.milliseconds, clock.now().milliseconds + 3_600_000)
        XCTAssertGreaterThanOrEqual(session.token.utf8.count, 43)
        XCTAssertEqual(try value(outcome { chat.authenticate(token: session.token, completion: $0) }), alice)
        // Wrong password and unknown user look the same.
        XCTAssertEqual(code(login(chat, "Alice_1.x-y", "wrong password")), "invalid_credentials")
        XCTAssertEqual(code(login(chat, "nobody", "correct horse")), "invalid_credentials")
        XCTAssertEqual(code(outcome { chat.authenticate(token: "not-a-token", completion: $0) }), "unauthorized")
        XCTAssertEqual(code(outcome { chat.authenticate(token: nil, completion: $0) }), "unauthorized")
        // A second session survives the first one's logout.
        let other = try value(login(chat, "alice_1.X-Y"))
        XCTAssertNotEqual(other.token, session.token)
        _ = try value(outcome { chat.logout(token: session.token, completion: $0) })
        let revoked = outcome { chat.authenticate(token: session.token, completion: $0) }
        XCTAssertEqual(code(revoked), "unauthorized")
        if case .failure(let e) = revoked { XCTAssertEqual(e.kind, .unauthorized) }
        XCTAssertEqual(try value(outcome { chat.authenticate(token: other.token, completion: $0) }), alice)
        // Expiry.
        clock.advance(seconds: 3601)
        XCTAssertEqual(code(outcome { chat.authenticate(token: other.token, completion: $0) }), "unauthorized")
    }

    func usernamesIgnoreCase() throws {
        let chat = try service()
        _ = try register(chat, "Bob")
        let taken = outcome { chat.register(username: "bOB", password: "another one", completion: $0) }
        XCTAssertEqual(code(taken), "username_taken")
        if case .failure(let e) = taken { XCTAssertEqual(e.kind, .conflict) }
        XCTAssertEqual(try value(login(chat, "BOB")).user.username, "Bob")
        XCTAssertEqual(try value(login(chat, "bob")).user.username, "Bob")
    }

    func throttling() throws {
        let clock = TestClock()
        let chat = try service(clock: clock)
        _ = try register(chat, "carol")
        _ = try register(chat, "dave")
        for i in 0..<5 {
            XCTAssertEqual(code(login(chat, "carol", "bad password \(i)", from: "10.0.0.1")), "invalid_credentials")
            clock.advance(seconds: 10)
        }
        // Now 50 s after the first failure: the right password is refused too, for 15 min minus 50 s.
        let refused = login(chat, "CAROL", from: "10.0.0.1")
        XCTAssertEqual(code(refused), "too_many_attempts")
        if case .failure(let e) = refused {
            XCTAssertEqual(e.kind, .tooManyRequests)
            XCTAssertEqual(e.retryAfter, 15 * 60 - 50)
        }
        XCTAssertNoThrow(try value(login(chat, "carol", from: "10.0.0.2")), "another address is not affected")
        XCTAssertNoThrow(try value(login(chat, "dave", from: "10.0.0.1")), "another user is not affected")
        clock.advance(seconds: 15 * 60 - 50)        // the oldest failure leaves the window
        XCTAssertNoThrow(try value(login(chat, "carol", from: "10.0.0.1")))
    }

    /// Ten wrong guesses at once: the claim is atomic, so exactly five are tried and five refused.
    func throttlingBurst() throws {
        let chat = try service()
        _ = try register(chat, "target")
        let group = DispatchGroup()
        let codes = Box<[String]>([])
        for i in 0..<10 {
            group.enter()
            chat.login(username: "target", password: "guess number \(i)", clientAddress: "192.0.2.7") { result in
                if case .failure(let e) = result { codes.mutate { $0!.append(e.code) } }
                group.leave()
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        let all = codes.value ?? []
        XCTAssertEqual(all.filter { $0 == "invalid_credentials" }.count, 5, "\(all)")
        XCTAssertEqual(all.filter { $0 == "too_many_attempts" }.count, 5, "\(all)")
    }

    // MARK: validation and rooms

    func validationCodes() throws {
        let chat = try service()
        let user = try register(chat, "erin")
        let cases: [(Result<User, ChatError>, String)] = [
            (outcome { chat.register(username: "", password: "long enough", completion: $0) }, "invalid_username"),
            (outcome { chat.register(username: nil, password: "long enough", completion: $0) }, "invalid_username"),
            (outcome { chat.register(username: String(repeating: "a", count: 33), password: "long enough", completion: $0) }, "invalid_username"),
            (outcome { chat.register(username: "bad name", password: "long enough", completion: $0) }, "invalid_username"),
            (outcome { chat.register(username: "frank", password: "short", completion: $0) }, "invalid_password"),
            (outcome { chat.register(username: "frank", password: String(repeating: "é", count: 129), completion: $0) }, "invalid_password"),
        ]
        for (result, expected) in cases { XCTAssertEqual(code(result), expected) }
        XCTAssertEqual(code(outcome { chat.createRoom(name: "Caps", completion: $0) }), "invalid_room_name")
        XCTAssertEqual(code(outcome { chat.createRoom(name: nil, completion: $0) }), "invalid_room_name")
        let posts: [(String?, String?, String, String)] = [
            (nil, nil, "general", "invalid_text"), ("", nil, "general", "empty_text"),
            (" \n\t ", nil, "general", "empty_text"), (String(repeating: "x", count: 4001), nil, "general", "text_too_long"),
            ("bell\u{7}", nil, "general", "invalid_text"), ("ok", String(repeating: "k", count: 65), "general", "invalid_parameter"),
            ("ok", "tab\tkey", "general", "invalid_parameter"), ("ok", nil, "no-such-room", "room_not_found"),
        ]
        for (text, clientID, room, expected) in posts {
            XCTAssertEqual(code(post(chat, user, text, room: room, clientID: clientID)), expected, "\(String(describing: text))")
        }
        XCTAssertEqual(code(history(chat, .newest, limit: 10, room: "no-such-room")), "room_not_found")
        XCTAssertTrue(try value(post(chat, user, String(repeating: "ü", count: 4000))).isCreated)
    }

    func rooms() throws {
        let chat = try service()
        for name in ["zeta", "alpha", "b-c", "b_c", "a1"] {
            XCTAssertEqual(try value(outcome { chat.createRoom(name: name, completion: $0) }).name, name)
        }
        XCTAssertEqual(code(outcome { chat.createRoom(name: "alpha", completion: $0) }), "room_exists")
        let rooms = try value(outcome { chat.rooms(completion: $0) })
        XCTAssertEqual(rooms.map(\.name), ["a1", "alpha", "b-c", "b_c", "general", "zeta"])
        XCTAssertEqual(rooms.map(\.lastSeq), [0, 0, 0, 0, 0, 0])
    }
}
