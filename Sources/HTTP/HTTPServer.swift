// The HTTP/1.1 server: event loops from Transport, a connection state machine per socket, the router on top.
import Glibc
import Synchronization
import Transport

/// Every limit and timeout of ../shared/API.md "HTTP behaviour"; each is a flag of `konnect serve`.
public struct HTTPServerConfiguration: Sendable {
    public var host: String = "127.0.0.1"        // IPv4 or IPv6 literal ("::1", "0.0.0.0", "::")
    public var port: Int = 8080                  // 0 picks an ephemeral port; see `HTTPServer.port`
    public var loops: Int = 0                    // event loops; 0 = one per core
    public var maxHeadBytes: Int = 16 * 1024     // request line + headers; over → 431
    public var headTimeout: Double = 10          // seconds to receive a whole head; then the connection is cut
    public var idleTimeout: Double = 60          // seconds a keep-alive connection may sit idle
    public var maxConnections: Int = 19_000      // past this, new connections get 503 + Retry-After and close
    public var shutdownGrace: Double = 10        // seconds in-flight requests get to finish on shutdown
    /// Output buffered for clients, all connections (issue 13 item 1). Past it, a connection that cannot send a full
    /// buffer (256 KiB) is closed when it next queues. 32 MiB: the hostile-client aim is under 64 MB of RSS growth.
    public var maxQueuedOutput: Int = 32 << 20
    /// Request bodies being received, all connections. Past it, a new request with a body gets 503 with Retry-After
    /// before its body is read (3,000 authenticated clients each stalling a 64 KiB body would hold 192 MB).
    public var maxBufferedBodies: Int = 32 << 20
    /// Bodies of answers waiting to be sent, all connections, counted per connection even when shared (a cached
    /// page sent to many clients): the arrays are the handlers', not copies, so this bound is loose and generous.
    /// Past it, a connection holding 1 MiB or more of answers it cannot send is closed.
    public var maxHeldAnswerBytes: Int = 256 << 20
    /// HTTPS on every connection (`konnect serve --tls-cert --tls-key`); nil: plain HTTP.
    public var tls: TLSServerContext?

    public init() {}
}

/// What the server reports after each answered request (for logs and metrics). Called on a loop thread.
public struct RequestRecord: Sendable {
    public var method: String
    public var path: String
    public var route: String?      // the matched route's pattern, nil for 404/400/etc.
    public var status: Int
    public var duration: Double    // seconds from head parsed to response queued
}

/// The server: one `ServerLoop` per event loop, each with its own SO_REUSEPORT listener on the same port.
public final class HTTPServer: @unchecked Sendable {
    public let configuration: HTTPServerConfiguration
    public let router: Router
    /// Called for every response sent; set before `start`.
    public var onRequest: (@Sendable (RequestRecord) -> Void)?

    var loops: [ServerLoop] = []
    var boundPort = 0
    let openCount = Atomic<Int>(0)          // open connections, all loops (the limit is global)
    let parkedCount = Atomic<Int>(0)        // parked requests, all loops
    let queuedOutput = Atomic<Int>(0)       // output buffer bytes allocated, all connections
    let budgetCloses = Atomic<Int>(0)       // connections closed for holding output past the budget
    let bufferedBodies = Atomic<Int>(0)     // capacity of request bodies being received, all connections
    let heldAnswers = Atomic<Int>(0)        // answer bodies waiting to be sent, all connections (shared ones per use)
    let shutdownStarted = Atomic<Bool>(false)
    let joinState = Locked<Bool>(false)     // true once every loop thread has been joined

    public init(configuration: HTTPServerConfiguration, router: Router) {
        self.configuration = configuration
        self.router = router
    }

    /// Binds, listens and starts the loops; returns once accepting. Throws on bind failure.
    public func start() throws {
        _ = konnectRaiseOpenFiles()
        let count = configuration.loops > 0 ? configuration.loops : Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        // Probe without SO_REUSEPORT first: it fails if anyone holds the port (even another process that set
        // SO_REUSEPORT too, which would otherwise silently share our port), and it picks the port for port 0.
        let probe = try Socket.listen(ip: configuration.host, port: configuration.port, reusePort: false, backlog: 1)
        boundPort = Socket.localAddress(probe).port
        Socket.close(probe)
        var created: [ServerLoop] = []
        do {
            for i in 0..<count {
                let context = ServerLoop(loop: try EventLoop(index: i), server: self)
                let fd = try Socket.listen(ip: configuration.host, port: boundPort, reusePort: true, backlog: 4096)
                let listener = Listener(fd: fd, loop: context.loop) { [unowned context] fd, peer in context.accepted(fd, peer) }
                try listener.start()
                context.listener = listener
                created.append(context)
            }
        } catch {
            for context in created { context.listener?.close() }
            throw error
        }
        loops = created
        loops[0].loop.execute { [unowned(unsafe) context = loops[0]] in context.startTrimming() }
        for context in loops { context.loop.startThread() }
    }

    /// The bound port (useful with port 0). Valid after `start`.
    public var port: Int { boundPort }

    /// Connections currently open, and requests currently parked (for /metrics).
    public var openConnections: Int { openCount.load(ordering: .relaxed) }
    public var parkedRequests: Int { parkedCount.load(ordering: .relaxed) }
    /// Output buffer bytes held for clients, and connections closed for holding too much past the budget.
    public var queuedOutputBytes: Int { queuedOutput.load(ordering: .relaxed) }
    public var outputBudgetCloses: Int { budgetCloses.load(ordering: .relaxed) }
    /// Bytes of request bodies being received (not yet handed to a handler).
    public var bufferedBodyBytes: Int { bufferedBodies.load(ordering: .relaxed) }
    /// Bytes of answer bodies waiting to be sent (counted per connection, even when shared).
    public var heldAnswerBytes: Int { heldAnswers.load(ordering: .relaxed) }

    /// Graceful: stop accepting, answer parked requests at once (their deadline response), let in-flight requests
    /// finish (up to `shutdownGrace`), close, and return when every loop has stopped. Safe from any thread, once.
    /// From a handler (a loop thread) it only starts the shutdown: waiting there would wait for itself.
    public func shutdown() {
        if !shutdownStarted.exchange(true, ordering: .acquiringAndReleasing) {
            for context in loops { context.loop.execute { context.beginShutdown() } }
        }
        if loops.contains(where: { $0.loop.inLoop }) { return }
        waitUntilStopped()
    }

    /// Blocks until the server has stopped (after `shutdown`, or a SIGTERM/SIGINT when `handleSignals` was called).
    public func waitUntilStopped() {
        joinState.withLock { joined in
            guard !joined else { return }
            for context in loops { context.loop.join() }
            joined = true
        }
    }

    /// Installs SIGTERM/SIGINT handling that calls `shutdown()`.
    public func handleSignals() {
        SignalWatcher.install { [self] in self.shutdown() }
    }
}
