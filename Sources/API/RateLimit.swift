// Posting rate limits (../shared/API.md "Rate limits"): one token bucket per account shared by the posting routes,
// kept per instance, advertised with RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers-09/10).
import Glibc
import HTTP
import Chat
import Synchronization

/// Bursts of `burst` posts, refilled at `rate` a second; `rate` 0 turns limiting off (`konnect serve --post-rate`).
public struct PostRateLimit: Sendable {
    public var burst: Int
    public var rate: Double
    public init(burst: Int = 50, rate: Double = 10) {
        self.burst = burst
        self.rate = rate
    }
    public static let off = PostRateLimit(burst: 0, rate: 0)
    public var isOff: Bool { rate <= 0 || burst <= 0 }
}

/// The buckets, by account (usernames ignoring case). Memory: one small entry per account that posted lately;
/// past `maxAccounts` the full (idle) buckets are dropped, which changes nothing for their accounts, and the
/// next sweep waits until the table has doubled (so a table of busy accounts is not swept on every request).
final class PostLimiter: Sendable {
    enum Verdict: Equatable {
        case allowed(remaining: Int, reset: Int)
        case refused(retryAfter: Int, reset: Int)
    }

    private struct Bucket {
        var tokens: Double
        var at: Double                     // seconds on `clock` when `tokens` was right
    }

    let limit: PostRateLimit
    /// `"post";q=50;w=5`: the quota is the burst, and the window the time the rate takes to refill it.
    let policy: String
    private let clock: @Sendable () -> Double
    private let maxAccounts: Int
    private let table = Mutex<(buckets: [String: Bucket], sweepAt: Int)>(([:], 0))

    init(_ limit: PostRateLimit, maxAccounts: Int = 100_000, clock: @escaping @Sendable () -> Double = PostLimiter.monotonic) {
        self.limit = limit
        self.clock = clock
        self.maxAccounts = maxAccounts
        table.withLock { $0.sweepAt = maxAccounts }
        let window = max(1, Int((Double(limit.burst) / limit.rate).rounded(.up)))
        policy = "\"post\";q=\(limit.burst);w=\(window)"
    }

    /// Takes one token for `account`, or says when the next one comes.
    func take(account: String) -> Verdict {
        let now = clock()
        let burst = Double(limit.burst), rate = limit.rate
        return table.withLock { table in
            if table.buckets[account] == nil, table.buckets.count >= table.sweepAt {
                table.buckets = table.buckets.filter { $0.value.tokens + (now - $0.value.at) * rate < burst }
                table.sweepAt = max(maxAccounts, table.buckets.count * 2)
            }
            var bucket = table.buckets[account] ?? Bucket(tokens: burst, at: now)
            bucket.tokens = min(burst, bucket.tokens + max(0, now - bucket.at) * rate)
            bucket.at = now
            defer { table.buckets[account] = bucket }
            let refused = bucket.tokens < 1
            if !refused { bucket.tokens -= 1 }
            let reset = Int(((burst - bucket.tokens) / rate).rounded(.up))
            if refused { return .refused(retryAfter: max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))), reset: reset) }
            return .allowed(remaining: Int(bucket.tokens), reset: reset)
        }
    }

    /// Accounts with a bucket now (for tests).
    var trackedAccounts: Int { table.withLock { $0.buckets.count } }

    static let monotonic: @Sendable () -> Double = {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Wraps the responder of a limited route: `ChatRoutes.authenticated` takes the caller's token from `limiter` and
/// records the RateLimit fields here, and every answer of the route leaves with them (401s with the policy alone).
final class RateLimitedResponder: Responder, Sendable {
    let inner: Responder
    let limiter: PostLimiter
    private let state = Mutex<String?>(nil)          // the RateLimit field once the account is known

    init(_ inner: Responder, limiter: PostLimiter) {
        self.inner = inner
        self.limiter = limiter
    }

    /// Takes a token for `user`; on refusal answers 429 `rate_limited` and returns false.
    func admit(_ user: User) -> Bool {
        let verdict = limiter.take(account: Validation.usernameKey(user.username))
        switch verdict {
        case .allowed(let remaining, let reset):
            state.withLock { $0 = "\"post\";r=\(remaining);t=\(reset)" }
            return true
        case .refused(let retryAfter, let reset):
            state.withLock { $0 = "\"post\";r=0;t=\(reset)" }
            let burst = limiter.limit.burst, rate = limiter.limit.rate
            let rateText = rate == rate.rounded() ? String(Int(rate)) : String(rate)
            respond(APIResponse.problem(ChatError(.tooManyRequests, "rate_limited",
                "posting too fast: bursts of \(burst), then \(rateText) a second; try again in \(retryAfter) s",
                retryAfter: retryAfter)))
            return false
        }
    }

    func respond(_ response: HTTPResponse) { inner.respond(decorated(response)) }

    func park(timeout: Double, onDeadline: @escaping @Sendable () -> HTTPResponse, onCancel: @escaping @Sendable () -> Void) {
        inner.park(timeout: timeout, onDeadline: { [self] in decorated(onDeadline()) }, onCancel: onCancel)
    }

    private func decorated(_ response: HTTPResponse) -> HTTPResponse {
        var response = response
        response.headers.add("RateLimit-Policy", limiter.policy)
        if let current = state.withLock({ $0 }) { response.headers.add("RateLimit", current) }
        return response
    }
}

extension PostLimiter {
    /// `handler` with its responder wrapped, or `handler` itself when limiting is off.
    static func limited(_ limiter: PostLimiter?, _ handler: @escaping HTTPHandler) -> HTTPHandler {
        guard let limiter else { return handler }
        return { request, responder in handler(request, RateLimitedResponder(responder, limiter: limiter)) }
    }
}
