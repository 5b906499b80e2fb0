// What a `KonnectClient` call can fail with: an RFC 9457 problem from the server, or no usable answer at all.
import Foundation

/// An RFC 9457 problem details answer (../shared/API.md "Conventions"): `code` is for programs, `detail` for people.
public struct APIProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var title: String
    public var detail: String
    public var retryAfter: Int?           // seconds, from `Retry-After` (429, 503)

    public init(status: Int, code: String, title: String = "", detail: String, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.retryAfter = retryAfter
    }

    public var description: String { detail.isEmpty ? "\(status) \(code)" : detail }
}

/// Every error a `KonnectClient` call throws.
public enum ClientError: Error, Sendable, CustomStringConvertible {
    case problem(APIProblem)              // the server answered with an error status
    case network(String)                  // no answer: refused, reset, timed out
    case badResponse(String)              // an answer that does not follow the contract
    case invalidServerURL(String)

    public var description: String {
        switch self {
        case .problem(let p): return p.description
        case .network(let why): return "network error: \(why)"
        case .badResponse(let why): return "unexpected answer from the server: \(why)"
        case .invalidServerURL(let url): return "invalid server URL '\(url)' (expected http://HOST:PORT or https://HOST)"
        }
    }

    /// The problem, when the server answered with one.
    public var problem: APIProblem? {
        if case .problem(let p) = self { return p }
        return nil
    }

    /// Worth trying again with the same request: the request may not have arrived, or the server was briefly
    /// unable to answer (a retry with the same client id never duplicates a message: API.md `POST /messages`).
    public var isTransient: Bool {
        switch self {
        case .network: return true
        case .problem(let p): return p.status == 502 || p.status == 503 || p.status == 504
        case .badResponse, .invalidServerURL: return false
        }
    }
}
