// Test support: a raw client socket that sends exact bytes and reads responses as the server framed them.
import Glibc
import Synchronization
import XCTest
@testable import HTTP
import Transport

/// One response as read off the wire.
struct RawResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    var text: String { String(decoding: body, as: UTF8.self) }
}

struct RawError: Error, CustomStringConvertible { var description: String }

/// A client socket for exact-bytes tests (pipelining, split heads, malformed input, hang-ups).
final class RawConnection {
    let fd: Int32
    var buffer: [UInt8] = []

    init(port: Int, host: String = "127.0.0.1") throws {
        fd = try Socket.connect(host: host, port: port, timeout: 5)
    }

    deinit { close() }
    var closed = false
    func close() { if !closed { closed = true; Socket.close(fd) } }

    func send(_ text: String) throws { try send(Array(text.utf8)) }
    func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try Socket.writeAll(fd, $0, until: monotonicNanos() + 5_000_000_000) }
    }

    /// Reads one response (1xx included) framed by Content-Length; `isHead` for answers without a body.
    func readResponse(isHead: Bool = false, timeout: Double = 5) throws -> RawResponse {
        let deadline = monotonicNanos() + nanos(timeout)
        var headEnd: Int? = nil
        while headEnd == nil {
            headEnd = HTTPClient.findHeadEnd(buffer)
            if headEnd == nil, try Socket.readSome(fd, into: &buffer, until: deadline) == 0 {
                throw RawError(description: "closed before a response (\(buffer.count) bytes buffered)")
            }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd!)
        var lines = head.split(separator: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw RawError(description: "bad status line: \(head)") }
        let headers = lines.map { line -> (String, String) in
            let colon = line.firstIndex(of: ":")!
            return (String(line[..<colon]), String(line[line.index(after: colon)...].drop(while: { $0 == " " })))
        }
        var response = RawResponse(status: status, headers: headers, body: [])
        if let length = response.header("Content-Length").flatMap(Int.init), !isHead, status >= 200 {
            while buffer.count < length {
                if try Socket.readSome(fd, into: &buffer, until: deadline) == 0 { throw RawError(description: "closed inside a body") }
            }
            response.body = Array(buffer[0..<length])
            buffer.removeFirst(length)
        }
        return response
    }

    /// True if the server closes the connection within `timeout` (any further bytes are discarded).
    func waitClosed(timeout: Double = 5) -> Bool {
        let deadline = monotonicNanos() + nanos(timeout)
        while true {
            do {
                if try Socket.readSome(fd, into: &buffer, until: deadline) == 0 { return true }
            } catch let e as SystemError {
                return e.errno == ECONNRESET
            } catch {
                return false
            }
        }
    }
}

/// 4 KiB of a pattern that shifts by one per block position, so misplaced or lost chunks show (/big bodies).
let patternBlock: [UInt8] = (0..<4096).map { UInt8(truncatingIfNeeded: $0 % 251) }

/// Whether `body` is `patternBlock` repeated (compared with memcmp: debug builds are slow per element).
func isPattern(_ body: [UInt8]) -> Bool {
    body.withUnsafeBytes { b in
        patternBlock.withUnsafeBytes { p in
            var offset = 0
            while offset < b.count {
                let n = Swift.min(p.count, b.count - offset)
                if memcmp(b.baseAddress! + offset, p.baseAddress!, n) != 0 { return false }
                offset += n
            }
            return true
        }
    }
}

/// Polls `condition` every 10 ms for up to `timeout` seconds.
func eventually(_ timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = monotonicNanos() + nanos(timeout)
    while monotonicNanos() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
