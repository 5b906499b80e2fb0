// Answers of HTTPConnection: dispatch to handlers, completion in request order, serialization, closing.
import Transport

extension HTTPConnection {
    /// The body is complete: hand the request to its route's handler.
    func dispatch() {
        var req = request!
        request = nil
        accountBody()                        // the handler owns the body now
        state = .head
        req.pathParameters = parameters
        if !requestKeepAlive || context.stopping { closeAfterWrites = true }
        let exchange = Exchange(connection: self, method: req.method, path: req.path, route: route?.pattern,
                                isHead: req.method == "HEAD", keepAlive: requestKeepAlive,
                                versionMinor: req.versionMinor, started: started)
        exchanges.append(exchange)
        setDeadline(0)                       // a busy handler or a parked request has its own clock
        route!.handler(req, exchange)
    }

    /// Answers the request just parsed without running a handler (404, 405, 413, 417).
    func answerNow(_ response: HTTPResponse, keepAlive: Bool) {
        let req = request!
        request = nil
        state = .head
        if !keepAlive || context.stopping { closeAfterWrites = true }
        let exchange = Exchange(connection: self, method: req.method, path: req.path, route: nil,
                                isHead: req.method == "HEAD", keepAlive: keepAlive, versionMinor: req.versionMinor,
                                started: started)
        exchanges.append(exchange)
        exchange.respond(response)
    }

    /// A malformed or oversized request: answer `status` as problem+json after the earlier answers, then close.
    func reject(status: Int) {
        let code: String
        switch status {
        case 413: code = "payload_too_large"
        case 431: code = "request_header_fields_too_large"
        case 501: code = "not_implemented"
        case 505: code = "http_version_not_supported"
        default: code = "bad_request"
        }
        let exchange = Exchange(connection: self, method: request?.method ?? "", path: request?.path ?? "", route: nil,
                                isHead: false, keepAlive: false, versionMinor: 1, started: context.loop.now)
        request = nil
        accountBody()
        state = .head
        closeAfterWrites = true
        exchanges.append(exchange)
        exchange.respond(.problem(status: status, code: code, detail: "the request could not be read (\(status))"))
    }

    /// Called on the loop once an exchange is answered (by its handler, its deadline or shutdown).
    func complete(_ exchange: Exchange, _ response: HTTPResponse) {
        exchange.unpark()
        guard !conn.isClosed else { return }
        exchange.response = response
        writeAnswered()
        if !inProcess { finishRound() }
    }

    /// Serializes every answered exchange at the front of the queue: answers leave strictly in request order.
    /// Back-pressure before an answer is queued (issue 13 item 1): while a large body is still being sent, or the
    /// output buffer holds more than `maxBufferedOutput`, later answers wait in `exchanges` (their bodies are the
    /// handlers' arrays, often a shared cached page) and are serialized as the socket drains (`finishRound`).
    func writeAnswered() {
        var written = 0
        while written < exchanges.count, let response = exchanges[written].response,
              !conn.hasTail, conn.output.readableBytes <= HTTPConnection.maxBufferedOutput {
            let exchange = exchanges[written]
            let close = !exchange.keepAlive || (context.stopping && written == exchanges.count - 1)
            let tail = ResponseWriter.sendsBodyAsTail(response, isHead: exchange.isHead)
            ResponseWriter.write(response, to: &conn.output, isHead: exchange.isHead, close: close,
                                 versionMinor: exchange.versionMinor, date: context.date, includeBody: !tail)
            if tail { conn.sendTail(response.body) }
            if let onRequest = context.server.onRequest {
                let seconds = Double(monotonicNanos() &- exchange.started) / 1e9
                onRequest(RequestRecord(method: exchange.method, path: exchange.path, route: exchange.route,
                                        status: response.status, duration: seconds))
            }
            written += 1
            if close {
                closeAfterWrites = true
                for later in exchanges[written...] where later.parked { later.cancel() }
                written = exchanges.count
            }
        }
        if written > 0 { exchanges.removeFirst(written) }
    }

