// Router matching (byte-wise segment matching): literals, `{name}` parameters, segment counts, HEAD, 405's Allow.
import XCTest
@testable import HTTP

final class RouterTests: XCTestCase {
    func makeRouter() -> Router {
        let router = Router()
        for (method, pattern) in [("GET", "/"), ("GET", "/health"), ("GET", "/rooms"), ("POST", "/rooms"),
                                  ("GET", "/rooms/{name}/messages"), ("DELETE", "/rooms/{name}")] {
            router.add(method, pattern) { _, r in r.respond(HTTPResponse(status: 200)) }
        }
        return router
    }

    func found(_ match: RouteMatch) -> (String, [String: String])? {
        if case .found(let route, let parameters) = match { return (route.pattern, parameters) }
        return nil
    }

    func testTable() {
        let router = makeRouter()
        let cases: [(method: String, path: String, pattern: String?, comment: String)] = [
            ("GET", "/", "/", "root"),
            ("GET", "/health", "/health", "literal"),
            ("HEAD", "/health", "/health", "HEAD takes the GET route (RFC 9110 §9.3.2)"),
            ("GET", "/health/", nil, "a trailing slash is another path"),
            ("GET", "/healthz", nil, "prefix is not a match"),
            ("GET", "/rooms/general/messages", "/rooms/{name}/messages", "parameter"),
            ("GET", "/rooms//messages", nil, "an empty parameter does not match"),
            ("GET", "/rooms/a/b/messages", nil, "a parameter is one segment"),
            ("GET", "", nil, "empty path"),
        ]
        for c in cases {
            XCTAssertEqual(found(router.match(method: c.method, path: c.path))?.0, c.pattern, c.comment)
        }
        XCTAssertEqual(found(router.match(method: "GET", path: "/rooms/caf%C3%A9/messages"))?.1, ["name": "café"])
    }

    func testMethodNotAllowedListsAllow() {
        let router = makeRouter()
        guard case .methodNotAllowed(let allow) = router.match(method: "PUT", path: "/rooms") else { return XCTFail() }
        XCTAssertEqual(allow, ["GET", "POST", "HEAD"])
        guard case .methodNotAllowed(let allow2) = router.match(method: "GET", path: "/rooms/x") else { return XCTFail() }
        XCTAssertEqual(allow2, ["DELETE"])
        guard case .notFound = router.match(method: "GET", path: "/nope") else { return XCTFail() }
    }
}
