// End-to-end: ../shared/API.md "POST /messages" — body forms, idempotency, and every error code of the route.
import XCTest
import HTTP

final class MessageRoutesTests: XCTestCase {
    var stack: TestStack!
    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() { stack.stop() }

    func testJSONFormAndPlainTextBodies() throws {
        let c = try stack.user("alice")
        XCTAssertEqual(try c.post("/rooms", json: ["name": "random"]).status, 201)
        let json = try c.post("/messages", json: ["room": "random", "text": "from json"])
        XCTAssertEqual(json.status, 201, json.text)
        XCTAssertEqual(json.headers["Content-Type"], "application/json; charset=utf-8")
        XCTAssertEqual(json.headers["Cache-Control"], "no-store")
        let m = json.json["message"] as? [String: Any] ?? [:]
        XCTAssertEqual(m["room"] as? String, "random")
        XCTAssertEqual(m["seq"] as? Int, 1)
        XCTAssertEqual(m["user"] as? String, "alice")
        XCTAssertEqual(m["text"] as? String, "from json")
        XCTAssertTrue(m["client_id"] is NSNull)
        XCTAssertFalse((m["id"] as? String ?? "").isEmpty)

        let form = try c.post("/messages", form: "text=hello+world&room=random")        // what `curl -d` sends
        XCTAssertEqual((form.json["message"] as? [String: Any])?["text"] as? String, "hello world")
        let plain = try c.post("/messages?room=random", type: "text/plain; charset=utf-8", body: Array("a=b&c\nline 2".utf8))
        XCTAssertEqual(plain.status, 201, plain.text)
        XCTAssertEqual((plain.json["message"] as? [String: Any])?["text"] as? String, "a=b&c\nline 2")
        XCTAssertEqual((plain.json["message"] as? [String: Any])?["seq"] as? Int, 3)
        // No room anywhere: general.
        XCTAssertEqual((try c.say("default"))["room"] as? String, "general")
        let page = try c.get("/messages?room=random")
        XCTAssertEqual(page.messages.compactMap { $0["text"] as? String }, ["from json", "hello world", "a=b&c\nline 2"])
    }

    func testIdempotentRetryAnswersTheOriginal() throws {
        let c = try stack.user("bob")
        let first = try c.post("/messages", json: ["text": "once", "client_id": "key-1"])
        XCTAssertEqual(first.status, 201)
        let retry = try c.post("/messages", json: ["text": "once", "client_id": "key-1"])
        XCTAssertEqual(retry.status, 200, retry.text)
        let a = first.json["message"] as? [String: Any] ?? [:], b = retry.json["message"] as? [String: Any] ?? [:]
        XCTAssertEqual(a["id"] as? String, b["id"] as? String)
        XCTAssertEqual(a["seq"] as? Int, b["seq"] as? Int)
        XCTAssertEqual(b["client_id"] as? String, "key-1")
        // The header names the same key, bare or as an RFC 8941 string.
        XCTAssertEqual(try c.post("/messages", form: "text=once", headers: [("Idempotency-Key", "key-1")]).status, 200)
        XCTAssertEqual(try c.post("/messages", form: "text=once", headers: [("Idempotency-Key", "\"key-1\"")]).status, 200)
        XCTAssertProblem(try c.post("/messages", json: ["text": "different", "client_id": "key-1"]), 422, "idempotency_key_reused")
        XCTAssertEqual(try c.get("/messages").seqs, [1])                       // nothing new was stored
        // Header and field must agree.
        XCTAssertProblem(try c.post("/messages", json: ["text": "x", "client_id": "a"], headers: [("Idempotency-Key", "b")]),
                         400, "invalid_parameter")
        XCTAssertEqual(try c.post("/messages", json: ["text": "x", "client_id": "a"], headers: [("Idempotency-Key", "a")]).status, 201)
    }

