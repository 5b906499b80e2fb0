// The server side of one HTTP/1.1 connection: parse, route, dispatch, in order (RFC 9112 §9.3 persistence).
import Transport

/// Reads requests off a `Connection`, runs handlers, and writes answers strictly in request order. Loop thread only.
final class HTTPConnection: ConnectionDelegate, @unchecked Sendable {
    enum ReadState {
        case head                          // waiting for (more of) a request head
        case body(remaining: Int)          // Content-Length body
        case chunked                       // chunked body (RFC 9112 §7.1)
        case lingering                     // answered and half-closed: discard input until EOF (RFC 9112 §9.6)
    }

    let conn: Connection
    unowned(unsafe) let context: ServerLoop  // owns us through `connections`; unsafe: no refcount per access
    let remoteAddress: String
    // Loop-thread-only state, touched several times per request: `@exclusivity(unchecked)` skips the runtime
    // access bookkeeping (swift_beginAccess) that showed in profiles; one thread, so no overlap is possible.
    @exclusivity(unchecked) var parser: RequestParser
    var state = ReadState.head
    @exclusivity(unchecked) var request: HTTPRequest?              // head parsed, body being read
    var route: Route?                      // its route (nil: answered by the server itself)
    var parameters: [String: String] = [:]
    var bodyLimit = 0
    var requestKeepAlive = true            // the current request allows persistence
    var started: UInt64 = 0                // when the current head completed
    var chunkedDecoder = ChunkedDecoder()
    @exclusivity(unchecked) var exchanges: [Exchange] = []         // unanswered or unwritten requests, oldest first
    var closeAfterWrites = false           // no more requests: close once `exchanges` are written
    var headStarted = false                // bytes of a head have arrived (head timeout runs)
    var requestsSeen = 0
    var slot = -1                          // index in ServerLoop.connections; -1 when not counted
    var inProcess = false                  // inside `process`: completions defer their flush
    var deadline: UInt64 = 0               // when this connection times out (0: never, e.g. a handler is busy)
    var armedDeadline: UInt64 = 0          // the deadline of our one timer entry (lazy re-arming)
    var timer: LoopTimer?                  // that entry; cancelled on close so closed connections leave none

    static let maxPipelined = 16           // parsed but unanswered requests before reading pauses
    static let maxBufferedOutput = 1 << 20 // queued output before reading pauses

    init(conn: Connection, context: ServerLoop, remoteAddress: String) {
        self.conn = conn
        self.context = context
        self.remoteAddress = remoteAddress
        self.parser = RequestParser(maxHeadBytes: context.configuration.maxHeadBytes)
    }

    // MARK: ConnectionDelegate

    func connectionReadable(_ connection: Connection) {
        if case .lingering = state {
            conn.input.free()
            return
        }
        if closeAfterWrites {
            conn.setReading(false)            // no more requests on this connection: do not buffer what follows
            return
        }
        process()
        finishRound()
    }

    func connectionPeerClosed(_ connection: Connection) {
        // A hang-up cancels parked requests at once (Responder.park contract); nothing more can be answered.
        close()   // cancels parked exchanges
    }

    func connectionDrained(_ connection: Connection) {
        finishRound()
    }

    // MARK: reading

    /// Parses and dispatches every complete request in the input, stopping for back-pressure.
    func process() {
        inProcess = true
        defer { inProcess = false }
        while !closeAfterWrites && !conn.isClosed {
            if exchanges.count >= HTTPConnection.maxPipelined || conn.output.readableBytes > HTTPConnection.maxBufferedOutput {
                conn.setReading(false)        // resumes in finishRound once answers drain
                return
            }
            let bytes = conn.input.readable
            switch state {
            case .head:
                if bytes.count == 0 { return }
                switch parser.parse(bytes) {
                case .incomplete:
                    // The head timeout runs from the read that brought its first bytes (a whole head in one read,
                    // the usual case, never touches the timer).
                    if !headStarted {
                        headStarted = true
                        setDeadline(context.headDeadline)
                    }
                    return
                case .error(let status): reject(status: status); return
                case .complete(let consumed): beginRequest(bytes, consumed: consumed)
                }
            case .body(let remaining):
                if bytes.count == 0 { return }
                let n = Swift.min(bytes.count, remaining)
                request!.body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
                conn.input.consume(n)
                if n == remaining { dispatch() } else { state = .body(remaining: remaining - n); return }
            case .chunked:
                if bytes.count == 0 { return }
                switch chunkedDecoder.decode(bytes, limit: bodyLimit, into: &request!.body) {
                case .incomplete(let consumed): conn.input.consume(consumed); return
                case .error(let status): reject(status: status); return
                case .complete(let consumed): conn.input.consume(consumed); dispatch()
                }
            case .lingering:
                return
            }
        }
    }

