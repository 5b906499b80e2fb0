// Blocking-style client helpers (connect with a timeout, wait for readiness) for HTTPClient and tests.
import CLinux
import Glibc

extension Socket {
    /// Connects to `host:port` — an IPv4/IPv6 literal or a name, resolved with getaddrinfo (blocking: call it from
    /// a client's own thread, never an event loop) and tried address by address — waiting at most `timeout`
    /// seconds in all. The socket stays non-blocking; use `waitReadable`/`waitWritable` around reads and writes.
    public static func connect(host: String, port: Int, timeout: Double) throws -> Int32 {
        let deadline = monotonicNanos() &+ nanos(timeout)
        var lastError: SystemError?
        for address in try resolve(host: host, port: port) {
            do { return try connect(address, deadline: deadline, name: "\(host):\(port)") } catch let e as SystemError { lastError = e }
        }
        throw lastError ?? SystemError("resolve '\(host)': no address", errno: EINVAL)
    }

    /// The addresses of `host` (a literal is its own), IPv4 and IPv6 in getaddrinfo's preferred order.
    public static func resolve(host: String, port: Int) throws -> [SocketAddress] {
        if let literal = SocketAddress(ip: host, port: port) { return [literal] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let list else {
            throw SystemError("resolve '\(host)': \(String(cString: gai_strerror(rc)))", errno: EINVAL)
        }
        defer { freeaddrinfo(list) }
        var found: [SocketAddress] = []
        var next: UnsafeMutablePointer<addrinfo>? = list
        while let info = next {
            if let ai = info.pointee.ai_addr, Int(info.pointee.ai_addrlen) <= MemoryLayout<sockaddr_storage>.size,
               info.pointee.ai_family == AF_INET || info.pointee.ai_family == AF_INET6 {
                var address = SocketAddress()
                withUnsafeMutableBytes(of: &address.storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: ai, count: Int(info.pointee.ai_addrlen))) }
                address.length = info.pointee.ai_addrlen
                found.append(address)
            }
            next = info.pointee.ai_next
        }
        guard !found.isEmpty else { throw SystemError("resolve '\(host)': no IPv4 or IPv6 address", errno: EINVAL) }
        return found
    }

    private static func connect(_ address: SocketAddress, deadline: UInt64, name: String) throws -> Int32 {
        var address = address
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
                throw SystemError("connect \(name)", errno: e)
            }
            guard wait(fd, events: Int16(POLLOUT), until: deadline) else {
                Glibc.close(fd)
                throw SystemError("connect \(name) timed out", errno: ETIMEDOUT)
            }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 {
                Glibc.close(fd)
                throw SystemError("connect \(name)", errno: err)
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
