// Serializes a response straight into a connection's output buffer: no intermediate strings, no Foundation.
import Glibc
import Transport

enum ResponseWriter {
    /// Status line, the handler's headers (minus the ones the server owns), Content-Length, Date, Connection, body.
    /// With `includeBody` false the body is left to the caller (sent from its own storage, `Connection.sendTail`).
    static func write(_ response: HTTPResponse, to out: inout ByteBuffer, isHead: Bool, close: Bool,
                      versionMinor: Int, date: DateCache, includeBody: Bool = true) {
        let status = response.status
        out.reserve(160 + (includeBody ? response.body.count : 0))
        appendStatusLine(status, to: &out)
        for field in response.headers.fields where !serverOwned(field.name) {
            out.append(field.name)
            out.append(": " as StaticString)
            out.append(field.value)
            out.append("\r\n" as StaticString)
        }
        // RFC 9110 §8.6: no Content-Length in 1xx or 204; HEAD carries the length the GET body would have.
        let bodyAllowed = status >= 200 && status != 204 && status != 304
        if bodyAllowed {
            out.append("Content-Length: " as StaticString)
            out.appendDecimal(response.body.count)
            out.append("\r\n" as StaticString)
        }
        // Every answer, problems and engine-level errors included: no MIME sniffing (issue 13 item 12).
        out.append("X-Content-Type-Options: nosniff\r\nDate: " as StaticString)
        date.append(to: &out)
        if close {
            out.append("\r\nConnection: close\r\n\r\n" as StaticString)
        } else {
            out.append("\r\nConnection: keep-alive\r\n\r\n" as StaticString)
        }
        if bodyAllowed && !isHead && includeBody { out.append(response.body) }
    }

    /// Bodies at least this large are not copied into the output buffer (issue 13 item 1: 200 clients that never
    /// read a 4.8 MB page held a copy each).
    static let tailThreshold = 32 * 1024

    /// Whether `response` has a body that goes on the wire (RFC 9110 §8.6, §9.3.2) and is large enough to send as a
    /// tail instead of copying it.
    static func sendsBodyAsTail(_ response: HTTPResponse, isHead: Bool) -> Bool {
        let status = response.status
        return !isHead && status >= 200 && status != 204 && status != 304 && response.body.count >= tailThreshold
    }

    static func appendStatusLine(_ status: Int, to out: inout ByteBuffer) {
        switch status {
        case 200: out.append("HTTP/1.1 200 OK\r\n" as StaticString)
        case 201: out.append("HTTP/1.1 201 Created\r\n" as StaticString)
        case 204: out.append("HTTP/1.1 204 No Content\r\n" as StaticString)
        case 400: out.append("HTTP/1.1 400 Bad Request\r\n" as StaticString)
        case 404: out.append("HTTP/1.1 404 Not Found\r\n" as StaticString)
        default:
            out.append("HTTP/1.1 " as StaticString)
            out.appendDecimal(status)
            out.append(32)
            out.append(HTTPStatus.reason(status))
            out.append("\r\n" as StaticString)
        }
    }

    /// Content-Length, Transfer-Encoding, Date and Connection are the server's to write (RFC 9112 §6), and so is
    /// X-Content-Type-Options (always nosniff).
    @inline(__always)
    static func serverOwned(_ name: String) -> Bool {
        let n = name.utf8.count
        guard n == 4 || n == 10 || n == 14 || n == 17 || n == 22 else { return false }
        let lower = name.lowercased()
        return lower == "date" || lower == "connection" || lower == "content-length" || lower == "transfer-encoding"
            || lower == "x-content-type-options"
    }
}
