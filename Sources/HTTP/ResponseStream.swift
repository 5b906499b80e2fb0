// A streamed answer (chunked, RFC 9112 §7.1): a head now, then chunks handed over from any thread, no thread held.
import Synchronization
import Transport

/// The sending end of a streamed answer (`Responder.stream`). Chunks are queued on the connection's output from
/// any thread and written by its loop; a stream holds a connection and its output buffer, never a thread.
///
/// Slow consumers: a chunk that would take the bytes queued for the client past the stream's `maxQueuedBytes`
/// (when more than a quarter of it is queued already) closes the connection instead (the client reconnects with its cursor: nothing is lost, nothing grows without
/// bound). A client that reads nothing for the server's idle timeout is closed too.
public final class ResponseStream: Sendable {
    let exchange: Exchange?
    let closed = Atomic<Bool>(false)

    init(exchange: Exchange?) {
        self.exchange = exchange
        if exchange == nil { closed.store(true, ordering: .relaxed) }
    }

    /// False once the stream ended: client gone, too slow, finished, or the server shutting down.
    public var isOpen: Bool { !closed.load(ordering: .acquiring) }

    /// Queues `bytes` as one chunk (an empty array sends nothing). Thread-safe; ignored once closed.
    public func send(_ bytes: [UInt8]) {
        guard let exchange, isOpen, !bytes.isEmpty else { return }
        exchange.onLoop { exchange.connection.streamSend(exchange, bytes) }
    }

    /// Ends the answer (the last chunk) and closes the connection once it is written. Thread-safe.
    public func finish() {
        guard let exchange, isOpen else { return }
        exchange.onLoop { exchange.connection.endStream(exchange) }
    }

    /// Calls `work` (on the connection's loop) once at most a quarter of the stream's bound waits for the client,
    /// checking every 10 ms; never if the stream ends first. Lets a producer with a backlog (a catch-up) go at the
    /// client's pace instead of outrunning it into the slow-consumer close.
    public func whenDrained(_ work: @escaping @Sendable () -> Void) {
        guard let exchange else { return }
        exchange.onLoop { [self] in drained(exchange, work) }
    }

    private func drained(_ exchange: Exchange, _ work: @escaping @Sendable () -> Void) {
        guard isOpen else { return }
        let connection = exchange.connection
        let queued = exchange.streamHeadWritten ? connection.conn.output.readableBytes : exchange.streamPendingBytes
        if queued <= exchange.streamMaxQueued / 4 { return work() }
        exchange.streamDrainTimer = exchange.loop.schedule(after: 0.01) { [self] in drained(exchange, work) }
    }

    /// Calls `tick` on the connection's loop every `seconds` while the stream is open (heartbeats).
    public func every(_ seconds: Double, _ tick: @escaping @Sendable () -> Void) {
        guard let exchange else { return }
        exchange.onLoop { [self] in schedule(exchange, seconds, tick) }
    }

    private func schedule(_ exchange: Exchange, _ seconds: Double, _ tick: @escaping @Sendable () -> Void) {
        guard isOpen else { return }
        exchange.streamTimer = exchange.loop.schedule(after: seconds) { [self] in
            guard isOpen else { return }
            tick()
            schedule(exchange, seconds, tick)
        }
    }
}

extension Responder {
    /// The default for responders that cannot stream: answers `head` as a whole (no body) and returns a closed
    /// stream.
    public func stream(_ head: HTTPResponse, maxQueuedBytes: Int, onClose: @escaping @Sendable () -> Void) -> ResponseStream {
        respond(head)
        onClose()
        return ResponseStream(exchange: nil)
    }
}

extension Exchange {
    func onLoop(_ work: @escaping @Sendable () -> Void) {
        if loop.inLoop { work() } else { loop.execute(work) }
    }

    /// Once, on the loop, whatever ended the stream: marks it closed, stops its timer, tells the handler.
    func streamEnded() {
        guard isStream, let stream else { return }
        guard stream.closed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        streamTimer?.cancel()
        streamTimer = nil
        streamDrainTimer?.cancel()
        streamDrainTimer = nil
        let callback = streamOnClose
        streamOnClose = nil
        streamPending = []
        connection.context.server.openStreams.subtract(1, ordering: .relaxed)
        callback?()
    }
}

