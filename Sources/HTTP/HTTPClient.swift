// A small blocking HTTP/1.1 client over the project's own sockets: for tests, the CLI and simple tools.
// INTERFACE STUB — the engine issue replaces the bodies.

public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One persistent connection to `host:port` (reconnects on demand). Not thread-safe: one per thread.
public final class HTTPClient {
    public let host: String
    public let port: Int
    public var timeout: Double   // seconds for connect, and for each response

    /// `url` like `http://127.0.0.1:8080` or `http://[::1]:8080` (http only).
    public convenience init(url: String, timeout: Double = 30) throws {
        fatalError("HTTPClient: engine not implemented yet")
    }

    public init(host: String, port: Int, timeout: Double = 30) {
        self.host = host
        self.port = port
        self.timeout = timeout
    }

    /// Sends one request and reads its whole response. Adds Host and Content-Length. Throws on network failure
    /// or timeout (an HTTP error status is a normal response).
    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        fatalError("HTTPClient: engine not implemented yet")
    }

    /// Convenience: `send` with method, target, headers and body.
    public func request(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = []) throws -> HTTPResponse {
        try send(HTTPRequest(method: method, target: target, headers: HTTPHeaders(headers), body: body))
    }

    public func close() {}
}
