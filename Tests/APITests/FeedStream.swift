// Test helper: a GET /events stream read over a raw socket, chunked framing undone, one line at a time.
import Foundation
import Glibc
import HTTP

/// A streaming request on its own connection. `status` and `headers` once the head arrived; `line()` gives the
/// body's lines (ndjson lines, or SSE field and blank lines) as they come.
final class FeedStream {
    let fd: Int32
    private(set) var status = 0
    private(set) var headers: [String: String] = [:]
    private var raw: [UInt8] = []               // bytes read, not yet de-chunked
    private var body: [UInt8] = []              // de-chunked, not yet returned as lines
    private var chunkLeft = 0                   // data bytes left in the current chunk
    private var chunked = false
    private(set) var closed = false

    /// Connects and sends the request; `receiveBuffer` shrinks SO_RCVBUF (a slow consumer).
    init(port: Int, path: String, headers: [(String, String)], receiveBuffer: Int32? = nil) throws {
        fd = try RawConnection.open(port: port)
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        _ = Array(request.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    deinit { Glibc.close(fd) }

    func close() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// Reads until the head is complete. False on timeout or close.
    func readHead(timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let end = find([13, 10, 13, 10]) {
                let text = String(decoding: raw[..<end], as: UTF8.self)
                raw.removeFirst(end + 4)
                let lines = text.components(separatedBy: "\r\n")
                status = Int(lines[0].split(separator: " ")[1]) ?? 0
                for line in lines.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                chunked = headers["transfer-encoding"] == "chunked"
                return true
            }
            guard fill(until: deadline) else { return false }
        }
    }

    /// The whole body received so far plus what arrives before `timeout` (for non-stream answers).
    func rest(timeout: Double) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while fill(until: deadline) {}
        dechunk()
        return String(decoding: body, as: UTF8.self)
    }

    /// The next line of the body (without its LF), nil on timeout or when the server closed.
    func line(timeout: Double = 10) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            dechunk()
            if let lf = body.firstIndex(of: 10) {
                let line = String(decoding: body[..<lf], as: UTF8.self)
                body.removeFirst(lf + 1)
                return line
            }
            guard fill(until: deadline) else { return nil }
        }
    }

    /// The next SSE event's fields (`id`, `data`), skipping comments; nil on timeout or close.
    func sseEvent(timeout: Double = 10) -> (id: String?, data: String)? {
        var id: String?, data: String?
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0, let line = line(timeout: deadline.timeIntervalSinceNow) {
            if line.isEmpty {
                if let data { return (id, data) }
                continue
            }
            if line.hasPrefix(":") { continue }
            if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
            if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
        }
        return nil
    }

    private func find(_ pattern: [UInt8]) -> Int? {
        guard raw.count >= pattern.count else { return nil }
        for i in 0...(raw.count - pattern.count) where raw[i] == pattern[0] && Array(raw[i..<i + pattern.count]) == pattern {
            return i
        }
        return nil
    }

    private func dechunk() {
        guard chunked else { body += raw; raw = []; return }
        while !raw.isEmpty {
            if chunkLeft > 0 {
                let n = min(chunkLeft, raw.count)
                body += raw[..<n]
                raw.removeFirst(n)
                chunkLeft -= n
                if chunkLeft == 0 { chunkLeft = -2 }          // the CRLF after the data
                continue
            }
            if chunkLeft < 0 {
                let n = min(-chunkLeft, raw.count)
                raw.removeFirst(n)
                chunkLeft += n
                continue
            }
            guard let end = find([13, 10]) else { return }
            let size = Int(String(decoding: raw[..<end], as: UTF8.self), radix: 16) ?? 0
            raw.removeFirst(end + 2)
            chunkLeft = size == 0 ? 0 : size
            if size == 0 { closed = true; return }
        }
    }

    /// One read (waiting up to the deadline). False on timeout, error or close.
    private func fill(until deadline: Date) -> Bool {
        let left = deadline.timeIntervalSinceNow
        guard left > 0 else { return false }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(left * 1000) + 1) > 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let got = read(fd, &chunk, chunk.count)
        guard got > 0 else { closed = true; return false }
        raw += chunk[0..<got]
        return true
    }
}
