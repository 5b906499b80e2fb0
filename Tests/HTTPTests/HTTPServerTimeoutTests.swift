// End-to-end: idle keep-alive and slow-head timeouts (configured short), and graceful shutdown.
import XCTest
@testable import HTTP
import Transport

final class HTTPServerTimeoutTests: XCTestCase {
    func testIdleKeepAliveTimeout() throws {
        let server = try TestServer { $0.idleTimeout = 0.5 }
        defer { server.stop() }
        let c = try RawConnection(port: server.port)
        try c.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 200)
        let start = monotonicNanos()
        XCTAssertTrue(c.waitClosed(timeout: 5))
        let waited = Double(monotonicNanos() - start) / 1e9
        XCTAssertGreaterThan(waited, 0.3, "not closed before the idle timeout")
        XCTAssertEqual(server.server.openConnections, 0)
    }

    func testSlowHeadIsCutOff() throws {
        let server = try TestServer { $0.headTimeout = 0.5 }
        defer { server.stop() }
        let c = try RawConnection(port: server.port)
        try c.send("GET /health HTTP/1.1\r\nHost: t\r\n")   // never finished
        let r = try c.readResponse(timeout: 5)
        XCTAssertEqual(r.status, 408)
        XCTAssertTrue(c.waitClosed())

        let silent = try RawConnection(port: server.port)  // sends nothing at all
        XCTAssertTrue(silent.waitClosed(timeout: 5))
        XCTAssertTrue(silent.buffer.isEmpty)
    }

    /// The head timeout runs from the first byte of each head, not from the connection's start.
    func testHeadTimeoutRestartsPerRequest() throws {
        let server = try TestServer { $0.headTimeout = 0.6; $0.idleTimeout = 5 }
        defer { server.stop() }
        let c = try RawConnection(port: server.port)
        for _ in 0..<3 {
            try c.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            XCTAssertEqual(try c.readResponse().status, 200)
            usleep(300_000)
        }
    }

    func testShutdownClosesIdleConnectionsAndStops() throws {
        let server = try TestServer()
        let c = try RawConnection(port: server.port)
        try c.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 200)
        server.stop()
        XCTAssertTrue(c.waitClosed(timeout: 2))
        XCTAssertThrowsError(try RawConnection(port: server.port).readResponse(timeout: 1), "no longer accepting")
    }
}
