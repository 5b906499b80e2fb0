// The HTTP/1.1 server: event loops from Transport, a connection state machine per socket, the router on top.
// INTERFACE STUB — the engine issue replaces the bodies; the public signatures are what other modules rely on.

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

public final class HTTPServer: @unchecked Sendable {
    public let configuration: HTTPServerConfiguration
    public let router: Router
    /// Called for every response sent; set before `start`.
    public var onRequest: (@Sendable (RequestRecord) -> Void)?

    public init(configuration: HTTPServerConfiguration, router: Router) {
        self.configuration = configuration
        self.router = router
    }

    /// Binds, listens and starts the loops; returns once accepting. Throws on bind failure.
    public func start() throws { fatalError("HTTPServer.start: engine not implemented yet") }

    /// The bound port (useful with port 0). Valid after `start`.
    public var port: Int { fatalError("engine not implemented yet") }

    /// Connections currently open, and requests currently parked (for /metrics).
    public var openConnections: Int { 0 }
    public var parkedRequests: Int { 0 }

    /// Graceful: stop accepting, answer parked requests at once (their deadline response), let in-flight requests
    /// finish (up to `shutdownGrace`), close, and return when every loop has stopped. Safe from any thread, once.
    public func shutdown() { fatalError("engine not implemented yet") }

    /// Blocks until the server has stopped (after `shutdown`, or a SIGTERM/SIGINT when `handleSignals` was called).
    public func waitUntilStopped() { fatalError("engine not implemented yet") }

    /// Installs SIGTERM/SIGINT handling that calls `shutdown()`.
    public func handleSignals() { fatalError("engine not implemented yet") }
}
