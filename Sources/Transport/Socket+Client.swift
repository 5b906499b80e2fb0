// Blocking-style client helpers (connect with a timeout, wait for readiness) for HTTPClient and tests.
import CLinux
import Glibc

extension Socket {
    /// Connects to `ip:port` (an IPv4/IPv6 literal or "localhost"), waiting at most `timeout` seconds.
    /// The socket stays non-blocking; use `waitReadable`/`waitWritable` around reads and writes.
    public static func connect(host: String, port: Int, timeout: Double) throws -> Int32 {
        let ip = host == "localhost" ? "127.0.0.1" : host
        guard var address = SocketAddress(ip: ip, port: port) else {
            throw SystemError("resolve '\(host)' (IP literals only)", errno: EINVAL)
        }
        let fd = konnect_socket(address.family, Int32(SOCK_STREAM.rawValue))
        if fd < 0 { throw SystemError("socket", errno: konnect_errno()) }
        setNoDelay(fd)
        let rc = withUnsafePointer(to: &address.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, address.length) }
        }
        if rc != 0 {
            let e = konnect_errno()
            guard e == EINPROGRESS || e == EINTR else {
                Glibc.close(fd)
                throw SystemError("connect \(host):\(port)", errno: e)
            }
            guard wait(fd, events: Int16(POLLOUT), until: monotonicNanos() &+ nanos(timeout)) else {
                Glibc.close(fd)
                throw SystemError("connect \(host):\(port) timed out", errno: ETIMEDOUT)
            }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 {
                Glibc.close(fd)
                throw SystemError("connect \(host):\(port)", errno: err)
            }
        }
        return fd
    }

    /// Waits until `fd` has `events` (POLLIN/POLLOUT) or `deadline` (monotonic ns) passes; false on timeout.
    public static func wait(_ fd: Int32, events: Int16, until deadline: UInt64) -> Bool {
        while true {
            let now = monotonicNanos()
            if now >= deadline { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let ms = Int32(Swift.min((deadline - now + 999_999) / 1_000_000, 1_000_000))
            let n = poll(&p, 1, ms)
            if n > 0 { return true }
            if n < 0 && konnect_errno() != EINTR { return true }   // let the next read/write report the error
        }
    }

    /// Writes all of `bytes`, waiting for the socket as needed.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, until deadline: UInt64) throws {
        var offset = 0
        while offset < bytes.count {
            switch try write(fd, bytes.baseAddress! + offset, bytes.count - offset) {
            case .done(let n): offset += n
            case .wouldBlock:
                guard wait(fd, events: Int16(POLLOUT), until: deadline) else { throw SystemError("write timed out", errno: ETIMEDOUT) }
            }
        }
    }

    /// Reads what is available (waiting for some), appending to `buffer`; returns the count, 0 at end of stream.
    public static func readSome(_ fd: Int32, into buffer: inout [UInt8], until deadline: UInt64) throws -> Int {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let r = try chunk.withUnsafeMutableBytes { try read(fd, $0.baseAddress!, $0.count) }
            switch r {
            case .done(let n):
                buffer.append(contentsOf: chunk[0..<n])
                return n
            case .wouldBlock:
                guard wait(fd, events: Int16(POLLIN), until: deadline) else { throw SystemError("read timed out", errno: ETIMEDOUT) }
            }
        }
    }
}
