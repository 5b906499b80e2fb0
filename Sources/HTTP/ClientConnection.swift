// A non-blocking HTTP/1.1 client connection on a Transport event loop: async connect, one request at a time, keep-alive.
import Glibc
import Transport

/// What became of a request sent on a `ClientConnection`.
public enum ClientFailure: Error, Sendable, CustomStringConvertible, Equatable {
    case connectFailed(Int32)          // socket/connect errno
    case closedBeforeResponse          // the server closed before any byte of the answer (retry is safe if idempotent)
    case closedInResponse              // the server closed inside an answer
    case timedOut                      // no complete answer within the request's timeout
    case malformed(String)             // the answer does not parse as HTTP/1.1

    public var description: String {
        switch self {
        case .connectFailed(let e): return "connect: \(String(cString: strerror(e))) (errno \(e))"
        case .closedBeforeResponse: return "connection closed before a response"
        case .closedInResponse: return "connection closed inside a response"
        case .timedOut: return "timed out"
        case .malformed(let why): return "malformed response: \(why)"
        }
    }
}

/// One client connection owned by one loop (everything is called on `loop`'s thread). It connects lazily and
/// again after the server closes it; a request is written whole ("try writing before sleeping", as the server does)
/// and its answer is parsed incrementally from the input buffer. Pipelining is not supported: one request in flight.
public final class ClientConnection: ConnectionDelegate {
    public typealias Completion = (Result<ClientResponse, ClientFailure>) -> Void

    public let loop: EventLoop
    let address: SocketAddress
    let hostHeader: String
    var conn: Connection?                 // nil until the first request and after a close
    var parser = ClientResponseParser()
    var completion: Completion?           // the request in flight
    var deadline: UInt64 = 0              // monotonic ns by which the request in flight must be answered
    var armedAt: UInt64 = 0               // the earliest pending timer's time (0: none). Timers are re-armed
                                          // lazily, never cancelled: thousands of requests a second must not
                                          // leave a cancelled timer each in the loop's heap
    /// Sockets opened so far (1 for a connection kept alive throughout).
    public private(set) var connects = 0

    /// `address` is the server's; `host` is sent in the Host header.
    public init(loop: EventLoop, address: SocketAddress, host: String) {
        self.loop = loop
        self.address = address
        self.hostHeader = host
    }

    /// True while a request waits for its answer.
    public var isBusy: Bool { completion != nil }

    /// Sends one request (Host and Content-Length are added) and calls `completion` once, on the loop thread.
    /// `headers` are written as given. Must not be called while `isBusy`.
    public func send(method: String, target: String, headers: [(String, String)] = [], body: [UInt8] = [],
                     timeout: Double, completion: @escaping Completion) {
        precondition(self.completion == nil, "one request at a time")
        let connection: Connection
        if let open = conn, !open.isClosed, !open.peerClosed {
            connection = open
        } else {
            switch openSocket() {
            case .success(let fresh): connection = fresh
            case .failure(let failure):
                completion(.failure(failure))
                return
            }
        }
        self.completion = completion
        parser = ClientResponseParser(isHead: method == "HEAD")
        var out = connection.output
        out.append(method)
        out.append(" " as StaticString)
        out.append(target)
        out.append(" HTTP/1.1\r\nHost: " as StaticString)
        out.append(hostHeader)
        out.append("\r\n" as StaticString)
        for (name, value) in headers {
            out.append(name)
            out.append(": " as StaticString)
            out.append(value)
            out.append("\r\n" as StaticString)
        }
        if !body.isEmpty || method == "POST" || method == "PUT" || method == "PATCH" {
            out.append("Content-Length: " as StaticString)
            out.appendDecimal(body.count)
            out.append("\r\n" as StaticString)
        }
        out.append("\r\n" as StaticString)
        out.append(body)
        connection.output = out
        deadline = monotonicNanos() &+ nanos(timeout)
        armTimer()
        if connection.flush() == .failed { fail(.closedBeforeResponse, close: true) }
    }

    /// Closes the socket; a request in flight is not answered (its completion is dropped).
    public func close() {
        completion = nil
        conn?.close()
        conn = nil
    }

    /// A non-blocking socket with connect started; writes queue until it completes (send returns EAGAIN meanwhile
    /// and the Connection installs EPOLLOUT), a refused connect surfaces as ERR/HUP on the read path.
    func openSocket() -> Result<Connection, ClientFailure> {
        var addr = address
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = Glibc.socket(addr.family, type, 0)
        if fd < 0 { return .failure(.connectFailed(errno)) }
        Socket.setNoDelay(fd)
        let rc = withUnsafePointer(to: &addr.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, addr.length) }
        }
        if rc != 0 && errno != EINPROGRESS && errno != EINTR {
            let e = errno
            Glibc.close(fd)
            return .failure(.connectFailed(e))
        }
        let connection = Connection(fd: fd, loop: loop)
        connection.delegate = self
        do { try connection.start() } catch {
            connection.close()
            return .failure(.connectFailed(EBADF))
        }
        conn = connection
        connects += 1
        return .success(connection)
    }

    /// Ends the request in flight with `failure`.
    func fail(_ failure: ClientFailure, close closing: Bool) {
        let done = completion
        completion = nil
        if closing {
            conn?.close()
            conn = nil
        }
        done?(.failure(failure))
    }

    /// Makes sure a timer fires by `deadline`. A timer left from an earlier (answered) request fires at its own
    /// time and re-arms for the current request; only a request due sooner than every pending timer adds one.
    func armTimer() {
        guard armedAt == 0 || deadline < armedAt else { return }
        let at = deadline
        armedAt = at
        loop.schedule(at: at) { [weak self] in self?.timerFired(at) }
    }

    func timerFired(_ at: UInt64) {
        if at == armedAt { armedAt = 0 }
        guard completion != nil else { return }
        if monotonicNanos() >= deadline { fail(.timedOut, close: true) } else { armTimer() }
    }

    // MARK: ConnectionDelegate

    public func connectionReadable(_ connection: Connection) {
        guard connection === conn else { return }
        guard completion != nil else {
            // Bytes nobody asked for (a server must not send them): the connection is no longer trustworthy.
            connection.close()
            conn = nil
            return
        }
        switch parser.parse(&connection.input) {
        case .incomplete:
            break
        case .complete(let response):
            let done = completion
            completion = nil
            if !response.keepAlive {
                connection.close()
                conn = nil
            }
            done?(.success(response))
        case .error(let why):
            fail(.malformed(why), close: true)
        }
    }

    public func connectionPeerClosed(_ connection: Connection) {
        guard connection === conn else { return }
        if completion != nil {
            // A body that runs to the end of the connection (RFC 9112 §6.3 rule 8) is complete now.
            if let response = parser.finishAtClose(&connection.input) {
                let done = completion
                completion = nil
                connection.close()
                conn = nil
                done?(.success(response))
                return
            }
            fail(parser.sawBytes ? .closedInResponse : .closedBeforeResponse, close: true)
        } else {
            connection.close()
            conn = nil
        }
    }

    public func connectionDrained(_ connection: Connection) {}
}
