// Password hashing with yescrypt through libcrypt, on a small queue of its own: never on the caller's thread.
import CCrypto
import Dispatch
import Synchronization

/// Hashes and verifies passwords with yescrypt (`$y$`, libcrypt). Hashing takes tens of milliseconds at the
/// library's default cost, so every call completes on `queue`, never the caller's thread.
public final class PasswordHasher: Sendable {
    /// yescrypt cost for crypt_gensalt; 0 means libcrypt's default. Tests pass 1 to stay fast.
    public let cost: UInt
    private let queue = DispatchQueue(label: "konnect.password-hasher", qos: .userInitiated, attributes: .concurrent)
    /// A hash of a random password, verified against when the user is unknown, so that costs the same time.
    private let dummy = Mutex<String?>(nil)
    /// Jobs queued or running; past `maxPending` new ones are refused (issue 13 #4: a queue without bound let a
    /// flood of logins delay a real one by a minute). Each running job also holds yescrypt's memory (16 MiB).
    public let maxPending: Int
    private let pending = Atomic<Int>(0)
    private let computed = Atomic<Int>(0)

    public init(cost: UInt = 0, maxPending: Int = 64) {
        self.cost = cost
        self.maxPending = maxPending
        queue.async { [self] in _ = dummyHash() }
    }

    /// Whether a job queued now would be accepted (it may not be, by the time it is).
    public var hasRoom: Bool { pending.load(ordering: .relaxed) < maxPending }

    /// Hashes and verifications run so far, against the dummy too (for tests and /metrics).
    public var hashesComputed: Int { computed.load(ordering: .relaxed) }

    /// A fresh salted hash of `password` (nil when libcrypt refuses), later on the hasher's queue. Answers false,
    /// and never calls `completion`, when `maxPending` jobs are already waiting.
    public func hash(_ password: String, completion: @escaping @Sendable (String?) -> Void) -> Bool {
        enqueue { [self] in
            computed.add(1, ordering: .relaxed)
            completion(hashNow(password))
        }
    }

    /// Whether `password` matches `stored`; with `stored` nil it checks against a dummy hash (same time) and
    /// answers false. Answers false, and never calls `completion`, when the queue is full.
    public func verify(_ password: String, against stored: String?, completion: @escaping @Sendable (Bool) -> Void) -> Bool {
        enqueue { [self] in
            if let stored {
                completion(matches(password, stored))
            } else {
                _ = matches(password, dummyHash() ?? "")
                completion(false)
            }
        }
    }

    private func enqueue(_ work: @escaping @Sendable () -> Void) -> Bool {
        guard pending.add(1, ordering: .relaxed).newValue <= maxPending else {
            pending.subtract(1, ordering: .relaxed)
            return false
        }
        queue.async { [self] in
            defer { pending.subtract(1, ordering: .relaxed) }
            work()
        }
        return true
    }

    /// Synchronous hashing, for the hasher's queue only.
    func hashNow(_ password: String) -> String? {
        var random = [UInt8](repeating: 0, count: 16)
        guard RAND_bytes(&random, Int32(random.count)) == 1 else { return nil }
        var setting = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
        let made = random.withUnsafeBufferPointer { rb in
            rb.withMemoryRebound(to: CChar.self) { rc in
                crypt_gensalt_rn("$y$", cost, rc.baseAddress, Int32(rc.count), &setting, Int32(setting.count))
            }
        }
        guard made != nil else { return nil }
        return Self.crypt(password, setting: setting)
    }

    private func dummyHash() -> String? {
        if let known = dummy.withLock({ $0 }) { return known }
        var random = [UInt8](repeating: 0, count: 24)
        _ = RAND_bytes(&random, Int32(random.count))
        let made = hashNow(random.map { String($0, radix: 16) }.joined())
        dummy.withLock { if $0 == nil { $0 = made } }
        return made
    }

    /// Re-hashes with the stored setting and compares in constant time (CRYPTO_memcmp).
    func matches(_ password: String, _ stored: String) -> Bool {
        computed.add(1, ordering: .relaxed)
        return Self.matches(password, stored)
    }

    static func matches(_ password: String, _ stored: String) -> Bool {
        let setting = Array(stored.utf8CString)
        guard let computed = crypt(password, setting: setting) else { return false }
        let a = Array(computed.utf8)
        let b = Array(stored.utf8)
        guard a.count == b.count, !a.isEmpty else { return false }
        return CRYPTO_memcmp(a, b, a.count) == 0
    }

    private static func crypt(_ password: String, setting: [CChar]) -> String? {
        let size = MemoryLayout<crypt_data>.size
        let data = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer {
            data.initializeMemory(as: UInt8.self, repeating: 0, count: size)  // the password passed through here
            data.deallocate()
        }
        data.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        guard let out = crypt_rn(password, setting, data, Int32(size)) else { return nil }
        let result = String(cString: out)
        // crypt(3) failure tokens start with '*'.
        return result.hasPrefix("*") ? nil : result
    }
}
