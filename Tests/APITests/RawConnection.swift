// Test helper: raw loopback sockets for what HTTPClient does not do (chunked uploads, thousands of parked polls).
import Foundation
import Glibc
import HTTP

/// Blocking connect, then non-blocking reads in a poll(2) loop: thousands of clients on one thread.
enum RawConnection {
    static func open(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard fd >= 0, ok else { if fd >= 0 { close(fd) }; throw HTTPClientError("connect failed: errno \(errno)") }
        return fd
    }

    /// Writes `request` on a new connection and reads until the server closes it (send `Connection: close`).
    static func exchange(port: Int, _ request: [UInt8], timeout: Double = 10) throws -> String {
        let fd = try open(port: port)
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var out: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = read(fd, &chunk, chunk.count)
            if got <= 0 { break }
            out += chunk[0..<got]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// How many connections received a response containing `marker` before `timeout`.
    static func awaitResponses(_ fds: [Int32], containing marker: [UInt8], timeout: Double) -> Int {
        var pending = Set(fds.indices)
        var buffers = Array(repeating: [UInt8](), count: fds.count)
        var chunk = [UInt8](repeating: 0, count: 4096)
        let end = Date().addingTimeInterval(timeout)
        var done = 0
        while !pending.isEmpty && Date() < end {
            let order = Array(pending)
            var pfds = order.map { pollfd(fd: fds[$0], events: Int16(POLLIN), revents: 0) }
            guard poll(&pfds, nfds_t(pfds.count), 1000) > 0 else { continue }
            for (k, p) in pfds.enumerated() where p.revents != 0 {
                let i = order[k]
                let got = read(fds[i], &chunk, chunk.count)
                if got <= 0 { pending.remove(i); continue }
                buffers[i] += chunk[0..<got]
                if buffers[i].firstRange(of: marker) != nil { pending.remove(i); done += 1 }
            }
        }
        return done
    }
}
