// Socket helpers apart from the loop (like redis anet.c): listen, accept, options, addresses, read/write, connect.
import CLinux
import Glibc

/// A resolved IPv4 or IPv6 socket address.
public struct SocketAddress: Sendable {
    public var storage = sockaddr_storage()
    public var length: socklen_t = 0
    public var family: Int32 { Int32(storage.ss_family) }

    public init() {}

    /// Parses an IPv4 or IPv6 literal (no names: the server binds only what it is told).
    public init?(ip: String, port: Int) {
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, ip, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
            withUnsafeBytes(of: v4) { src in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            return
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, ip, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
            withUnsafeBytes(of: v6) { src in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            return
        }
        return nil
    }

    /// The port in host order.
    public var port: Int {
        withUnsafeBytes(of: storage) { raw in
            if family == AF_INET6 { return Int(UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self))) }
            return Int(UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self)))
        }
    }

    /// The IP as text, no port ("127.0.0.1", "::1").
    public var ipString: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var storageCopy = storage
        return withUnsafePointer(to: &storageCopy) { ptr -> String in
            let raw = UnsafeRawPointer(ptr)
            let offset = family == AF_INET6 ? 8 : 4   // sin6_addr / sin_addr offsets
            guard inet_ntop(family, raw + offset, &text, socklen_t(text.count)) != nil else { return "" }
            let length = text.firstIndex(of: 0) ?? text.count
            return String(decoding: text[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}

/// Stateless socket operations. Every call is non-blocking unless it says otherwise.
public enum Socket {
    /// A listening socket on `ip:port` (SO_REUSEADDR; SO_REUSEPORT when `reusePort`, so each loop can own one).
    public static func listen(ip: String, port: Int, reusePort: Bool, backlog: Int32 = 4096) throws -> Int32 {
        guard var address = SocketAddress(ip: ip, port: port) else {
            throw SystemError("parse address '\(ip)'", errno: EINVAL)
        }
        let fd = konnect_socket(address.family, Int32(SOCK_STREAM.rawValue))
        if fd < 0 { throw SystemError("socket", errno: konnect_errno()) }
        setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        if reusePort { setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
        if address.family == AF_INET6 { setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
        let rc = withUnsafePointer(to: &address.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, address.length) }
        }
        if rc != 0 {
            let e = konnect_errno()
            Glibc.close(fd)
            throw SystemError("bind \(ip):\(port)", errno: e)
        }
        if Glibc.listen(fd, backlog) != 0 {
            let e = konnect_errno()
            Glibc.close(fd)
            throw SystemError("listen", errno: e)
        }
        return fd
    }

    /// Accepts one connection (non-blocking, close-on-exec); `.wouldBlock` when the queue is empty.
    public static func accept(_ fd: Int32, peer: inout SocketAddress) throws(SystemError) -> IOResult {
        peer.length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return try retryingSyscall("accept4") {
            withUnsafeMutablePointer(to: &peer.storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Int(konnect_accept4(fd, $0, &peer.length)) }
            }
        }
    }

    /// The locally bound address (for the real port after binding port 0).
    public static func localAddress(_ fd: Int32) -> SocketAddress {
        var address = SocketAddress()
        address.length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &address.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &address.length) }
        }
        return address
    }

    @discardableResult
    public static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Bool {
        var v = value
        return setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0
    }

    /// Nagle off: our answers are written whole, waiting for ACKs only adds latency.
    public static func setNoDelay(_ fd: Int32) { setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1) }

    /// Reads into `buffer`; `.done(0)` is end of stream.
    @inline(__always)
    public static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) throws(SystemError) -> IOResult {
        try retryingSyscall("read") { Glibc.read(fd, buffer, count) }
    }

    @inline(__always)
    public static func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) throws(SystemError) -> IOResult {
        try retryingSyscall("write") { Glibc.send(fd, buffer, count, Int32(MSG_NOSIGNAL)) }
    }

    public static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// Half-closes the sending side (lingering close, RFC 9112 §9.6).
    public static func shutdownWrite(_ fd: Int32) { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }
}
