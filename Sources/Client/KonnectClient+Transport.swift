// How `KonnectClient` turns calls into requests and answers into values or `ClientError`s.
import Foundation
import HTTP

extension KonnectClient {
    struct UserEnvelope: Decodable { var user: APIUser }
    struct RoomEnvelope: Decodable { var room: APIRoom }
    struct RoomsEnvelope: Decodable {
        var rooms: [APIRoom]
        var hasMore: Bool?
        enum CodingKeys: String, CodingKey {
            case rooms
            case hasMore = "has_more"
        }
    }
    struct MessageEnvelope: Decodable { var message: APIMessage }

    struct ProblemBody: Decodable {
        var status: Int?
        var code: String?
        var title: String?
        var detail: String?
    }

    /// Sends a request with an optional JSON body and decodes a 2xx answer as `T`.
    func call<T: Decodable>(_ method: String, _ target: String, json: [String: String]? = nil) throws -> T {
        var body: [UInt8]?
        if let json {
            let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
            body = Array(data)
        }
        let response = try exchange(method, target, body: body)
        do {
            return try JSONDecoder().decode(T.self, from: Data(response.body))
        } catch {
            throw ClientError.badResponse("\(method) \(target) answered \(response.status) with a body that does not decode: \(error)")
        }
    }

    /// One request/response; a non-2xx status becomes `ClientError.problem`, a transport failure `.network`.
    func exchange(_ method: String, _ target: String, body: [UInt8]?) throws -> HTTPResponse {
        var headers: [(String, String)] = [("Accept", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let response: HTTPResponse
        do {
            response = try httpClient.request(method, target, headers: headers, body: body ?? [])
        } catch {
            // The connection may be half-dead now; start the next call on a fresh one.
            httpClient.close()
            throw ClientError.network(String(describing: error))
        }
        lastStatus = response.status
        guard (200..<300).contains(response.status) else { throw ClientError.problem(Self.problem(from: response)) }
        return response
    }

    /// Reads an RFC 9457 body; anything else (a proxy's HTML page, an empty body) still yields status and reason.
    static func problem(from response: HTTPResponse) -> APIProblem {
        let retryAfter = response.headers["Retry-After"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let parsed = try? JSONDecoder().decode(ProblemBody.self, from: Data(response.body))
        let title = parsed?.title ?? HTTPStatus.reason(response.status)
        return APIProblem(status: response.status,
                          code: parsed?.code ?? "http_\(response.status)",
                          title: title,
                          detail: parsed?.detail ?? "\(response.status) \(title)",
                          retryAfter: retryAfter)
    }

    /// One path segment percent-encoded (unreserved characters, `@` and `,` kept: `/rooms/@alice,bob`).
    static func segment(_ value: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~@,")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    /// `?a=b&c=d` with values percent-encoded (only unreserved characters are left as they are, RFC 3986 §2.3).
    static func queryString(_ items: [(String, String)]) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let parts = items.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }
}
