// One event loop's share of the server: its listener, its connections, its Date cache, its part of shutdown.
import Transport

/// Per-loop server state. Everything here runs on `loop`'s thread.
final class ServerLoop: @unchecked Sendable {
    let loop: EventLoop
    unowned(unsafe) let server: HTTPServer  // outlives its loops: `shutdown` joins them
    let configuration: HTTPServerConfiguration
    let headTimeout: UInt64                 // ns, from the configuration (read per request: no struct copies)
    let idleTimeout: UInt64
    let router: Router
    let date = DateCache()
    var listener: Listener?
    var connections: [HTTPConnection] = []  // open connections; each knows its slot for O(1) removal
    var stopping = false                    // shutdown began: no new requests, close when answered
    var heldHighWater = 0                   // most output + body bytes held since the last malloc_trim (loop 0)

    init(loop: EventLoop, server: HTTPServer) {
        self.loop = loop
        self.server = server
        self.configuration = server.configuration
        self.headTimeout = nanos(server.configuration.headTimeout)
        self.idleTimeout = nanos(server.configuration.idleTimeout)
        self.router = server.router
    }

    /// A new socket from the listener.
    func accepted(_ fd: Int32, _ peer: SocketAddress) {
        let conn = Connection(fd: fd, loop: loop)
        Socket.setNoDelay(fd)
        if let tls = configuration.tls {
            // The handshake runs inside the connection's first reads, on this loop like any other I/O.
            guard let session = try? TLSSession(context: tls, fd: fd) else { Socket.close(fd); return }
            conn.tls = session
        }
        let http = HTTPConnection(conn: conn, context: self, remoteAddress: peer.ipString)
        conn.delegate = http
        do { try conn.start() } catch { conn.close(); return }
        if stopping || server.openCount.load(ordering: .relaxed) >= configuration.maxConnections {
            // API.md: past the connection limit, 503 with Retry-After, then close.
            http.rejectOverLimit()
            return
        }
        server.openCount.add(1, ordering: .relaxed)
        http.slot = connections.count
        connections.append(http)
        http.setDeadline(headDeadline)   // a silent client is cut off too
    }

    /// Once a second on loop 0: when the output and request-body bytes held for clients fell by 4 MiB or more since
    /// their high-water mark, `malloc_trim(0)`. glibc keeps freed heap pages otherwise (issue 13: 338 MB still
    /// held after the never-reading clients left; slow bodies left +15 MB for good).
    func startTrimming() {
        _ = loop.schedule(after: 1) { [weak self] in
            guard let self, !self.stopping else { return }
            let held = self.server.queuedOutput.load(ordering: .relaxed) + self.server.bufferedBodies.load(ordering: .relaxed)
            if held > self.heldHighWater {
                self.heldHighWater = held
            } else if self.heldHighWater - held >= 4 << 20 {
                Memory.trim()
                self.heldHighWater = held
            }
            self.startTrimming()
        }
    }

    /// Deadlines counted from the current loop wake-up.
    var headDeadline: UInt64 { loop.now &+ headTimeout }
    var idleDeadline: UInt64 { loop.now &+ idleTimeout }

    func connectionClosed(_ http: HTTPConnection) {
        let slot = http.slot
        if slot >= 0 {
            let last = connections.removeLast()
            if last !== http {
                connections[slot] = last
                last.slot = slot
            }
            http.slot = -1
            server.openCount.subtract(1, ordering: .relaxed)
        }
        if stopping && connections.isEmpty { loop.stop() }
    }

    /// Stop accepting, answer parked requests now, close idle connections, give the rest `shutdownGrace`.
    func beginShutdown() {
        guard !stopping else { return }
        stopping = true
        listener?.close()
        for http in connections { http.shutdownNow() }
        if connections.isEmpty {
            loop.stop()
            return
        }
        loop.schedule(after: configuration.shutdownGrace) { [self] in
            for http in self.connections { http.close() }
            self.loop.stop()
        }
    }
}
