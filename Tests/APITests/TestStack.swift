// Test helper: the whole stack in-process (SQLite in a temp dir → ChatService → API router → HTTPServer on port 0).
import Foundation
import Synchronization
import XCTest
@testable import API
import Chat
import HTTP
import Store

/// One running server over real sockets on 127.0.0.1, with its own temporary database. `stop()` shuts it down and
/// deletes the directory.
final class TestStack: @unchecked Sendable {
    let directory: URL
    let store: SQLiteStore
    let chat: ChatService
    let metrics = Metrics()
    let server: HTTPServer
    let options: APIOptions

    /// `webRoot` nil serves the repository's web/ folder.
    /// Posting is not rate limited unless `postRateLimit` says so (tests post thousands of messages).
    init(webRoot: String? = nil, postRateLimit: PostRateLimit = .off, maxFileBytes: Int? = nil,
         storeWrapper: ((SQLiteStore) -> Store)? = nil, configure: (inout APIOptions) -> Void = { _ in }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("konnect-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("konnect.db").path)
        // passwordCost 1: yescrypt's cheapest setting keeps account tests fast; production uses the default.
        // KONNECT_API_STORE=postgres runs the same routes over a PostgresStore on the tests' throwaway PostgreSQL.
        var backing: Store = store
        if ProcessInfo.processInfo.environment["KONNECT_API_STORE"] == "postgres" {
            backing = try PostgresStore(conninfo: try PostgresTestServer.shared().freshDatabase())
        }
        chat = ChatService(store: storeWrapper?(store) ?? backing, passwordCost: 1)
        var options = APIOptions(webRoot: webRoot, metrics: metrics)
        options.postRateLimit = postRateLimit
        if let maxFileBytes { options.maxFileBytes = maxFileBytes }
        configure(&options)
        self.options = options
        var configuration = HTTPServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.loops = 2
        server = HTTPServer(configuration: configuration, router: makeRouter(chat: chat, options: options))
        server.onRequest = { [metrics] in metrics.record($0) }
        try server.start()
    }

    var port: Int { server.port }

    /// Whether this run's stacks are on PostgreSQL (`KONNECT_API_STORE=postgres`).
    static var onPostgres: Bool { ProcessInfo.processInfo.environment["KONNECT_API_STORE"] == "postgres" }

    /// Skips, saying so, where the store under test does not implement `feature` yet: PostgresStore has accounts,
    /// rooms v2, messages and files; the feed and bots are SQLite's only until issue 11 brings them over.
    static func requireSQLite(for feature: String) throws {
        try XCTSkipIf(onPostgres, "PostgresStore does not store \(feature) yet (issue 11): this suite runs on SQLite only")
    }

    func client(timeout: Double = 20) -> APIClient { APIClient(port: port, timeout: timeout) }

    /// Registers `username` and logs in; the returned client sends its token.
    func user(_ username: String, password: String = "password123") throws -> APIClient {
        let c = client()
        let r = try c.post("/register", json: ["username": username, "password": password])
        XCTAssertEqual(r.status, 201, "register \(username): \(r.text)")
        try c.login(username, password)
        return c
    }

    private let stopped = Mutex(false)

    /// Shuts the server down (once) and deletes the database directory.
    func stop() {
        guard stopped.withLock({ let was = $0; $0 = true; return !was }) else { return }
        server.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// An HTTPClient with a bearer token and JSON helpers.
final class APIClient: @unchecked Sendable {
    let http: HTTPClient
    var token: String?

    init(port: Int, timeout: Double) { http = HTTPClient(host: "127.0.0.1", port: port, timeout: timeout) }

    func login(_ username: String, _ password: String) throws {
        let r = try post("/login", json: ["username": username, "password": password])
        XCTAssertEqual(r.status, 200, "login \(username): \(r.text)")
        token = r.json["token"] as? String
    }

    func send(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = []) throws -> HTTPResponse {
        var all = headers
        if let token, !headers.contains(where: { $0.0.lowercased() == "authorization" }) {
            all.append(("Authorization", "Bearer \(token)"))
        }
        return try http.request(method, target, headers: all, body: body)
    }

    func get(_ target: String, headers: [(String, String)] = []) throws -> HTTPResponse {
        try send("GET", target, headers: headers)
    }

    func post(_ target: String, json: [String: Any], headers: [(String, String)] = []) throws -> HTTPResponse {
        try send("POST", target, headers: headers + [("Content-Type", "application/json")], body: Array(encodeJSON(json).utf8))
    }

    func post(_ target: String, form: String, headers: [(String, String)] = []) throws -> HTTPResponse {
        try send("POST", target, headers: headers + [("Content-Type", "application/x-www-form-urlencoded")],
                 body: Array(form.utf8))
    }

    func post(_ target: String, type: String, body: [UInt8], headers: [(String, String)] = []) throws -> HTTPResponse {
        try send("POST", target, headers: headers + [("Content-Type", type)], body: body)
    }

    /// Posts `text` to `room` and returns the message object (fails the test on another status).
    @discardableResult
    func say(_ text: String, room: String = "general", file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let r = try post("/messages", json: ["room": room, "text": text])
        XCTAssertEqual(r.status, 201, r.text, file: file, line: line)
        return r.json["message"] as? [String: Any] ?? [:]
    }

    func close() { http.close() }
}

extension HTTPResponse {
    var text: String { String(decoding: body, as: UTF8.self) }
    /// Decoded losslessly (JSONDecoder; JSONSerialization drops U+FEFF inside strings).
    var json: [String: Any] { (try? JSONDecoder().decode(JSONValue.self, from: Data(body)))?.any as? [String: Any] ?? [:] }
    /// The problem's `code`, nil when the body is not a problem.
    var code: String? { json["code"] as? String }
    var messages: [[String: Any]] { json["messages"] as? [[String: Any]] ?? [] }
    var seqs: [Int] { messages.compactMap { $0["seq"] as? Int } }
}

/// Asserts an RFC 9457 problem with the contract's status and code.
func XCTAssertProblem(_ r: HTTPResponse, _ status: Int, _ code: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(r.status, status, r.text, file: file, line: line)
    XCTAssertEqual(r.code, code, r.text, file: file, line: line)
    XCTAssertEqual(r.headers["Content-Type"], "application/problem+json", file: file, line: line)
    XCTAssertEqual(r.json["status"] as? Int, status, file: file, line: line)
    XCTAssertEqual(r.json["type"] as? String, "about:blank", file: file, line: line)
}

/// Form-encodes one value (every byte but unreserved ones as %XX), for raw bytes too.
func formEncode(_ bytes: [UInt8]) -> String {
    var out = ""
    for b in bytes {
        if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F || b == 0x2E {
            out.unicodeScalars.append(Unicode.Scalar(b))
        } else {
            out += String(format: "%%%02X", b)
        }
    }
    return out
}

func formEncode(_ s: String) -> String { formEncode(Array(s.utf8)) }

/// Runs `body` on `count` threads at once and waits for all.
func concurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for i in 0..<count {
        group.enter()
        Thread { body(i); group.leave() }.start()
    }
    group.wait()
}

/// Any JSON value, for decoding responses without losing a character.
enum JSONValue: Decodable {
    case string(String), number(Double), bool(Bool), null, array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// As Foundation-style values: String, Int (integral numbers), Double, Bool, NSNull, arrays, dictionaries.
    var any: Any {
        switch self {
        case .string(let s): return s
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? Int(n) as Any : n as Any
        case .bool(let b): return b
        case .null: return NSNull()
        case .array(let a): return a.map(\.any)
        case .object(let o): return o.mapValues(\.any)
        }
    }
}

/// Encodes test bodies by hand (strings through the server's own `jsonString` escaper; numbers, arrays, objects).
func encodeJSON(_ value: Any) -> String {
    switch value {
    case let s as String: return jsonString(s)
    case let n as Int: return String(n)
    case let b as Bool: return b ? "true" : "false"
    case is NSNull: return "null"
    case let a as [Any]: return "[" + a.map(encodeJSON).joined(separator: ",") + "]"
    case let o as [String: Any]: return "{" + o.map { jsonString($0.key) + ":" + encodeJSON($0.value) }.joined(separator: ",") + "}"
    default: return "null"
    }
}
