// Request bodies delivered in pieces (issue 15): for routes whose bodies are too large to buffer whole.
import Synchronization
import Transport

/// One piece of a streamed request body, in order: any number of `data`, then `end` — or `failed` when the body
/// cannot complete (the client hung up or went silent, malformed chunked framing, over the route's limit).
public enum BodyPiece: Sendable {
    case data([UInt8])
    case end
    case failed
}

/// A streaming route's handler: called as soon as the head is in, before any of the body is read. It calls
/// `stream.start` (from any thread, e.g. after checking credentials) to have the body delivered, or answers
/// without starting it (then the body is never read and the connection closes after the answer).
public typealias StreamingHandler = @Sendable (HTTPRequest, BodyStream, Responder) -> Void

/// The body of one request, read only as fast as its consumer takes it. Memory: at most one read's worth (the
/// connection's input buffer) is held by the engine; while the consumer is paused, the connection stops reading
/// and the client is held back by TCP flow control. The body progress timeout runs only while reading.
///
/// Contract: `start` once; the sink runs on the connection's loop thread, one piece at a time. Inside the sink
/// `pause()` stops delivery after this piece; `resume()` (any thread) continues it. `cancel()` (any thread)
/// stops reading for good: the connection closes once the answer is written. The handler answers through its
/// `Responder` as usual, normally after `end`; an answer before `end` also cancels the rest of the body.
public final class BodyStream: @unchecked Sendable {
    let loop: EventLoop
    unowned(unsafe) let connection: HTTPConnection   // alive while the stream is its `bodyStream` (loop thread)
    var sink: (@Sendable (BodyPiece) -> Void)?                 // set by `start`, on the loop
    var paused = true                                // until `start`, and between `pause` and `resume`
    var bodyDone = false                             // `end` or `failed` delivered (or due)
    var detached = false                             // the connection forgot us (closed, cancelled, done)
    let hasBody: Bool                                // false: `end` at once on start

    init(connection: HTTPConnection, hasBody: Bool) {
        self.loop = connection.conn.loop
        self.connection = connection
        self.hasBody = hasBody
    }

    /// Starts delivering the body to `sink` (on the loop thread).
    public func start(_ sink: @escaping @Sendable (BodyPiece) -> Void) {
        onLoop { [self] in
            guard self.sink == nil else { return }
            if !hasBody {
                // No body (no Content-Length, or 0): the connection never tracked this stream (it is `detached`
                // from the start), so the end is delivered here (schemathesis: `POST /files` without a body hung).
                self.sink = sink
                bodyDone = true
                sink(.end)
                return
            }
            guard !detached else { return }
            self.sink = sink
            paused = false
            connection.streamResumed(self)
        }
    }

    /// Inside the sink: deliver nothing more until `resume`.
    public func pause() { paused = true }

    /// Continues delivery after `pause` (any thread).
    public func resume() {
        onLoop { [self] in
            guard paused, sink != nil, !detached, !bodyDone else { return }
            paused = false
            connection.streamResumed(self)
        }
    }

    /// Stops reading the body for good (any thread): the connection closes after the answer.
    public func cancel() {
        onLoop { [self] in
            guard !detached else { return }
            paused = true
            bodyDone = true
            connection.streamCancelled(self)
        }
    }

    /// On the loop: hands a piece to the sink.
    func deliver(_ piece: BodyPiece) {
        switch piece {
        case .data: break
        case .end, .failed:
            if bodyDone { return }
            bodyDone = true
        }
        sink?(piece)
    }

    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        if loop.inLoop { body() } else { loop.execute(body) }
    }
}
