// A small blocking HTTP/1.1 client over the project's own sockets: for tests, the CLI and simple tools.
import Transport

public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One persistent connection to `host:port` (reconnects on demand). Not thread-safe: one per thread.
public final class HTTPClient {
    public let host: String
    public let port: Int
    public var timeout: Double   // seconds for connect, and for each response
    var fd: Int32 = -1
    var buffer: [UInt8] = []     // bytes read past the previous response

    /// `url` like `http://127.0.0.1:8080` or `http://[::1]:8080` (http only).
    public convenience init(url: String, timeout: Double = 30) throws {
        let (host, port) = try HTTPClient.parse(url: url)
        self.init(host: host, port: port, timeout: timeout)
    }

    public init(host: String, port: Int, timeout: Double = 30) {
        self.host = host
        self.port = port
        self.timeout = timeout
    }

    deinit { close() }

    /// `http://host[:port][/…]` → (host, port); IPv6 literals in brackets; port 80 by default.
    static func parse(url: String) throws -> (String, Int) {
        guard url.hasPrefix("http://") else { throw HTTPClientError("only http:// URLs are supported: \(url)") }
        var rest = Substring(url.dropFirst(7))
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
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
        var port = 80
        if let portText {
            guard let p = Int(portText), (0...65535).contains(p) else { throw HTTPClientError("bad port in \(url)") }
            port = p
        }
        return (String(host), port)
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
        if fd >= 0 { Socket.close(fd) }
        fd = -1
        buffer.removeAll()
    }
}
