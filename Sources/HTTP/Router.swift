// Method + path (with `{name}` parameters) → handler. 404 and 405 (with `Allow`) are answered here as problem+json.

/// One registered route. `pattern` is as registered, e.g. `/rooms/{name}`; metrics label requests with it.
public struct Route: Sendable {
    public let method: String
    public let pattern: String
    public let bodyLimit: Int      // bytes; a larger body is answered 413 before it is read
    public let handler: HTTPHandler
    public let streamHandler: StreamingHandler?   // set: the body is delivered in pieces (see BodyStream)
    let streamBodyLimit: Int                       // the limit of a streamed body
    let streamsRequest: (@Sendable (HTTPRequest) -> Bool)?   // nil: every request of a streaming route streams
    let segments: [Substring]
    let literals: [[UInt8]]        // each segment's bytes, for matching without Strings
    let isParameter: [Bool]        // `{name}` segments
    let hasParameters: Bool

    init(method: String, pattern: String, bodyLimit: Int, handler: @escaping HTTPHandler, segments: [Substring],
         streamHandler: StreamingHandler? = nil, streamBodyLimit: Int = 0,
         streamsRequest: (@Sendable (HTTPRequest) -> Bool)? = nil) {
        self.streamHandler = streamHandler
        self.streamBodyLimit = streamBodyLimit
        self.streamsRequest = streamsRequest
        self.method = method
        self.pattern = pattern
        self.bodyLimit = bodyLimit
        self.handler = handler
        self.segments = segments
        self.literals = segments.map { Array($0.utf8) }
        self.isParameter = segments.map { $0.first == "{" && $0.last == "}" }
        self.hasParameters = isParameter.contains(true)
    }

    /// The streaming handler when `request` is streamed, nil when its body is buffered (up to `bodyLimit`) for
    /// `handler`.
    func streaming(_ request: HTTPRequest) -> StreamingHandler? {
        guard let streamHandler, streamsRequest?(request) ?? true else { return nil }
        return streamHandler
    }

    /// Whether `path` (its UTF-8 bytes) has this route's shape: same number of `/`-separated segments, literal
    /// segments byte-equal, parameter segments non-empty. Allocation-free: the hot path for every request.
    func matches(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = 0
        for i in 0..<literals.count {
            var end = start
            while end < path.count && path[end] != 47 { end += 1 }
            if i == literals.count - 1 { if end != path.count { return false } } else if end == path.count { return false }
            if isParameter[i] {
                if end == start { return false }
            } else {
                let literal = literals[i]
                if literal.count != end - start { return false }
                for j in 0..<literal.count where literal[j] != path[start + j] { return false }
            }
            start = end + 1
        }
        return true
    }
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

    /// Called on the event loop when a request head for `route` arrives with a body, before the body is read: an
    /// answer (e.g. 401 for a route that needs credentials the head lacks) is sent at once and the body is never
    /// buffered (issue 13 item 2). Keeps HTTP ignorant of what a route needs. Set before the server starts; must
    /// be cheap and must not block (it runs on the loop thread).
    public nonisolated(unsafe) var headCheck: (@Sendable (Route, HTTPRequest) -> HTTPResponse?)? = nil

    public init(defaultBodyLimit: Int = 64 * 1024) { self.defaultBodyLimit = defaultBodyLimit }

    /// The `Allow` value of `OPTIONS *`: every method some route takes, HEAD with GET, and OPTIONS.
    var allowedMethods: String {
        var methods: [String] = []
        for route in routes where !methods.contains(route.method) { methods.append(route.method) }
        if methods.contains("GET") && !methods.contains("HEAD") { methods.append("HEAD") }
        if !methods.contains("OPTIONS") { methods.append("OPTIONS") }
        return methods.joined(separator: ", ")
    }

    /// Registers a route. Call only before the server starts.
    public func add(_ method: String, _ pattern: String, bodyLimit: Int? = nil, _ handler: @escaping HTTPHandler) {
        routes.append(Route(method: method, pattern: pattern, bodyLimit: bodyLimit ?? defaultBodyLimit,
                            handler: handler, segments: pattern.split(separator: "/", omittingEmptySubsequences: false)))
    }

    /// Registers a route whose body is streamed to `handler` in pieces, up to `bodyLimit` bytes (413 past it:
    /// at the head for a Content-Length, else as soon as a chunk crosses it). Call only before the server starts.
    public func addStreaming(_ method: String, _ pattern: String, bodyLimit: Int, _ handler: @escaping StreamingHandler) {
        routes.append(Route(method: method, pattern: pattern, bodyLimit: bodyLimit,
                            handler: { _, responder in responder.respond(.problem(status: 500, code: "internal", detail: "streaming route")) },
                            segments: pattern.split(separator: "/", omittingEmptySubsequences: false), streamHandler: handler,
                            streamBodyLimit: bodyLimit))
    }

    /// A route that streams only the requests `streams` picks (up to `bodyLimit`, to `handler`); the others are
    /// buffered as an `add` route's are — up to the default body limit, with the server's budget for bodies in
    /// progress and the 408 of a stalled body — and go to `buffered`. Streaming a small body would leave what the
    /// handler gathers outside those bounds. Call only before the server starts.
    public func addStreaming(_ method: String, _ pattern: String, bodyLimit: Int,
                             streams: @escaping @Sendable (HTTPRequest) -> Bool,
                             _ handler: @escaping StreamingHandler, buffered: @escaping HTTPHandler) {
        routes.append(Route(method: method, pattern: pattern, bodyLimit: defaultBodyLimit, handler: buffered,
                            segments: pattern.split(separator: "/", omittingEmptySubsequences: false), streamHandler: handler,
                            streamBodyLimit: bodyLimit, streamsRequest: streams))
    }

    /// HEAD matches a GET route (RFC 9110 §9.3.2); the server drops the body.
    public func match(method: String, path: String) -> RouteMatch {
        var utf8 = path
        return utf8.withUTF8 { bytes in
            var allowed: [String] = []
            for route in routes where route.matches(bytes) {
                if route.method == method || (method == "HEAD" && route.method == "GET") {
                    guard route.hasParameters else { return .found(route, parameters: [:]) }
                    let parts = path.split(separator: "/", omittingEmptySubsequences: false)
                    return .found(route, parameters: Router.bind(route.segments, parts) ?? [:])
                }
                allowed.append(route.method)
            }
            if allowed.isEmpty { return .notFound }
            if allowed.contains("GET") && !allowed.contains("HEAD") { allowed.append("HEAD") }
            return .methodNotAllowed(allow: allowed)
        }
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
