// One request in flight on a connection: the Responder a handler answers through, now, later, or at a deadline.
import Synchronization
import Transport

/// The server's `Responder`. The first answer wins (an atomic flag decides between a handler on another thread,
/// the park deadline and the client hanging up); everything after the flag runs on the connection's loop.
final class Exchange: Responder, @unchecked Sendable {
    let connection: HTTPConnection
    let loop: EventLoop
    let method: String                  // for the RequestRecord
    let path: String
    let route: String?
    let isHead: Bool                    // HEAD: same headers, no body (RFC 9110 §9.3.2)
    let keepAlive: Bool                 // the request allows the connection to stay open
    let versionMinor: Int
    let started: UInt64                 // monotonic ns when the head was parsed
    let answered = Atomic<Bool>(false)  // the first respond/deadline/cancel sets it
    var response: HTTPResponse?         // set on the loop once answered; written when the exchanges before it are
    var parked = false                  // counted in the server's parked gauge while true
    var timer: LoopTimer?
    var onDeadline: (@Sendable () -> HTTPResponse)?
    var onCancel: (@Sendable () -> Void)?

    init(connection: HTTPConnection, method: String, path: String, route: String?, isHead: Bool, keepAlive: Bool,
         versionMinor: Int, started: UInt64) {
        self.connection = connection
        self.loop = connection.conn.loop
        self.method = method
        self.path = path
        self.route = route
        self.isHead = isHead
        self.keepAlive = keepAlive
        self.versionMinor = versionMinor
        self.started = started
    }

    func respond(_ response: HTTPResponse) {
        guard answered.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        if loop.inLoop {
            connection.complete(self, response)
        } else {
            // Cross-thread answer: hand it to the owning loop (eventfd wake, coalesced).
            loop.execute { self.connection.complete(self, response) }
        }
    }

    func park(timeout: Double, onDeadline: @escaping @Sendable () -> HTTPResponse, onCancel: @escaping @Sendable () -> Void) {
        if loop.inLoop {
            parkOnLoop(timeout: timeout, onDeadline: onDeadline, onCancel: onCancel)
        } else {
            loop.execute { self.parkOnLoop(timeout: timeout, onDeadline: onDeadline, onCancel: onCancel) }
        }
    }

    func parkOnLoop(timeout: Double, onDeadline: @escaping @Sendable () -> HTTPResponse, onCancel: @escaping @Sendable () -> Void) {
        guard !parked, !answered.load(ordering: .acquiring) else { return }   // already answered: nothing to wait for
        parked = true
        self.onDeadline = onDeadline
        self.onCancel = onCancel
        connection.context.server.parkedCount.add(1, ordering: .relaxed)
        if connection.conn.peerClosed || connection.conn.isClosed {
            cancel()
            connection.close()   // a half-closed client's parked request gets no answer: nothing more is owed
        } else if connection.context.stopping {
            fireDeadline()                       // shutting down: answer at once (contract: Responder.park)
        } else {
            timer = loop.schedule(at: monotonicNanos() &+ nanos(timeout)) { [self] in self.fireDeadline() }
        }
    }

    /// The deadline (or shutdown) came first: answer with the handler's deadline response.
    func fireDeadline() {
        guard parked, let make = onDeadline,
              answered.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        connection.complete(self, make())
    }

    /// The client hung up first: tell the handler, send nothing.
    func cancel() {
        guard parked,
              answered.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        let callback = onCancel
        unpark()
        callback?()
    }

    /// Leaves the parked state (once): timer off, gauge down, closures released.
    func unpark() {
        guard parked else { return }
        parked = false
        timer?.cancel()
        timer = nil
        onDeadline = nil
        onCancel = nil
        connection.context.server.parkedCount.subtract(1, ordering: .relaxed)
    }
}
