// The answers every route shares: JSON with the contract's headers, and problem+json for each ChatError.
import Glibc
import HTTP
import Chat

enum APIResponse {
    /// Contract "Conventions": JSON answers are UTF-8 and never cached.
    static func json(_ status: Int, _ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status,
                     headers: HTTPHeaders([("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store")]),
                     body: body)
    }

    static func noContent() -> HTTPResponse {
        HTTPResponse(status: 204, headers: HTTPHeaders([("Cache-Control", "no-store")]))
    }

    static func status(for kind: ChatError.Kind) -> Int {
        switch kind {
        case .invalid: return 400
        case .unauthorized: return 401
        case .forbidden: return 403
        case .notFound: return 404
        case .conflict: return 409
        case .unprocessable: return 422
        case .tooManyRequests: return 429
        case .unavailable: return 503
        }
    }

    /// A domain error as problem+json. RFC 9110 §11.6.1: every 401 carries WWW-Authenticate; RFC 9110 §10.2.3:
    /// 429 and 503 say when to come back.
    static func problem(_ error: ChatError) -> HTTPResponse {
        if let cause = error.cause { ErrorLog.write("\(error.code): \(cause)") }
        let status = status(for: error.kind)
        var extra = HTTPHeaders()
        if status == 401 { extra.add("WWW-Authenticate", "Bearer") }
        if let retry = error.retryAfter { extra.add("Retry-After", String(max(1, retry))) }
        return .problem(status: status, code: error.code, detail: error.detail, headers: extra)
    }

    static func invalid(_ code: String, _ detail: String) -> HTTPResponse {
        .problem(status: 400, code: code, detail: detail)
    }

    static func unauthorized(_ detail: String) -> HTTPResponse {
        .problem(status: 401, code: "unauthorized", detail: detail,
                 headers: HTTPHeaders([("WWW-Authenticate", "Bearer")]))
    }

    static func unsupportedMediaType(_ type: String, accepted: String) -> HTTPResponse {
        .problem(status: 415, code: "unsupported_media_type",
                 detail: "content type '\(type)' is not accepted here; send \(accepted)",
                 headers: HTTPHeaders([("Accept-Post", accepted)]))
    }

    /// Runs `success` on a result, or answers its error.
    static func answer<T>(_ responder: Responder, _ result: Result<T, ChatError>, _ success: (T) -> HTTPResponse) {
        switch result {
        case .success(let value): responder.respond(success(value))
        case .failure(let error): responder.respond(problem(error))
        }
    }
}

/// A request refused before reaching the domain; carries its ready answer.
struct Refusal: Error {
    var response: HTTPResponse
}

extension Result where Failure == Refusal {
    static func refuse(_ response: HTTPResponse) -> Result { .failure(Refusal(response: response)) }
}

/// Causes of 5xx answers, for the operator: one line each on stderr (clients see only a generic detail).
enum ErrorLog {
    static func write(_ line: String) {
        let bytes = Array(("konnect: error: " + line + "\n").utf8)
        bytes.withUnsafeBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
