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
        if let stream = bodyStream, exchanges.last === exchange {
            // Answered before its streamed body ended: the rest is never read (BodyStream contract).
            bodyStream = nil
            stream.detached = true
            stream.paused = true
            closeAfterWrites = true
            exchange.keepAlive = false           // say so: `Connection: close`
            conn.setReading(false)
            setDeadline(0)
            stream.deliver(.failed)
        }
        writeAnswered()
        if !inProcess { finishRound() }
    }

    /// Serializes every answered exchange at the front of the queue: answers leave strictly in request order.
    /// Back-pressure before an answer is queued (issue 13 item 1): while a large body is still being sent, or the
    /// output buffer holds more than `maxBufferedOutput`, later answers wait in `exchanges` (their bodies are the
    /// handlers' arrays, often a shared cached page) and are serialized as the socket drains (`finishRound`).
    func writeAnswered() {
        var written = 0
        while written < exchanges.count, let response = exchanges[written].response, answerSource == nil,
              !conn.hasTail, conn.output.readableBytes <= HTTPConnection.maxBufferedOutput {
            let exchange = exchanges[written]
            if exchange.isStream {
                // A stream stays at the front (answers after it wait: the connection ends with it).
                if !exchange.streamHeadWritten { writeStreamHead(exchange, response) }
                break
            }
            let close = !exchange.keepAlive || (context.stopping && written == exchanges.count - 1)
            let tail = ResponseWriter.sendsBodyAsTail(response, isHead: exchange.isHead)
            ResponseWriter.write(response, to: &conn.output, isHead: exchange.isHead, close: close,
                                 versionMinor: exchange.versionMinor, date: context.date, includeBody: !tail)
            if tail { conn.sendTail(response.body) }
            if let source = response.bodySource, !exchange.isHead, source.length > 0,
               response.status >= 200 && response.status != 204 && response.status != 304 {
                answerSource = source                // pieces follow as the socket drains (pullAnswer)
                answerRemaining = source.length
            }
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
            if answerSource != nil {
                pullAnswer()                         // the next piece of a streamed answer
                if conn.hasTail { continue }         // it came at once: send it
                if answerSource != nil { account(); return }   // it comes later: finishRound runs again then
            }
            // Answers held back while the output was full go out now, in order.
            guard let first = exchanges.first, first.response != nil, !first.streamHeadWritten else { break }
            writeAnswered()
        }
        // A stream whose output drained has no clock (its client is idle by design); one that cannot drain got
        // the idle clock in `outputPending`.
        if exchanges.first?.streamHeadWritten == true { setDeadline(0) }
        account()
        if closeAfterWrites {
            if exchanges.isEmpty && answerSource == nil { linger() }
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
        if let stream = bodyStream, stream.paused { return }   // the consumer resumes reading (BodyStream.resume)
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

    /// Asks the streamed answer's source for its next piece (once at a time); queues it as the connection's tail
    /// when it arrives, on the loop. A source that fails (nil) or overshoots closes the connection: the client sees
    /// a body shorter than its Content-Length.
    func pullAnswer() {
        guard let source = answerSource, !answerPulling else { return }
        if answerRemaining <= 0 { answerSource = nil; return }
        answerPulling = true
        let loop = context.loop
        let call = PullCall()
        source.next { [self] piece in
            if loop.inLoop && call.inside {
                take(piece, from: source)            // answered within `next`: the caller sends it
            } else {
                let later: @Sendable () -> Void = { [self] in
                    take(piece, from: source)
                    if !conn.isClosed { finishRound() }
                }
                if loop.inLoop { later() } else { loop.execute(later) }
            }
        }
        call.inside = false
    }

    /// A piece of the streamed answer arrived (on the loop): queue it, or close on a failed or oversized one.
    func take(_ piece: [UInt8]?, from source: ResponseBodySource) {
        answerPulling = false
        guard !conn.isClosed, answerSource === source else { return }
        guard let piece, !piece.isEmpty, piece.count <= answerRemaining else { close(); return }
        answerRemaining -= piece.count
        if answerRemaining == 0 { answerSource = nil }
        conn.sendTail(piece)
    }

    /// Closes the socket; unanswered requests are dropped (their late answers are ignored).
    func close() {
        guard !conn.isClosed else { return }
        let pending = exchanges
        exchanges.removeAll()
        for exchange in pending where exchange.parked { exchange.cancel() }
        for exchange in pending where exchange.isStream { exchange.streamEnded() }
        request = nil
        accountBody()
        answerSource = nil
        if let stream = bodyStream {
            bodyStream = nil
            stream.detached = true
            stream.deliver(.failed)
        }
        timer?.cancel()
        timer = nil
        releaseAccounts()                // with the connection count, so no gauge lags it (tests read them in order)
        context.connectionClosed(self)   // counted out before the peer can see the close (the gauge is never stale)
        conn.close()
    }

    /// Counts this connection's output buffer and held answers out of the server-wide budgets.
    private func releaseAccounts() {
        context.server.queuedOutput.subtract(accounted, ordering: .relaxed)
        context.server.heldAnswers.subtract(heldAccounted, ordering: .relaxed)
        accounted = 0
        heldAccounted = 0
    }
}

/// Whether a source's completion runs inside its `next` call (loop thread only).
final class PullCall: @unchecked Sendable {
    var inside = true
}