extension HTTPConnection {
    /// On the loop: the exchange's answer becomes a stream; its head is written when the answers before it are.
    func startStream(_ exchange: Exchange, _ head: HTTPResponse, _ stream: ResponseStream, maxQueued: Int,
                     onClose: @escaping @Sendable () -> Void) {
        exchange.isStream = true
        exchange.stream = stream
        exchange.streamMaxQueued = maxQueued
        exchange.streamOnClose = onClose
        context.server.openStreams.add(1, ordering: .relaxed)
        exchange.unpark()
        guard !conn.isClosed, !context.stopping else {
            exchange.streamEnded()
            if !conn.isClosed { close() }
            return
        }
        var head = head
        head.body = []
        exchange.response = head
        writeAnswered()
        if !inProcess { finishRound() }
    }

    /// On the loop: one chunk, or the connection closed when the client is too slow for it.
    func streamSend(_ exchange: Exchange, _ bytes: [UInt8]) {
        guard exchange.isStream, exchange.stream?.isOpen == true, !conn.isClosed else { return }
        let queued = exchange.streamHeadWritten ? conn.output.readableBytes : exchange.streamPendingBytes
        // A chunk of any size may go out while little waits (a quarter of the bound, what `whenDrained` waits
        // for: a page can exceed the bound); past that, a chunk that takes what waits over the bound closes the
        // connection. Held for a client: at most the bound plus one chunk.
        guard queued <= exchange.streamMaxQueued / 4 || queued + bytes.count <= exchange.streamMaxQueued else {
            context.server.slowStreamCloses.add(1, ordering: .relaxed)
            close()
            return
        }
        guard exchange.streamHeadWritten else {
            exchange.streamPending.append(bytes)
            exchange.streamPendingBytes += bytes.count
            return
        }
        appendChunk(bytes, chunked: exchange.versionMinor >= 1)
        if !inProcess { finishRound() }
    }

    /// RFC 9112 §7.1: size in hex, CRLF, data, CRLF. HTTP/1.0 has no chunks: the bytes as they are, and the
    /// connection's close ends the body.
    func appendChunk(_ bytes: [UInt8], chunked: Bool) {
        guard chunked else { conn.output.append(bytes); return }
        conn.output.append(Array(String(bytes.count, radix: 16).utf8))
        conn.output.append("\r\n" as StaticString)
        conn.output.append(bytes)
        conn.output.append("\r\n" as StaticString)
    }

    /// Writes the stream's head (in request order) and what was sent before it.
    func writeStreamHead(_ exchange: Exchange, _ response: HTTPResponse) {
        let chunked = exchange.versionMinor >= 1
        ResponseWriter.writeStreamHead(response, to: &conn.output, chunked: chunked, date: context.date)
        exchange.streamHeadWritten = true
        for chunk in exchange.streamPending { appendChunk(chunk, chunked: chunked) }
        exchange.streamPending = []
        exchange.streamPendingBytes = 0
        if let onRequest = context.server.onRequest {
            let seconds = Double(monotonicNanos() &- exchange.started) / 1e9
            onRequest(RequestRecord(method: exchange.method, path: exchange.path, route: exchange.route,
                                    status: response.status, duration: seconds))
        }
    }

    /// On the loop: the last chunk, then close once written (a stream ends its connection).
    func endStream(_ exchange: Exchange) {
        guard exchange.isStream, exchange.stream?.isOpen == true, !conn.isClosed else { return }
        if !exchange.streamHeadWritten, let head = exchange.response, exchanges.first === exchange {
            writeStreamHead(exchange, head)
        }
        if exchange.streamHeadWritten && exchange.versionMinor >= 1 { conn.output.append("0\r\n\r\n" as StaticString) }
        exchanges.removeAll { $0 === exchange }
        exchange.streamEnded()
        closeAfterWrites = true
        if !inProcess { finishRound() }
    }
}

extension ResponseWriter {
    /// A streamed answer's head: no Content-Length; `Transfer-Encoding: chunked` (HTTP/1.1) or the close
    /// delimiting the body (HTTP/1.0); the connection is not reused after a stream.
    static func writeStreamHead(_ response: HTTPResponse, to out: inout ByteBuffer, chunked: Bool, date: DateCache) {
        out.reserve(200)
        appendStatusLine(response.status, to: &out)
        for field in response.headers.fields where !serverOwned(field.name) {
            out.append(field.name)
            out.append(": " as StaticString)
            out.append(field.value)
            out.append("\r\n" as StaticString)
        }
        if chunked { out.append("Transfer-Encoding: chunked\r\n" as StaticString) }
        out.append("X-Content-Type-Options: nosniff\r\nDate: " as StaticString)
        date.append(to: &out)
        out.append("\r\nConnection: close\r\n\r\n" as StaticString)
    }
}
