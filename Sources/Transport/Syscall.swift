// One wrapper for every socket syscall: retries EINTR, turns EAGAIN into `.wouldBlock`, everything else into an error.
import CLinux
import Glibc

/// A failed syscall: the call's name and errno.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let errno: Int32
    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }
    public var description: String { "\(call): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// The result of a non-blocking call that may have nothing to do yet.
public enum IOResult: Equatable, Sendable {
    case done(Int)       // the syscall's non-negative return value (bytes, fd, …)
    case wouldBlock      // EAGAIN/EWOULDBLOCK: try again when epoll says so
}

/// Runs `body` until it does not fail with EINTR (SwiftNIO's `syscall` in System.swift does the same).
@inline(__always)
public func retryingSyscall(_ name: @autoclosure () -> String, _ body: () -> Int) throws(SystemError) -> IOResult {
    while true {
        let r = body()
        if r >= 0 { return .done(r) }
        let e = konnect_errno()
        if e == EINTR { continue }
        if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
        throw SystemError(name(), errno: e)
    }
}

/// Monotonic clock in nanoseconds (CLOCK_MONOTONIC): deadlines never jump with the wall clock.
@inline(__always)
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Seconds (as configured) to nanoseconds, clamped to ≥ 0.
@inline(__always)
public func nanos(_ seconds: Double) -> UInt64 {
    seconds <= 0 ? 0 : UInt64(seconds * 1_000_000_000)
}

/// Raises the soft RLIMIT_NOFILE to the hard limit (many keep-alive clients need many descriptors).
@discardableResult
public func konnectRaiseOpenFiles() -> Int { Int(konnect_raise_nofile()) }

/// Process memory housekeeping.
public enum Memory {
    /// glibc `malloc_trim(0)`: returns free heap pages of every arena to the kernel (glibc keeps them otherwise).
    public static func trim() { _ = konnect_malloc_trim() }
}
