// The values that cross the HTTP layer's boundary: requests, responses, headers, and the handler contract.

/// A header list that keeps order and the sender's spelling; lookups ignore ASCII case (RFC 9110 §5.1).
public struct HTTPHeaders: Sendable, Sequence {
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}
    public init(_ fields: [(String, String)]) { self.fields = fields.map { (name: $0.0, value: $0.1) } }

    public subscript(name: String) -> String? {
        for field in fields where Self.sameName(field.name, name) { return field.value }
        return nil
    }

    public func values(_ name: String) -> [String] {
        fields.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    /// Field names are tokens (RFC 9110 §5.1): ASCII, compared ignoring ASCII case, byte by byte — no lowercased
    /// copies (every request looks up a few fields).
    @inline(__always)
    static func sameName(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                guard x.count == y.count else { return false }
                for i in 0..<x.count where x[i] != y[i] {
                    let p = x[i] | 0x20, q = y[i] | 0x20
                    if p != q || p < UInt8(ascii: "a") || p > UInt8(ascii: "z") { return false }
                }
                return true
            }
        }
    }

    public mutating func add(_ name: String, _ value: String) { fields.append((name: name, value: value)) }

    /// Reserves room for `count` fields (the server knows how many it parsed).
    public mutating func reserve(_ count: Int) { fields.reserveCapacity(count) }

    /// Replaces every field of that name with one.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        fields.append((name: name, value: value))
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { Self.sameName($0.name, name) }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }
}

/// A parsed request, body complete. `path` is the raw path before `?`; `query` the raw text after it.
public struct HTTPRequest: Sendable {
    public var method: String            // as sent: "GET", "POST", …
    public var target: String            // the request-target as sent
    public var path: String              // target up to "?" (not percent-decoded)
    public var query: String             // target after "?", "" when none
    public var versionMinor: Int         // 1 for HTTP/1.1, 0 for HTTP/1.0
    public var headers: HTTPHeaders
    public var body: [UInt8]
    public var pathParameters: [String: String] = [:]  // filled by the router from `{name}` segments
    public var remoteAddress: String = ""              // client IP, no port; for throttling and logs

    public init(method: String, target: String, versionMinor: Int = 1, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.method = method
        self.target = target
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            query = String(target[target.index(after: q)...])
        } else {
            path = target
            query = ""
        }
        self.versionMinor = versionMinor
        self.headers = headers
        self.body = body
    }

    /// For the server: `path` and `query` already split at the first `?` (no String scan per request).
    init(method: String, target: String, path: String, query: String, versionMinor: Int, headers: HTTPHeaders) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.versionMinor = versionMinor
        self.headers = headers
        self.body = []
    }

    /// Query parameters, percent- and `+`-decoded (application/x-www-form-urlencoded rules), in order.
    public var queryItems: [(String, String)] { FormDecoding.decode(query) }

    public func queryValue(_ name: String) -> String? { queryItems.first { $0.0 == name }?.1 }
}

/// A response body produced piece by piece (issue 15: a download read chunk by chunk from the store), so a large
/// answer is never held whole. The server asks for the next piece only once the previous one was sent.
public protocol ResponseBodySource: AnyObject, Sendable {
    /// The body's exact length in bytes (the `Content-Length`).
    var length: Int { get }
    /// Produces the next piece (non-empty, in order), answering on any thread; nil when it cannot (the store
    /// failed): the connection is then closed mid-body, which the client sees as a short body.
    func next(_ completion: @escaping @Sendable ([UInt8]?) -> Void)
}

/// A complete response. The server adds `Content-Length`, `Date` and `Connection` itself.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    public var bodySource: ResponseBodySource? = nil   // set: the body comes from here, `body` is ignored

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: Int, contentType: String, body: String) {
        self.init(status: status, headers: HTTPHeaders([("Content-Type", contentType)]), body: Array(body.utf8))
    }
}

/// Answers one request exactly once, from any thread. The first `respond` wins; later calls are ignored.
///
/// A handler that cannot answer at once *parks* the request: it keeps the responder, calls `park` with a deadline,
/// and answers later from whatever thread has the answer. A parked request costs its connection and one timer entry,
/// never a thread.
public protocol Responder: AnyObject, Sendable {
    /// Sends the response (thread-safe; only the first call has an effect).
    func respond(_ response: HTTPResponse)

    /// Parks the request: if nothing has answered within `timeout` seconds, or the server is shutting down,
    /// `onDeadline` is called on the connection's loop and its response is sent. If the client hangs up first,
    /// `onCancel` is called instead (once), and nothing is sent. Call at most once, before or after handing the
    /// responder to another thread.
    func park(timeout: Double, onDeadline: @escaping @Sendable () -> HTTPResponse, onCancel: @escaping @Sendable () -> Void)

    /// Answers with a stream instead (`ResponseStream`): `head`'s status and headers (its body is ignored), then
    /// the chunks sent through the stream, for as long as the client reads them, without holding a thread. The
    /// connection closes when the stream ends. `onClose` is called once, on the connection's loop, however it
    /// ends: the client left, it was too slow (more than `maxQueuedBytes` waiting to be sent), `finish`, or
    /// shutdown. Instead of `respond`, at most once.
    func stream(_ head: HTTPResponse, maxQueuedBytes: Int, onClose: @escaping @Sendable () -> Void) -> ResponseStream
}

/// A route handler: called on the connection's event loop thread. It must not block for long; it answers through
/// the responder, now or later.
public typealias HTTPHandler = @Sendable (HTTPRequest, Responder) -> Void
