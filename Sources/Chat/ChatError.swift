// Every failure the domain reports, with the contract's stable `code`. The API maps each to an HTTP status.

public struct ChatError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case invalid          // 400
        case unauthorized     // 401
        case forbidden        // 403
        case notFound         // 404
        case conflict         // 409
        case unprocessable    // 422
        case tooManyRequests  // 429
        case unavailable      // 503 (the store does not answer)
    }

    public var kind: Kind
    public var code: String          // stable snake_case, e.g. "username_taken"
    public var detail: String        // for people
    public var retryAfter: Int?      // seconds, with tooManyRequests and unavailable
    public var cause: String?        // for the operator's log only, never sent (e.g. "sqlite error 13: …")

    public init(_ kind: Kind, _ code: String, _ detail: String, retryAfter: Int? = nil, cause: String? = nil) {
        self.kind = kind
        self.code = code
        self.detail = detail
        self.retryAfter = retryAfter
        self.cause = cause
    }

    public var description: String { "\(code): \(detail)" + (cause.map { " (\($0))" } ?? "") }
}
