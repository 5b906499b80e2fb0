// End-to-end: ../shared/API.md "Accounts" over real sockets — register, login, logout, me, throttling, 401s.
import XCTest
import HTTP

final class AccountRoutesTests: XCTestCase {
    var stack: TestStack!
    override func setUpWithError() throws { stack = try TestStack() }
    override func tearDown() { stack.stop() }

    static let rfc3339 = try! NSRegularExpression(pattern: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#)
    func assertTime(_ value: Any?, file: StaticString = #filePath, line: UInt = #line) {
        let s = value as? String ?? ""
        XCTAssertNotNil(Self.rfc3339.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)), "not RFC 3339 ms: \(s)",
                        file: file, line: line)
    }

    func testRegisterAnswers201WithTheUser() throws {
        let c = stack.client()
        let r = try c.post("/register", json: ["username": "Alice.B-1_", "password": "password123"])
        XCTAssertEqual(r.status, 201, r.text)
        XCTAssertEqual(r.headers["Content-Type"], "application/json; charset=utf-8")
        XCTAssertEqual(r.headers["Cache-Control"], "no-store")
        let user = r.json["user"] as? [String: Any]
        XCTAssertEqual(user?["username"] as? String, "Alice.B-1_")
        assertTime(user?["created_at"])
        // Unique ignoring case: 409 username_taken; a form body works the same as JSON.
        XCTAssertProblem(try c.post("/register", form: "username=alice.b-1_&password=password123"), 409, "username_taken")
    }

    func testRegisterRejectsBadUsernamesAndPasswords() throws {
        let c = stack.client()
        for name in ["", "a b", "é", String(repeating: "a", count: 33), "<b>", "a/b"] {
            XCTAssertProblem(try c.post("/register", json: ["username": name, "password": "password123"]), 400, "invalid_username")
        }
        XCTAssertProblem(try c.post("/register", json: ["username": 5, "password": "password123"]), 400, "invalid_username")
        XCTAssertProblem(try c.post("/register", json: ["password": "password123"]), 400, "invalid_username")
        XCTAssertProblem(try c.post("/register", json: ["username": "bob", "password": "short"]), 400, "invalid_password")
        XCTAssertProblem(try c.post("/register", json: ["username": "bob", "password": String(repeating: "p", count: 257)]),
                         400, "invalid_password")
        XCTAssertProblem(try c.post("/register", json: ["username": "bob", "password": ["x"]]), 400, "invalid_password")
        XCTAssertProblem(try c.post("/register", type: "application/json", body: Array("{\"username\":".utf8)), 400, "invalid_json")
        XCTAssertProblem(try c.post("/register", type: "text/plain", body: Array("bob".utf8)), 415, "unsupported_media_type")
        // 256 bytes is still a valid password.
        XCTAssertEqual(try c.post("/register", json: ["username": "bob", "password": String(repeating: "p", count: 256)]).status, 201)
    }

    func testLoginMeLogout() throws {
        let c = try stack.user("carol", password: "s3cret-pass")
        XCTAssertNotNil(c.token)
        let login = try stack.client().post("/login", form: "username=CAROL&password=s3cret-pass")
        XCTAssertEqual(login.status, 200, login.text)
        XCTAssertEqual(login.json["token_type"] as? String, "Bearer")
        assertTime(login.json["expires_at"])
        XCTAssertEqual((login.json["user"] as? [String: Any])?["username"] as? String, "carol")
        XCTAssertGreaterThanOrEqual((login.json["token"] as? String ?? "").utf8.count, 22)   // ≥ 128 bits

        let me = try c.get("/me")
        XCTAssertEqual(me.status, 200, me.text)
        XCTAssertEqual((me.json["user"] as? [String: Any])?["username"] as? String, "carol")
        // The scheme is case-insensitive (RFC 9110 §11.1).
        XCTAssertEqual(try c.get("/me", headers: [("Authorization", "bearer \(c.token!)")]).status, 200)

        XCTAssertEqual(try c.send("POST", "/logout").status, 204)
        XCTAssertProblem(try c.get("/me"), 401, "unauthorized")
        XCTAssertProblem(try c.send("POST", "/logout"), 401, "unauthorized")
        // The other session is still good.
        let other = stack.client()
        other.token = login.json["token"] as? String
        XCTAssertEqual(try other.get("/me").status, 200)
    }

    func testWrongPasswordAndUnknownUserAreTheSame401() throws {
        _ = try stack.user("dave")
        let c = stack.client()
        let wrong = try c.post("/login", json: ["username": "dave", "password": "not-the-password"])
        let unknown = try c.post("/login", json: ["username": "nobody", "password": "password123"])
        for r in [wrong, unknown] {
            XCTAssertProblem(r, 401, "invalid_credentials")
            XCTAssertEqual(r.headers["WWW-Authenticate"], "Bearer")
        }
        XCTAssertEqual(wrong.json["detail"] as? String, unknown.json["detail"] as? String)
        XCTAssertProblem(try c.post("/login", json: ["username": 1, "password": 2]), 401, "invalid_credentials")
    }

    func testFiveFailuresThrottleThePairWith429() throws {
        _ = try stack.user("erin")
        _ = try stack.user("frank")
        let c = stack.client()
        for _ in 0..<5 {
            XCTAssertProblem(try c.post("/login", json: ["username": "erin", "password": "wrong-password"]), 401, "invalid_credentials")
        }
        let r = try c.post("/login", json: ["username": "erin", "password": "password123"])   // even the right one
        XCTAssertProblem(r, 429, "too_many_attempts")
        XCTAssertGreaterThan(Int(r.headers["Retry-After"] ?? "") ?? 0, 0)
        // Another username from the same address is not affected.
        XCTAssertEqual(try c.post("/login", json: ["username": "frank", "password": "password123"]).status, 200)
    }

    func testEveryProtectedRouteNeedsAToken() throws {
        let c = stack.client()
        let routes = [("GET", "/me"), ("POST", "/logout"), ("GET", "/rooms"), ("POST", "/rooms"), ("GET", "/messages"),
                      ("POST", "/messages")]
        for (method, path) in routes {
            for auth in [nil, "Bearer nope", "Basic YTpi", "Bearer", "Bearer  "] as [String?] {
                let r = try c.send(method, path, headers: auth.map { [("Authorization", $0)] } ?? [])
                XCTAssertProblem(r, 401, "unauthorized")
                XCTAssertEqual(r.headers["WWW-Authenticate"], "Bearer", "\(method) \(path)")
            }
        }
    }
}
