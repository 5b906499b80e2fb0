// Test support: collects what a child process writes to a pipe or pty, so tests can wait for a line to appear.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file descriptor on its own thread until end of file (or EIO, which a pty master gives once the child
/// side is closed) and lets tests wait for text to show up.
final class OutputCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var bytes: [UInt8] = []       // everything read so far
    private var finished = false          // the writer side is closed

    /// Starts reading `fd` (not closed here; the owner closes it after `waitForEnd`).
    init(fd: Int32) {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                condition.lock()
                bytes.append(contentsOf: buffer[0..<n])
                condition.broadcast()
                condition.unlock()
            }
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        thread.start()
    }

    var text: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Waits until `predicate` holds for the text so far; false on timeout or when the writer closed without it.
    @discardableResult
    func waitFor(timeout: Double = 10, _ predicate: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if predicate(String(decoding: bytes, as: UTF8.self)) { return true }
            if finished || !condition.wait(until: deadline) { return predicate(String(decoding: bytes, as: UTF8.self)) }
        }
    }

    @discardableResult
    func waitFor(_ needle: String, timeout: Double = 10) -> Bool {
        waitFor(timeout: timeout) { $0.contains(needle) }
    }

    /// Waits for end of file.
    @discardableResult
    func waitForEnd(timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while !finished {
            if !condition.wait(until: deadline) { return finished }
        }
        return true
    }
}
