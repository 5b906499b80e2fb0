// HTTPClient against the real server (keep-alive, bodies, IPv6, errors) and against a canned chunked responder.
import Dispatch
import XCTest
@testable import HTTP
import Transport

final class HTTPClientTests: XCTestCase {
    func testClientAgainstServerReusesTheConnection() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try HTTPClient(url: "http://127.0.0.1:\(server.port)", timeout: 5)
        for i in 0..<5 {
            let r = try client.request("POST", "/echo", body: Array("n\(i)".utf8))
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "n\(i)")
        }
        XCTAssertEqual(try client.request("GET", "/nope").status, 404, "an error status is a normal response")
        XCTAssertEqual(try client.request("HEAD", "/health").body, [])
        XCTAssertEqual(server.server.openConnections, 1, "one kept-alive connection for all requests")
    }

    func testClientReconnectsAfterServerClosedIdleConnection() throws {
        let server = try TestServer { $0.idleTimeout = 0.2 }
        defer { server.stop() }
        let client = HTTPClient(host: "127.0.0.1", port: server.port, timeout: 5)
        XCTAssertEqual(try client.request("GET", "/health").status, 200)
        XCTAssertTrue(eventually { server.server.openConnections == 0 })
        XCTAssertEqual(try client.request("GET", "/health").status, 200)
    }

    func testIPv6URL() throws {
        let server = try TestServer { $0.host = "::1" }
        defer { server.stop() }
        let client = try HTTPClient(url: "http://[::1]:\(server.port)")
        XCTAssertEqual(client.host, "::1")
        XCTAssertEqual(try client.request("GET", "/health").status, 200)
    }

    func testURLParsing() throws {
        let c = try HTTPClient(url: "http://localhost:8080/x")
        XCTAssertEqual(c.host, "localhost")
        XCTAssertEqual(c.port, 8080)
        XCTAssertEqual(try HTTPClient(url: "http://127.0.0.1").port, 80)
        let secure = try HTTPClient(url: "HTTPS://chat.example.com/path?q")
        XCTAssertEqual(secure.host, "chat.example.com")
        XCTAssertEqual(secure.port, 443)
        XCTAssertEqual(secure.tls, TLSClientOptions())
        XCTAssertNil(try HTTPClient(url: "http://x").tls)
        XCTAssertThrowsError(try HTTPClient(url: "ftp://x"))
        XCTAssertThrowsError(try HTTPClient(url: "http://user@x"))
        XCTAssertThrowsError(try HTTPClient(url: "http://x:0"))
        XCTAssertThrowsError(try HTTPClient(url: "http://[::1:80"))
        XCTAssertThrowsError(try HTTPClient(url: "http://h:99999"))
    }

    func testTimeoutAndRefusedThrowClientError() throws {
        let server = try TestServer()
        let client = HTTPClient(host: "127.0.0.1", port: server.port, timeout: 0.3)
        XCTAssertThrowsError(try client.request("GET", "/park?t=10")) { XCTAssertTrue($0 is HTTPClientError) }
        let port = server.port
        server.stop()
        let refused = HTTPClient(host: "127.0.0.1", port: port, timeout: 1)
        XCTAssertThrowsError(try refused.request("GET", "/health")) { XCTAssertTrue($0 is HTTPClientError) }
    }

    /// A canned server that answers with a chunked body and trailers.
    func testChunkedResponse() throws {
        let fd = try Socket.listen(ip: "127.0.0.1", port: 0, reusePort: false)
        let port = Socket.localAddress(fd).port
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            defer { Socket.close(fd); done.signal() }
            guard Socket.wait(fd, events: 1, until: monotonicNanos() + 5_000_000_000) else { return }
            var peer = SocketAddress()
            guard case .done(let client)? = try? Socket.accept(fd, peer: &peer) else { return }
            var input: [UInt8] = []
            while HTTPClient.findHeadEnd(input) == nil {
                guard (try? Socket.readSome(Int32(client), into: &input, until: monotonicNanos() + 5_000_000_000)) ?? 0 > 0 else { break }
            }
            let answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: 1\r\n\r\n"
            try? Array(answer.utf8).withUnsafeBytes { try Socket.writeAll(Int32(client), $0, until: monotonicNanos() + 5_000_000_000) }
            usleep(100_000)
            Socket.close(Int32(client))
        }
        let client = HTTPClient(host: "127.0.0.1", port: port, timeout: 5)
        let r = try client.request("GET", "/")
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "hello world")
        done.wait()
    }
}
