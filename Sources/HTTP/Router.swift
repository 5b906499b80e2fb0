// Method + path (with `{name}` parameters) → handler. 404 and 405 (with `Allow`) are answered here as problem+json.

/// One registered route. `pattern` is as registered, e.g. `/rooms/{name}`; metrics label requests with it.
public struct Route: Sendable {
    public let method: String
    public let pattern: String
    public let bodyLimit: Int      // bytes; a larger body is answered 413 before it is read
    public let handler: HTTPHandler
    let segments: [Substring]
}

public enum RouteMatch: Sendable {
    case found(Route, parameters: [String: String])
    case notFound
    case methodNotAllowed(allow: [String])
}

/// Built once at start, then read-only (and so safe to share across event loops).
public final class Router: Sendable {
    public private(set) nonisolated(unsafe) var routes: [Route] = []
    public let defaultBodyLimit: Int

    public init(defaultBodyLimit: Int = 64 * 1024) { self.defaultBodyLimit = defaultBodyLimit }

    /// Registers a route. Call only before the server starts.
    public func add(_ method: String, _ pattern: String, bodyLimit: Int? = nil, _ handler: @escaping HTTPHandler) {
        routes.append(Route(method: method, pattern: pattern, bodyLimit: bodyLimit ?? defaultBodyLimit,
                            handler: handler, segments: pattern.split(separator: "/", omittingEmptySubsequences: false)))
    }

    /// HEAD matches a GET route (RFC 9110 §9.3.2); the server drops the body.
    public func match(method: String, path: String) -> RouteMatch {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        var allowed: [String] = []
        for route in routes {
            guard let params = Router.bind(route.segments, parts) else { continue }
            if route.method == method || (method == "HEAD" && route.method == "GET") {
                return .found(route, parameters: params)
            }
            allowed.append(route.method)
        }
        if allowed.isEmpty { return .notFound }
        if allowed.contains("GET") && !allowed.contains("HEAD") { allowed.append("HEAD") }
        return .methodNotAllowed(allow: allowed)
    }

    static func bind(_ pattern: [Substring], _ parts: [Substring]) -> [String: String]? {
        guard pattern.count == parts.count else { return nil }
        var params: [String: String] = [:]
        for (p, s) in zip(pattern, parts) {
            if p.first == "{" && p.last == "}" {
                guard !s.isEmpty else { return nil }
                params[String(p.dropFirst().dropLast())] = FormDecoding.percentDecode(Array(s.utf8)[...], strict: false)
            } else if p != s {
                return nil
            }
        }
        return params
    }

    /// The answer for a request no route takes.
    public static func notFoundResponse(path: String) -> HTTPResponse {
        .problem(status: 404, code: "not_found", detail: "no resource at \(path)")
    }

    public static func methodNotAllowedResponse(method: String, allow: [String]) -> HTTPResponse {
        .problem(status: 405, code: "method_not_allowed", detail: "method \(method) is not allowed here",
                 headers: HTTPHeaders([("Allow", allow.joined(separator: ", "))]))
    }
}