    /// After reading or answering: write now, then close, linger, resume reading or re-arm timers as the state says.
    func finishRound() {
        guard !conn.isClosed else { return }
        while true {
            if conn.hasPendingOutput {
                switch conn.flush() {
                case .failed: close(); return
                case .pending: outputPending(); return
                case .done: break
                }
            }
            // Answers held back while the output was full go out now, in order.
            guard let first = exchanges.first, first.response != nil else { break }
            writeAnswered()
        }
        account()
        if closeAfterWrites {
            if exchanges.isEmpty { linger() }
            return
        }
        if conn.peerClosed {
            // Half-closed client: answer the complete requests it left in the input, then close. A partial request
            // left over can never complete.
            if exchanges.count < HTTPConnection.maxPipelined, !conn.input.isEmpty, case .head = state {
                let before = conn.input.readableBytes
                process()
                if conn.input.readableBytes != before { finishRound(); return }
            }
            if exchanges.isEmpty { close() }
            return
        }
        if conn.input.isEmpty { conn.input.free() }
        if !conn.reading && exchanges.count < HTTPConnection.maxPipelined {
            conn.setReading(true)
            if !conn.input.isEmpty { process(); finishRound(); return }   // pipelined requests already buffered
        }
        if exchanges.isEmpty, case .head = state {
            if context.stopping && !headStarted { close(); return }
            if !headStarted { setDeadline(context.idleDeadline) }
        }
    }

    /// The socket is full and output waits: the idle clock runs (moved by write progress, `timerFired`), and past
    /// the server-wide budget a connection holding a full buffer it cannot send is closed (issue 13 item 1).
    func outputPending() {
        setDeadline(context.idleDeadline)
        account()
        let server = context.server
        if (accounted >= HTTPConnection.maxBufferedOutput
                && server.queuedOutput.load(ordering: .relaxed) > context.configuration.maxQueuedOutput)
            || (heldAccounted >= 1 << 20
                && server.heldAnswers.load(ordering: .relaxed) > context.configuration.maxHeldAnswerBytes) {
            server.budgetCloses.add(1, ordering: .relaxed)
            close()
        }
    }

    /// Keeps the server-wide counts up to date: output buffer bytes (allocated capacity: what RSS pays), and the
    /// bodies of answers waiting to be sent (a large body being sent from its array, answers held behind it).
    func account() {
        let now = conn.isClosed ? 0 : conn.output.capacity
        if now != accounted {
            context.server.queuedOutput.add(now - accounted, ordering: .relaxed)
            accounted = now
        }
        var held = conn.isClosed ? 0 : conn.tailRemaining
        if !conn.isClosed { for exchange in exchanges { held += exchange.response?.body.count ?? 0 } }
        if held != heldAccounted {
            context.server.heldAnswers.add(held - heldAccounted, ordering: .relaxed)
            heldAccounted = held
        }
    }

    /// RFC 9112 §9.6: half-close, then read and discard until the client closes (or 2 s), so a client still
    /// sending does not get a reset that destroys the answer it has not read yet.
    func linger() {
        if conn.peerClosed || context.stopping { close(); return }
        if case .lingering = state { return }
        state = .lingering
        conn.shutdownWrite()
        conn.input.free()
        conn.setReading(true)
        setDeadline(context.loop.now &+ Swift.min(2_000_000_000, context.headTimeout))
    }

    /// Closes the socket; unanswered requests are dropped (their late answers are ignored).
    func close() {
        guard !conn.isClosed else { return }
        let pending = exchanges
        exchanges.removeAll()
        for exchange in pending where exchange.parked { exchange.cancel() }
        request = nil
        accountBody()
        timer?.cancel()
        timer = nil
        context.connectionClosed(self)   // counted out before the peer can see the close (the gauge is never stale)
        conn.close()
        account()
    }
}
