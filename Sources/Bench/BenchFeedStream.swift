// `konnect bench feed-stream`: a follower reading `GET /events` as an ndjson stream (one chunked answer, line by line).
import Glibc
import HTTP
import Transport

/// One streaming feed follower on a loop: one request, then events as lines of a chunked answer until stopped.
/// After the server closes the stream (it closes slow readers, API.md "The feed") it reconnects from the last
/// position it got, as a client should; that is counted as an error, and the verifier still sees every seq once.
final class FeedStreamFollower: BenchFollower, ConnectionDelegate {
    let loop: EventLoop
    let address: SocketAddress
    let hostHeader: String
    let token: String
    let sink: DeliverySink
    var record: FeedRecord
    var errors: [String: Int] = [:]
    var conn: Connection?
    var headDone = false
    var decoder = ChunkedDecoder()
    var lines: [UInt8] = []                   // decoded body bytes not yet ending in a newline
    var stopped = false
    var started = false

    init(loop: EventLoop, address: SocketAddress, host: String, room: String, token: String, after: Int, feedAfter: Int,
         sink: DeliverySink) {
        self.loop = loop
        self.address = address
        hostHeader = host
        self.token = token
        self.sink = sink
        record = FeedRecord(room: room, after: after, feedAfter: feedAfter)
    }

    var plant: PlantedFault? {
        get { record.plant }
        set { record.plant = newValue }
    }
    var delays: [UInt64] { record.delays }
    func faults(expectedLast: Int) -> [DeliveryFault] { record.faults(expectedLast: expectedLast) }

    func start() {
        guard !stopped else { return }
        if !started {
            started = true
            sink.polling.add(1, ordering: .relaxed)
        }
        guard let connection = openSocket() else {
            errors["connect failed", default: 0] += 1
            _ = loop.schedule(after: 0.1) { [self] in start() }
            return
        }
        headDone = false
        decoder = ChunkedDecoder()
        lines = []
        var out = connection.output
        out.append("GET /events?after=\(record.lastPos)&limit=100 HTTP/1.1\r\nHost: \(hostHeader)\r\n")
        out.append("Accept: application/x-ndjson\r\nAuthorization: Bearer \(token)\r\n\r\n")
        connection.output = out
        if connection.flush() == .failed { restart("write failed") }
    }

    func openSocket() -> Connection? {
        var addr = address
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = Glibc.socket(addr.family, type, 0)
        if fd < 0 { return nil }
        Socket.setNoDelay(fd)
        let rc = withUnsafePointer(to: &addr.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, addr.length) }
        }
        if rc != 0 && errno != EINPROGRESS && errno != EINTR {
            Glibc.close(fd)
            return nil
        }
        let connection = Connection(fd: fd, loop: loop)
        connection.delegate = self
        do { try connection.start() } catch {
            connection.close()
            return nil
        }
        conn = connection
        return connection
    }

    /// The stream ended or failed: count why, reconnect from the last position shortly.
    func restart(_ why: String) {
        errors[why, default: 0] += 1
        conn?.close()
        conn = nil
        guard !stopped else { return }
        _ = loop.schedule(after: 0.05) { [self] in start() }
    }

    func stop() {
        stopped = true
        conn?.close()
        conn = nil
    }

    // MARK: ConnectionDelegate

    func connectionReadable(_ connection: Connection) {
        guard connection === conn else { return }
        let arrived = monotonicNanos()
        if !headDone {
            let readable = connection.input.readable
            guard let end = Self.headEnd(readable) else {
                if readable.count > 16_384 { restart("head too large") }
                return
            }
            let head = String(decoding: UnsafeRawBufferPointer(rebasing: readable[0..<end]), as: UTF8.self).lowercased()
            connection.input.consume(end)
            guard head.hasPrefix("http/1.1 200") else {
                return restart("HTTP " + String(head.dropFirst(9).prefix(3)))
            }
            guard head.contains("transfer-encoding: chunked") else { return restart("stream not chunked") }
            headDone = true
        }
        switch decoder.decode(connection.input.readable, limit: Int.max, into: &lines) {
        case .incomplete(let consumed): connection.input.consume(consumed)
        case .complete(let consumed):
            connection.input.consume(consumed)
            take(arrived)
            return restart("stream ended")
        case .error: return restart("bad chunked stream")
        }
        take(arrived)
    }

    /// Hands every complete line to the record.
    func take(_ arrived: UInt64) {
        guard let lastNewline = lines.lastIndex(of: 10) else { return }
        let complete = Array(lines[...lastNewline])
        lines.removeFirst(lastNewline + 1)
        let seqs = record.take(complete, arrived: arrived)
        sink.delivered(seqs)
        record.record(seqs)
    }

    func connectionPeerClosed(_ connection: Connection) {
        guard connection === conn else { return }
        restart("stream closed by the server")
    }

    func connectionDrained(_ connection: Connection) {}

    /// The offset just past the head's blank line, if it arrived.
    static func headEnd(_ b: UnsafeRawBufferPointer) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i + 4 }
        return nil
    }
}