    /// A head is complete: build the request, choose the route and its body limit, then read the body or dispatch.
    func beginRequest(_ bytes: UnsafeRawBufferPointer, consumed: Int) {
        let head = parser.head
        let req = makeRequest(head, bytes)
        conn.input.consume(consumed)
        parser.reset()
        headStarted = false
        requestsSeen += 1
        started = context.loop.now
        request = req
        route = nil
        parameters = [:]
        bodyLimit = context.router.defaultBodyLimit
        requestKeepAlive = head.keepAlive
        let hasBody = head.chunked || (head.contentLength ?? 0) > 0
        var early: HTTPResponse? = nil
        switch context.router.match(method: req.method, path: req.path) {
        case .found(let r, let p):
            route = r
            parameters = p
            bodyLimit = r.bodyLimit
        case .notFound:
            early = Router.notFoundResponse(path: req.path)
        case .methodNotAllowed(let allow):
            early = Router.methodNotAllowedResponse(method: req.method, allow: allow)
        }
        if head.expectUnknown {
            early = .problem(status: 417, code: "expectation_failed", detail: "only 100-continue is supported")
        } else if let length = head.contentLength, length > bodyLimit {
            early = .problem(status: 413, code: "payload_too_large", detail: "request body over \(bodyLimit) bytes")
        }
        if let early {
            // Answer without reading the body; a body we did not read makes the connection unusable, so close.
            if hasBody { closeAfterWrites = true }
            answerNow(early, keepAlive: head.keepAlive && !hasBody)
            return
        }
        if !hasBody { dispatch(); return }
        // RFC 9110 §10.1.1: send 100 Continue only when we want the body (route found, within limits), only to
        // HTTP/1.1, and only when no earlier answer is still owed (interim responses must not overtake them).
        if head.expectContinue && head.versionMinor == 1 && conn.input.isEmpty && exchanges.isEmpty {
            conn.output.append("HTTP/1.1 100 Continue\r\n\r\n" as StaticString)
        }
        if head.chunked {
            chunkedDecoder = ChunkedDecoder()
            state = .chunked
        } else {
            state = .body(remaining: head.contentLength!)
        }
        setDeadline(context.idleDeadline)
    }

    /// The request value handed to handlers: strings are made once here, from the parser's offsets.
    func makeRequest(_ head: RequestHead, _ bytes: UnsafeRawBufferPointer) -> HTTPRequest {
        let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        func text(_ s: Int, _ e: Int) -> String { String(decoding: UnsafeBufferPointer(start: base + s, count: e - s), as: UTF8.self) }
        var headers = HTTPHeaders()
        headers.reserve(head.fields.count)
        for f in head.fields {
            headers.add(text(Int(f.nameStart), Int(f.nameEnd)), text(Int(f.valueStart), Int(f.valueEnd)))
        }
        var question = head.targetStart
        while question < head.targetEnd && base[question] != 63 { question += 1 }   // "?"
        let target = text(head.targetStart, head.targetEnd)
        // RFC 9112 §3.2.2: a server MUST accept the absolute-form ("GET http://host/health"); route on its path.
        var pathStart = head.targetStart
        if base[pathStart] != 47, let authority = Self.absoluteFormAuthorityStart(base + pathStart, question - pathStart) {
            pathStart += authority
            while pathStart < question && base[pathStart] != 47 { pathStart += 1 }
        }
        let path: String
        if pathStart == head.targetStart {
            path = question == head.targetEnd ? target : text(head.targetStart, question)
        } else {
            path = pathStart == question ? "/" : text(pathStart, question)
        }
        let query = question == head.targetEnd ? "" : text(question + 1, head.targetEnd)
        var req = HTTPRequest(method: text(head.methodStart, head.methodEnd), target: target, path: path, query: query,
                              versionMinor: head.versionMinor, headers: headers)
        req.remoteAddress = remoteAddress
        return req
    }

    /// The offset just past "http://" or "https://" (any case) when `bytes` starts with one, else nil.
    static func absoluteFormAuthorityStart(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int? {
        for scheme in ["http://", "https://"] {
            let s = Array(scheme.utf8)
            guard count >= s.count else { continue }
            if (0..<s.count).allSatisfy({ bytes[$0] | 0x20 == s[$0] | 0x20 }) { return s.count }
        }
        return nil
    }
}