    func testEveryErrorCodeOfPost() throws {
        let c = try stack.user("carol")
        XCTAssertProblem(try c.post("/messages", json: ["text": ""]), 400, "empty_text")
        XCTAssertProblem(try c.post("/messages", json: ["text": " \t\n "]), 400, "empty_text")
        XCTAssertProblem(try c.post("/messages", json: ["text": String(repeating: "é", count: 4001)]), 400, "text_too_long")
        XCTAssertEqual(try c.post("/messages", json: ["text": String(repeating: "é", count: 4000)]).status, 201)
        XCTAssertProblem(try c.post("/messages", json: ["room": "general"]), 400, "invalid_text")
        XCTAssertProblem(try c.post("/messages", json: ["text": 5]), 400, "invalid_text")
        XCTAssertProblem(try c.post("/messages", json: ["text": ["a"]]), 400, "invalid_text")
        XCTAssertProblem(try c.post("/messages", json: ["text": "bell\u{07}"]), 400, "invalid_text")
        XCTAssertProblem(try c.post("/messages", type: "text/plain", body: [0x68, 0x69, 0xC0, 0xAF]), 400, "invalid_text")
        XCTAssertProblem(try c.post("/messages", form: "text=%FF%FE"), 400, "invalid_text")
        XCTAssertProblem(try c.post("/messages", type: "application/json", body: Array(#"{"text":"hi"#.utf8)), 400, "invalid_json")
        XCTAssertProblem(try c.post("/messages", type: "application/json", body: Array(#"{"text":""#.utf8) + [0xFF] + Array(#""}"#.utf8)),
                         400, "invalid_json")
        XCTAssertProblem(try c.post("/messages", json: ["text": "x", "client_id": String(repeating: "k", count: 65)]), 400, "invalid_parameter")
        XCTAssertProblem(try c.post("/messages", json: ["text": "x", "client_id": "tab\there"]), 400, "invalid_parameter")
        XCTAssertProblem(try c.post("/messages", json: ["text": "x", "client_id": 12]), 400, "invalid_parameter")
        XCTAssertProblem(try c.post("/messages", json: ["text": "x", "room": 12]), 400, "invalid_parameter")
        XCTAssertProblem(try c.post("/messages", json: ["text": "x", "room": "nope"]), 404, "room_not_found")
        XCTAssertProblem(try c.post("/messages?room=nope", form: "text=x"), 404, "room_not_found")
        // A room in the body and another in the query: refused, not one of them silently ignored (schemathesis).
        XCTAssertProblem(try c.post("/messages?room=Bad!", json: ["text": "x", "room": "general"]), 400, "invalid_parameter")
        XCTAssertProblem(try c.post("/messages?room=other", form: "text=x&room=general"), 400, "invalid_parameter")
        XCTAssertEqual(try c.post("/messages?room=general", form: "text=same&room=general").status, 201, "the same room twice is fine")
        XCTAssertProblem(try c.post("/messages", type: "application/xml", body: Array("<t/>".utf8)), 415, "unsupported_media_type")
        let big = try c.post("/messages", type: "text/plain", body: [UInt8](repeating: 0x61, count: 64 * 1024 + 1))
        XCTAssertProblem(big, 413, "payload_too_large")
        XCTAssertEqual(try c.get("/messages").seqs, [1, 2], "only the valid posts were stored")
    }

    func testUnknownPathAndWrongMethod() throws {
        let c = try stack.user("dave")
        XCTAssertProblem(try c.get("/nope"), 404, "not_found")
        XCTAssertProblem(try c.get("/messages/1"), 404, "not_found")
        let r = try c.send("DELETE", "/messages")
        XCTAssertProblem(r, 405, "method_not_allowed")
        let allow = Set((r.headers["Allow"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        XCTAssertTrue(allow.isSuperset(of: ["GET", "POST"]), "Allow: \(allow)")
        XCTAssertProblem(try c.get("/register"), 405, "method_not_allowed")
        XCTAssertProblem(try c.send("POST", "/health"), 405, "method_not_allowed")
    }

    /// What curl does for bodies over 1 KiB (Expect: 100-continue) and chunked uploads, through the API's routes.
    func testChunkedAndExpectContinueBodiesOverRawSockets() throws {
        let c = try stack.user("erin")
        let auth = "Authorization: Bearer \(c.token!)\r\n"
        let chunked = "POST /messages HTTP/1.1\r\nHost: x\r\n\(auth)Content-Type: text/plain\r\n"
            + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        let answer = try RawConnection.exchange(port: stack.port, Array(chunked.utf8))
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 201"), answer)
        let text = String(repeating: "x", count: 2000)
        let expect = "POST /messages HTTP/1.1\r\nHost: x\r\n\(auth)Content-Type: application/x-www-form-urlencoded\r\n"
            + "Content-Length: \(text.utf8.count + 5)\r\nExpect: 100-continue\r\nConnection: close\r\n\r\ntext=\(text)"
        let continued = try RawConnection.exchange(port: stack.port, Array(expect.utf8))
        XCTAssertTrue(continued.contains("HTTP/1.1 201"), continued)
        XCTAssertEqual(try c.get("/messages").messages.compactMap { $0["text"] as? String }, ["hello world", text])
        let head = try c.send("HEAD", "/messages")
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.body, [])
    }
}
