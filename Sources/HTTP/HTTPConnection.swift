// The server side of one HTTP/1.1 connection: parse, route, dispatch, in order (RFC 9112 §9.3 persistence).
import Transport

/// Reads requests off a `Connection`, runs handlers, and writes answers strictly in request order. Loop thread only.
final class HTTPConnection: ConnectionDelegate, @unchecked Sendable {
    enum ReadState {
        case head                          // waiting for (more of) a request head
        case body(remaining: Int)          // Content-Length body
        case chunked                       // chunked body (RFC 9112 §7.1)
        case stream(remaining: Int?)       // a streaming route's body: Content-Length left, or nil for chunked
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
    var bodyStream: BodyStream?            // the streaming body being delivered (state `.stream`)
    var answerSource: ResponseBodySource?  // an answer body being sent piece by piece (later answers wait)
    var answerRemaining = 0                // its bytes not yet handed to the connection
    var answerPulling = false              // a piece has been asked for and not yet arrived
    @exclusivity(unchecked) var exchanges: [Exchange] = []         // unanswered or unwritten requests, oldest first
    var closeAfterWrites = false           // no more requests: close once `exchanges` are written
    var headStarted = false                // bytes of a head have arrived (head timeout runs)
    var requestsSeen = 0
    var slot = -1                          // index in ServerLoop.connections; -1 when not counted
    var inProcess = false                  // inside `process`: completions defer their flush
    var deadline: UInt64 = 0               // when this connection times out (0: never, e.g. a handler is busy)
    var armedDeadline: UInt64 = 0          // the deadline of our one timer entry (lazy re-arming)
    var timer: LoopTimer?                  // that entry; cancelled on close so closed connections leave none

    var accounted = 0                      // output capacity counted in the server's `queuedOutput`
    var lingered = 0                       // bytes discarded while lingering (bounded)
    var heldAccounted = 0                  // answer bodies waiting to be sent, counted in the server's `heldAnswers`
    var bodyAccounted = 0                  // request body capacity counted in the server's `bufferedBodies`

    static let maxPipelined = 16           // parsed but unanswered requests before reading pauses
    /// Output queued before reading and serializing pause (issue 13 item 1). 256 KiB: a few socket send buffers'
    /// worth, so a client that reads keeps the pipe full, while one that never reads holds at most this plus one
    /// answer's head (large bodies are sent from their own storage, not copied).
    static let maxBufferedOutput = 256 * 1024
    static let maxLingerBytes = 1 << 20    // discarded after an early answer before the connection is cut

    init(conn: Connection, context: ServerLoop, remoteAddress: String) {
        self.conn = conn
        self.context = context
        self.remoteAddress = remoteAddress
        self.parser = RequestParser(maxHeadBytes: context.configuration.maxHeadBytes)
    }

    // MARK: ConnectionDelegate

