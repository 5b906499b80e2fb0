// A pthread mutex guarding a value: for the rare cross-thread paths (never the loop's fast path).
import Glibc

/// Like Synchronization's `Mutex`, but over pthread_mutex_t, which ThreadSanitizer understands (the futex-based
/// `Mutex` shows up as false data races), so `swift test --sanitize=thread` stays meaningful.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
