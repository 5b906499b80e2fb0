// openapi.yaml and the router must list the same (path, method) pairs: a route added on one side only fails here.
import XCTest
@testable import API
import Chat
import Store

final class OpenAPISpecTests: XCTestCase {
    /// The `paths:` section's keys (indent 2) and their operations (indent 4), read line by line: no YAML library.
    static func specOperations(_ yaml: String) -> Set<String> {
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        var operations = Set<String>(), inPaths = false, path: String?
        for raw in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.trimmingCharacters(in: .whitespaces).hasPrefix("#") { continue }
            let indent = line.prefix { $0 == " " }.count
            if indent == 0 { inPaths = line.hasPrefix("paths:"); path = nil; continue }
            guard inPaths else { continue }
            let key = line.trimmingCharacters(in: .whitespaces)
            if indent == 2, key.hasSuffix(":") {
                path = String(key.dropLast()).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            } else if indent == 4, let path, key.hasSuffix(":"), methods.contains(String(key.dropLast())) {
                operations.insert(String(key.dropLast()).uppercased() + " " + path)
            }
        }
        return operations
    }

    /// Operations that declare `security: []` (no token), from the same line-based reading.
    static func openOperations(_ yaml: String) -> Set<String> {
        var open = Set<String>(), operation: String?, inPaths = false, path = ""
        for raw in yaml.split(separator: "\n") {
            let line = String(raw), key = line.trimmingCharacters(in: .whitespaces)
            let indent = line.prefix { $0 == " " }.count
            if indent == 0 { inPaths = line.hasPrefix("paths:"); continue }
            guard inPaths else { continue }
            if indent == 2 { path = String(key.dropLast()) }
            if indent == 4 { operation = String(key.dropLast()).uppercased() + " " + path }
            if indent == 6, key == "security: []", let operation { open.insert(operation) }
        }
        return open
    }

    /// The spec's `security` matches the server: a request without a token gets 401 `unauthorized` exactly on the
    /// operations that require one.
    func testSecurityRequirementsMatchTheServer() throws {
        let yaml = try String(contentsOfFile: APIOptions.repositoryRoot + "/openapi.yaml", encoding: .utf8)
        let all = Self.specOperations(yaml), open = Self.openOperations(yaml)
        XCTAssertTrue(open.isSuperset(of: ["GET /health", "POST /register", "POST /login", "GET /", "GET /{file}"]))
        let stack = try TestStack()
        defer { stack.stop() }
        let c = stack.client()
        for operation in all.sorted() where !operation.contains("{") {
            let parts = operation.split(separator: " ")
            let r = try c.send(String(parts[0]), String(parts[1]))
            if open.contains(operation) {
                XCTAssertNotEqual(r.code, "unauthorized", operation)
            } else {
                XCTAssertProblem(r, 401, "unauthorized")
            }
        }
    }

    func testReaderFindsOperations() {
        let yaml = "openapi: 3.1.0\npaths:\n  /a:\n    get:\n      x: 1\n    post:\n      y: 2\n  \"/b/{id}\":\n    delete:\n"
            + "      z: 3\ncomponents:\n  /c:\n    get:\n"
        XCTAssertEqual(Self.specOperations(yaml), ["GET /a", "POST /a", "DELETE /b/{id}"])
    }

    func testRouterAndSpecListTheSameRoutes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("konnect-spec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // A web root with extra files: each becomes a route the spec documents as `/{file}`.
        for name in ["index.html", "app.js", "style.css"] { try Data("x".utf8).write(to: dir.appendingPathComponent(name)) }
        let chat = ChatService(store: try SQLiteStore(path: dir.appendingPathComponent("k.db").path), passwordCost: 1)
        let options = APIOptions(webRoot: dir.path, openAPIPath: APIOptions.repositoryRoot + "/openapi.yaml")
        let router = makeRouter(chat: chat, options: options)
        let statics = Set(staticFileRoutes(options: options))
        XCTAssertEqual(statics, ["/app.js", "/style.css"])

        let routed = Set(router.routes.map { $0.method + " " + (statics.contains($0.pattern) ? "/{file}" : $0.pattern) })
        let yaml = try String(contentsOfFile: options.openAPIPath, encoding: .utf8)
        let specified = Self.specOperations(yaml)
        XCTAssertGreaterThanOrEqual(specified.count, 13)
        XCTAssertEqual(routed.subtracting(specified), [], "routes missing from openapi.yaml")
        XCTAssertEqual(specified.subtracting(routed), [], "openapi.yaml operations the router lacks")
    }
}
