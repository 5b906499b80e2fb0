// A small blocking HTTP/1.1 client over the project's own sockets: for tests, the CLI and simple tools.
import Transport

public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One persistent connection to `host:port`, plain or TLS (reconnects on demand). Not thread-safe: one per thread.
public final class HTTPClient {
    public let host: String
    public let port: Int
    public let tls: TLSClientOptions?    // nil: plain HTTP
    public var timeout: Double   // seconds for connect, and for each response
    var fd: Int32 = -1
    var stream: TLSClientStream?  // the TLS session on `fd`, when `tls` is set
    var buffer: [UInt8] = []     // bytes read past the previous response

    /// `url` like `http://127.0.0.1:8080`, `http://[::1]:8080` or `https://chat.example.com`; `tls` applies to
    /// https URLs (default: the system's CA store, host name checked).
    public convenience init(url: String, timeout: Double = 30, tls: TLSClientOptions = TLSClientOptions()) throws {
        let parsed = try HTTPClient.parse(url: url)
        self.init(host: parsed.host, port: parsed.port, timeout: timeout, tls: parsed.secure ? tls : nil)
    }

    public init(host: String, port: Int, timeout: Double = 30, tls: TLSClientOptions? = nil) {
        self.host = host
        self.port = port
        self.timeout = timeout
        self.tls = tls
    }

    deinit { close() }

    /// `http[s]://host[:port][/…]` → (https?, host, port); IPv6 literals in brackets; ports 80 and 443 by default.
    public static func parse(url: String) throws -> (secure: Bool, host: String, port: Int) {
        let lower = url.lowercased()
        let secure = lower.hasPrefix("https://")
        guard secure || lower.hasPrefix("http://") else { throw HTTPClientError("only http:// and https:// URLs are supported: \(url)") }
        var rest = Substring(url.dropFirst(secure ? 8 : 7))
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<slash] }
        if rest.contains("@") { throw HTTPClientError("user information in URLs is not supported: \(url)") }
        var host: Substring
        var portText: Substring? = nil
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw HTTPClientError("bad IPv6 literal in \(url)") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw HTTPClientError("bad URL \(url)") }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw HTTPClientError("no host in \(url)") }
        var port = secure ? 443 : 80
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { throw HTTPClientError("bad port in \(url)") }
            port = p
        }
        return (secure, String(host), port)
    }

    /// Sends one request and reads its whole response. Adds Host and Content-Length. Throws on network failure
    /// or timeout (an HTTP error status is a normal response).
    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        let reused = fd >= 0
        do {
            return try exchange(request)
        } catch let error as ReusedConnectionClosed where reused {
            _ = error
            close()                              // the server closed the idle connection: retry once, fresh
            do { return try exchange(request) } catch let e as ReusedConnectionClosed { throw HTTPClientError(e.description) }
        } catch let e as ReusedConnectionClosed {
            throw HTTPClientError(e.description)
        }
    }

    /// Convenience: `send` with method, target, headers and body.
    public func request(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = []) throws -> HTTPResponse {
        try send(HTTPRequest(method: method, target: target, headers: HTTPHeaders(headers), body: body))
    }

    public func close() {
        stream?.shutdown()
        stream = nil
        if fd >= 0 { Socket.close(fd) }
        fd = -1
        buffer.removeAll()
    }
}