    func connectionReadable(_ connection: Connection) {
        if case .lingering = state {
            // Lingering close, as nginx's: discard for a bounded time (`linger`) and size, then cut.
            lingered += conn.input.readableBytes
            conn.input.free()
            if lingered > HTTPConnection.maxLingerBytes { close() }
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
        // A hang-up cancels parked requests at once (Responder.park contract). But EOF alone may be a half-close
        // (`shutdown(SHUT_WR)`, `nc -N`, some proxies): the client still reads, so requests it sent are answered
        // and the connection closes once they are written (issue 13 item 5; RFC 9112 §9.6).
        if conn.peerGone || context.stopping || exchanges.contains(where: { $0.parked || $0.isStream }) {
            close()   // cancels parked exchanges
            return
        }
        if case .lingering = state { close(); return }
        if case .stream = state, bodyStream != nil, conn.input.isEmpty {
            // The body can never complete (what was buffered of it has been delivered).
            close()
            return
        }
        finishRound()   // answers what is buffered; closes when nothing more is owed
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
            if exchanges.count >= HTTPConnection.maxPipelined || conn.hasTail
                || conn.output.readableBytes > HTTPConnection.maxBufferedOutput {
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
                accountBody()
                if n == remaining { dispatch() } else {
                    state = .body(remaining: remaining - n)
                    setDeadline(context.headDeadline)   // body progress timeout: moved by each read that brings bytes
                    return
                }
            case .chunked:
                if bytes.count == 0 { return }
                switch chunkedDecoder.decode(bytes, limit: bodyLimit, into: &request!.body) {
                case .incomplete(let consumed):
                    conn.input.consume(consumed)
                    accountBody()
                    setDeadline(context.headDeadline)   // body progress timeout
                    return
                case .error(let status): reject(status: status); return
                case .complete(let consumed): conn.input.consume(consumed); dispatch()
                }
            case .stream(let remaining):
                guard let stream = bodyStream, !stream.paused else {
                    conn.setReading(false)        // the consumer is behind: TCP holds the client back
                    setDeadline(0)                // no body timeout while we are the slow side
                    return
                }
                if bytes.count == 0 { return }
                if let remaining {
                    let n = Swift.min(bytes.count, remaining)
                    let piece = Array(UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
                    conn.input.consume(n)
                    if n == remaining { endStream(stream, piece) } else {
                        state = .stream(remaining: remaining - n)
                        setDeadline(context.headDeadline)
                        stream.deliver(.data(piece))
                    }
                } else {
                    var piece: [UInt8] = []
                    switch chunkedDecoder.decode(bytes, limit: bodyLimit, into: &piece) {
                    case .incomplete(let consumed):
                        conn.input.consume(consumed)
                        setDeadline(context.headDeadline)
                        if !piece.isEmpty { stream.deliver(.data(piece)) }
                    case .error(let status):
                        // The streaming request's own exchange answers (the handler is told the body failed).
                        bodyStream = nil
                        stream.detached = true
                        stream.paused = true
                        closeAfterWrites = true
                        conn.setReading(false)
                        let exchange = exchanges.last
                        exchange?.keepAlive = false
                        stream.deliver(.failed)
                        exchange?.respond(.problem(status: status, code: status == 413 ? "payload_too_large" : "bad_request",
                                                   detail: status == 413 ? "request body over \(bodyLimit) bytes" : "malformed chunked body"))
                        return
                    case .complete(let consumed):
                        conn.input.consume(consumed)
                        endStream(stream, piece)
                    }
                }
            case .lingering:
                return
            }
        }
    }

    /// The streamed body is complete: back to reading heads, then the last piece and `end` to the consumer.
    func endStream(_ stream: BodyStream, _ last: [UInt8]) {
        state = .head
        bodyStream = nil
        stream.detached = true
        if !requestKeepAlive || context.stopping { closeAfterWrites = true }
        setDeadline(0)                          // the handler's answer has its own clock
        if !last.isEmpty { stream.deliver(.data(last)) }
        stream.deliver(.end)
    }

    /// `BodyStream.start`/`resume`: read again (and deliver what is already buffered).
    func streamResumed(_ stream: BodyStream) {
        guard bodyStream === stream, !conn.isClosed else { return }
        setDeadline(context.headDeadline)
        if inProcess { return }                 // called from a sink or handler: the running `process` goes on
        process()
        finishRound()
    }

    /// `BodyStream.cancel`, or an answer before the body's end: the rest is never read; close after the answer.
    func streamCancelled(_ stream: BodyStream) {
        guard bodyStream === stream, !conn.isClosed else { return }
        bodyStream = nil
        stream.detached = true
        closeAfterWrites = true
        exchanges.last?.keepAlive = false       // its answer says `Connection: close`
        conn.setReading(false)
        setDeadline(0)
        if !inProcess { finishRound() }
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
        var streaming: StreamingHandler? = nil
        if req.target == "*" {
            // RFC 9112 §3.2.4: the asterisk form is for OPTIONS only, about the server as a whole (RFC 9110 §9.3.7).
            early = req.method == "OPTIONS"
                ? HTTPResponse(status: 204, headers: HTTPHeaders([("Allow", context.router.allowedMethods)]))
                : .problem(status: 400, code: "bad_request", detail: "the asterisk form is for OPTIONS only")
        } else {
            switch context.router.match(method: req.method, path: req.path) {
            case .found(let r, let p):
                route = r
                parameters = p
                streaming = r.streaming(req)
                bodyLimit = streaming == nil ? r.bodyLimit : r.streamBodyLimit
            case .notFound:
                early = Router.notFoundResponse(path: req.path)
            case .methodNotAllowed(let allow):
                early = Router.methodNotAllowedResponse(method: req.method, allow: allow)
            }
        }
        if head.expectUnknown {
            early = .problem(status: 417, code: "expectation_failed", detail: "only 100-continue is supported")
        } else if early == nil, hasBody, let check = context.router.headCheck, let answer = check(route!, req) {
            // Before reading a body: a request its route will refuse anyway (e.g. 401, no credentials) does not get
            // to make us buffer one (issue 13 item 2). First, so a route can word its own 413 (a file's limit).
            early = answer
        } else if let length = head.contentLength, length > bodyLimit {
            early = .problem(status: 413, code: "payload_too_large", detail: "request body over \(bodyLimit) bytes")
        } else if early == nil, hasBody,
                  context.server.bufferedBodies.load(ordering: .relaxed) > context.configuration.maxBufferedBodies {
            early = .problem(status: 503, code: "unavailable", detail: "too many request bodies in progress, try again",
                             headers: HTTPHeaders([("Retry-After", "1")]))
        }
        if let early {
            // Answer without reading the body; a body we did not read makes the connection unusable, so close.
            if hasBody { closeAfterWrites = true }
            answerNow(early, keepAlive: head.keepAlive && !hasBody)
            return
        }
        if let streaming {
            dispatchStreaming(streaming, head: head, hasBody: hasBody)
            return
        }
        if !hasBody { dispatch(); return }
        // RFC 9110 §10.1.1: send 100 Continue only when we want the body (route found, within limits), only to
        // HTTP/1.1, and only when no earlier answer is still owed (interim responses must not overtake them).
        if head.expectContinue && head.versionMinor == 1 && conn.input.isEmpty && exchanges.isEmpty && !conn.hasTail {
            conn.output.append("HTTP/1.1 100 Continue\r\n\r\n" as StaticString)
        }
        if head.chunked {
            chunkedDecoder = ChunkedDecoder()
            state = .chunked
        } else {
            state = .body(remaining: head.contentLength!)
            // Exactly what is declared (within the route's limit), counted in the budget from now: heads that all
            // arrive before their bodies must not all be admitted.
            request!.body.reserveCapacity(head.contentLength!)
            accountBody()
        }
        setDeadline(context.headDeadline)   // a body gets the head timeout between reads that bring bytes
    }

    /// A streaming route: the handler runs now, with the body to come through a `BodyStream` (100-continue is
    /// sent as for a buffered body, once the head passed every check).
    func dispatchStreaming(_ handler: StreamingHandler, head: RequestHead, hasBody: Bool) {
        var req = request!
        request = nil
        req.pathParameters = parameters
        // Without keep-alive the connection closes after this answer, but only once the body is read (endStream).
        if !hasBody && (!requestKeepAlive || context.stopping) { closeAfterWrites = true }
        let stream = BodyStream(connection: self, hasBody: hasBody)
        if hasBody {
            if head.expectContinue && head.versionMinor == 1 && conn.input.isEmpty && exchanges.isEmpty && !conn.hasTail {
                conn.output.append("HTTP/1.1 100 Continue\r\n\r\n" as StaticString)
            }
            if head.chunked { chunkedDecoder = ChunkedDecoder() }
            state = .stream(remaining: head.chunked ? nil : head.contentLength!)
            bodyStream = stream
            setDeadline(0)                        // until `start`: reading waits for the handler
        } else {
            stream.detached = true
        }
        let exchange = Exchange(connection: self, method: req.method, path: req.path, route: route?.pattern,
                                isHead: req.method == "HEAD", keepAlive: requestKeepAlive,
                                versionMinor: req.versionMinor, started: started)
        exchanges.append(exchange)
        handler(req, stream, exchange)
    }

    /// Keeps the server-wide count of request body bytes being received up to date (0 once the request is gone).
    func accountBody() {
        let now = request?.body.capacity ?? 0
        if now != bodyAccounted {
            context.server.bufferedBodies.add(now - bodyAccounted, ordering: .relaxed)
            bodyAccounted = now
        }
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
