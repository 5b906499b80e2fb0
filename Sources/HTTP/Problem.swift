// RFC 9457 problem details: the one error shape every layer answers with.

extension HTTPResponse {
    /// `{"type":"about:blank","title":…,"status":…,"detail":…,"code":…}` as `application/problem+json`.
    public static func problem(status: Int, code: String, detail: String, headers extra: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        let body = "{\"type\":\"about:blank\",\"title\":\(jsonString(HTTPStatus.reason(status))),\"status\":\(status),"
            + "\"detail\":\(jsonString(detail)),\"code\":\(jsonString(code))}\n"   // ends in a newline, as every JSON answer
        var headers = HTTPHeaders([("Content-Type", "application/problem+json"), ("Cache-Control", "no-store")])
        for field in extra { headers.set(field.name, field.value) }
        return HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
    }
}

/// Escapes a string as a JSON string literal (RFC 8259 §7).
public func jsonString(_ s: String) -> String {
    var out = "\""
    out.reserveCapacity(s.utf8.count + 2)
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{2028}": out += "\\u2028"
        case "\u{2029}": out += "\\u2029"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    out += "\""
    return out
}

public enum HTTPStatus {
    public static func reason(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 204: return "No Content"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 411: return "Length Required"
        case 413: return "Content Too Large"
        case 415: return "Unsupported Media Type"
        case 417: return "Expectation Failed"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }
}
