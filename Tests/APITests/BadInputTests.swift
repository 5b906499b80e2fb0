// Hostile input in every text field: HTML, SQL-looking text, emoji, invalid UTF-8. Nothing crashes or hangs, every
// refusal has the contract's code, and whatever is accepted is stored and read back byte for byte.
import XCTest
import HTTP

final class BadInputTests: XCTestCase {
    var stack: TestStack!
    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() { stack.stop() }

    static let hostile = [
        "<script>alert('x')</script>", "<img src=x onerror=alert(1)>", "'; DROP TABLE messages; --",
        "Robert'); DELETE FROM users WHERE 1=1;--", "\" OR \"1\"=\"1", "%s%n%x", "${jndi:ldap://x}",
        "👩‍👩‍👧 🎉 café ñ 中文 עברית", "\u{202E}reversed", "tab\tand\nnewline\r\nend", "\u{FEFF}bom", "a\u{2028}b",
        "back\\slash \"quotes\"", "🏳️‍🌈",
    ]
    static let invalidUTF8: [[UInt8]] = [[0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0x61, 0xE2, 0x82], [0xF8, 0x88, 0x80, 0x80, 0x80]]

    func testTextRoundTripsExactlyAndInvalidUTF8IsRefused() throws {
        let c = try stack.user("alice")
        var expected: [String] = []
        for text in Self.hostile {
            let json = try c.post("/messages", json: ["text": text])
            XCTAssertEqual(json.status, 201, json.text)
            XCTAssertEqual((json.json["message"] as? [String: Any])?["text"] as? String, text)
            let form = try c.post("/messages", form: "text=" + formEncode(text))
            XCTAssertEqual(form.status, 201, form.text)
            let plain = try c.post("/messages", type: "text/plain", body: Array(text.utf8))
            XCTAssertEqual(plain.status, 201, plain.text)
            expected += [text, text, text]
        }
        for bytes in Self.invalidUTF8 {
            XCTAssertProblem(try c.post("/messages", form: "text=" + formEncode(bytes)), 400, "invalid_text")
            XCTAssertProblem(try c.post("/messages", type: "text/plain", body: bytes), 400, "invalid_text")
            XCTAssertProblem(try c.post("/messages", type: "application/json", body: Array("{\"text\":\"".utf8) + bytes + Array("\"}".utf8)),
                             400, "invalid_json")
        }
        // A lone surrogate escape is no Unicode text: the field is invalid (RFC 8259 §8.2).
        XCTAssertProblem(try c.post("/messages", type: "application/json", body: Array(#"{"text":"\ud800"}"#.utf8)), 400, "invalid_text")
        // Deep nesting is refused, not a stack overflow.
        let deep = Array(#"{"text":"#.utf8) + [UInt8](repeating: UInt8(ascii: "["), count: 60_000) + [UInt8(ascii: "}")]
        XCTAssertProblem(try c.post("/messages", type: "application/json", body: deep), 400, "invalid_json")
        XCTAssertProblem(try c.post("/messages", json: ["text": "nul\u{0}byte"]), 400, "invalid_text")
        let page = try c.get("/messages?limit=200")
        XCTAssertEqual(page.messages.compactMap { $0["text"] as? String }, expected)
        // Byte-exact, not just equal after Unicode normalisation (Swift's String == is canonical equivalence).
        XCTAssertEqual(page.messages.compactMap { ($0["text"] as? String).map { Array($0.utf8) } }, expected.map { Array($0.utf8) })
    }

    func testUsernamesAndPasswords() throws {
        let c = stack.client()
        for name in Self.hostile {
            XCTAssertProblem(try c.post("/register", json: ["username": name, "password": "password123"]), 400, "invalid_username")
            XCTAssertProblem(try c.post("/login", json: ["username": name, "password": "password123"]), 401, "invalid_credentials")
        }
        for bytes in Self.invalidUTF8 {
            XCTAssertProblem(try c.post("/register", form: "username=" + formEncode(bytes) + "&password=password123"), 400, "invalid_username")
            XCTAssertProblem(try c.post("/register", form: "username=ok&password=" + formEncode(bytes + Array("12345678".utf8))),
                             400, "invalid_password")
        }
        // Hostile passwords are just passwords: each works exactly, and a near miss does not.
        for (i, password) in Self.hostile.enumerated() where password.utf8.count >= 8 {
            let r = try c.post("/register", form: "username=user\(i)&password=" + formEncode(password))
            XCTAssertEqual(r.status, 201, r.text)
            XCTAssertEqual(try c.post("/login", json: ["username": "user\(i)", "password": password]).status, 200, password)
            XCTAssertProblem(try c.post("/login", json: ["username": "user\(i)", "password": password + " "]), 401, "invalid_credentials")
        }
    }

    func testRoomsClientIDsAndQueryValues() throws {
        let c = try stack.user("bob")
        for name in Self.hostile {
            XCTAssertProblem(try c.post("/rooms", json: ["name": name]), 400, "invalid_room_name")
            XCTAssertProblem(try c.post("/messages", json: ["room": name, "text": "x"]), 404, "room_not_found")
            XCTAssertProblem(try c.get("/messages?room=" + formEncode(name)), 404, "room_not_found")
            XCTAssertProblem(try c.get("/messages?limit=" + formEncode(name)), 400, "invalid_parameter")
            XCTAssertProblem(try c.get("/messages?after=" + formEncode(name)), 400, "invalid_parameter")
        }
        for bytes in Self.invalidUTF8 {
            XCTAssertProblem(try c.post("/rooms", form: "name=" + formEncode(bytes)), 400, "invalid_room_name")
            XCTAssertProblem(try c.post("/messages", form: "text=x&room=" + formEncode(bytes)), 400, "invalid_parameter")
            XCTAssertProblem(try c.post("/messages", form: "text=x&client_id=" + formEncode(bytes)), 400, "invalid_parameter")
            XCTAssertProblem(try c.get("/messages?room=" + formEncode(bytes)), 400, "invalid_parameter")
            XCTAssertProblem(try c.get("/messages?before=" + formEncode(bytes)), 400, "invalid_parameter")
        }
        // Printable-ASCII client ids (HTML, SQL) are echoed exactly; anything else is invalid_parameter.
        var accepted: [String] = []
        for id in Self.hostile {
            let r = try c.post("/messages", json: ["text": "t", "client_id": id])
            let printable = id.utf8.count <= 64 && id.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }
            if printable {
                XCTAssertEqual(r.status, 201, "\(id): \(r.text)")
                XCTAssertEqual((r.json["message"] as? [String: Any])?["client_id"] as? String, id)
                accepted.append(id)
            } else {
                XCTAssertProblem(r, 400, "invalid_parameter")
            }
        }
        XCTAssertFalse(accepted.isEmpty)
        XCTAssertEqual(try c.get("/messages?limit=200").messages.compactMap { $0["client_id"] as? String }, accepted)
        XCTAssertEqual(try c.get("/health").status, 200)
    }

    /// Issue 13 #12: a query value that cannot be percent-decoded is 400 invalid_parameter, not a 404 for a room
    /// named "%"; a form body keeps a stray `%` as text (WHATWG), so `curl -d text=100%` still posts "100%".
    func testUndecodableQueryValuesAreInvalidParameters() throws {
        let c = try stack.user("alice")
        for raw in ["%", "%2", "%zz", "gen%eral", "%%41"] {
            XCTAssertProblem(try c.get("/messages?room=\(raw)"), 400, "invalid_parameter")
            XCTAssertProblem(try c.post("/messages?room=\(raw)", form: "text=hi"), 400, "invalid_parameter")
        }
        XCTAssertProblem(try c.get("/messages?room=general&limit=1%"), 400, "invalid_parameter")
        XCTAssertEqual(try c.get("/messages?room=%67eneral").status, 200, "a well-formed escape decodes")
        XCTAssertProblem(try c.get("/messages?room=%41"), 404, "room_not_found")
        let posted = try c.post("/messages?room=%67eneral", form: "text=100%")
        XCTAssertEqual(posted.status, 201, posted.text)
        XCTAssertEqual((posted.json["message"] as? [String: Any])?["text"] as? String, "100%")
    }
}
