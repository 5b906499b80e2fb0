// Fair shares of password hashing between client addresses, and a per-address failed-login window (issue 13 #4).
//
// yescrypt is deliberately slow, so whoever queues the most logins decides how long everyone else waits: 200
// connections × 16 pipelined junk logins once made a real login take 53.8 s. Here each address runs at most
// `running` logins or registrations at a time; its next ones wait in its own short line (past that: 503), and an
// address with `failures` failed logins in the window is refused with 429 before any hashing or store write.
// Kept in memory per instance, as the contract keeps rate limits: the store's per-(username, address) throttle
// stays the exact, cross-instance rule.
import Synchronization

/// Admission of logins and registrations per client address.
public final class LoginGate: Sendable {
    public struct Limits: Sendable {
        public var running = 4                 // hashing jobs one address may have in flight
        public var waiting = 32                // more of its jobs held in its line, started as earlier ones finish
        public var failures = 50               // failed logins of one address within `windowMs` before 429
        public var windowMs: Int64 = 15 * 60 * 1000
        public var addresses = 50_000          // addresses tracked at once (each entry holds ≤ `failures` times)
        public init() {}
    }

    /// Called exactly once by an admitted job when it is over; `failed` counts it in the address's window.
    public typealias Done = @Sendable (_ failed: Bool) -> Void

    private struct Entry {
        var running = 0
        var waiting: [@Sendable () -> Void] = []
        var failures: [Int64] = []             // ascending ms, the newest `limits.failures` at most
    }

    public let limits: Limits
    private let clock: @Sendable () -> Timestamp
    private let entries = Mutex<[String: Entry]>([:])

    public init(limits: Limits = Limits(), clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() }) {
        self.limits = limits
        self.clock = clock
    }

    /// Runs `job` now or once the address has a free slot, or refuses it: `too_many_attempts` (with Retry-After)
    /// while the address is over its failure window (only when `throttled`: a login, not a registration),
    /// `unavailable` when its line or the table is full.
    public func admit(address: String, throttled: Bool = true,
                      job: @escaping @Sendable (_ done: @escaping Done) -> Void) -> ChatError? {
        let now = clock().milliseconds
        let done: Done = { [self] failed in finish(address: address, failed: failed) }
        let verdict: ChatError?? = entries.withLock { entries in
            if entries[address] == nil, entries.count >= limits.addresses {
                prune(&entries, now: now)
                if entries.count >= limits.addresses { return .some(.loginsBusy) }
            }
            var entry = entries[address] ?? Entry()
            entry.failures.removeAll { $0 <= now - limits.windowMs }
            defer { entries[address] = entry }
            if throttled, entry.failures.count >= limits.failures {
                let leaves = entry.failures[entry.failures.count - limits.failures] + limits.windowMs
                return .some(.tooManyAttempts(retryAfter: max(1, Int((leaves - now + 999) / 1000))))
            }
            if entry.running < limits.running {
                entry.running += 1
                return .some(nil)              // run now, outside the lock
            }
            guard entry.waiting.count < limits.waiting else { return .some(.loginsBusy) }
            entry.waiting.append { job(done) }
            return .none                       // queued
        }
        switch verdict {
        case .some(.some(let error)): return error
        case .some(.none): job(done)
        case .none: break
        }
        return nil
    }

    /// Addresses tracked now (for tests and /metrics).
    public var trackedAddresses: Int { entries.withLock { $0.count } }

    private func finish(address: String, failed: Bool) {
        let next: (@Sendable () -> Void)? = entries.withLock { entries in
            guard var entry = entries[address] else { return nil }
            if failed {
                entry.failures.append(clock().milliseconds)
                if entry.failures.count > limits.failures { entry.failures.removeFirst(entry.failures.count - limits.failures) }
            }
            var next: (@Sendable () -> Void)?
            if entry.waiting.isEmpty { entry.running -= 1 } else { next = entry.waiting.removeFirst() }
            entries[address] = entry.running == 0 && entry.failures.isEmpty ? nil : entry
            return next
        }
        next?()
    }

    /// Drops addresses with nothing running and no failure left in the window.
    private func prune(_ entries: inout [String: Entry], now: Int64) {
        entries = entries.filter { _, entry in entry.running > 0 || entry.failures.contains { $0 > now - limits.windowMs } }
    }
}

extension ChatError {
    /// Too many logins in progress (this address's line, or the server's hashing queue, is full).
    public static let loginsBusy = ChatError(.unavailable, "unavailable", "too many logins in progress; try again shortly",
                                             retryAfter: 1)
}
