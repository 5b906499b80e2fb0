// End-to-end: parked requests answered from another thread, at their deadline, on hang-up, and at shutdown.
import Dispatch
import XCTest
@testable import HTTP
import Transport

final class HTTPServerParkTests: XCTestCase {
    func testParkedRequestAnsweredFromAnotherThread() throws {
        let server = try TestServer()
        defer { server.stop() }
        let c = try RawConnection(port: server.port)
        try c.send("GET /park?t=10 HTTP/1.1\r\nHost: t\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(eventually { server.server.parkedRequests == 1 })
        let responder = try XCTUnwrap(server.parked.take())
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) {
            responder.respond(HTTPResponse(status: 201, contentType: "text/plain", body: "later"))
            responder.respond(HTTPResponse(status: 500))   // the first answer wins
        }
        let first = try c.readResponse()
        XCTAssertEqual(first.status, 201)
        XCTAssertEqual(first.text, "later")
        XCTAssertEqual(try c.readResponse().status, 200, "the pipelined request waited for the parked one")
        XCTAssertTrue(eventually { server.server.parkedRequests == 0 })
    }

    func testParkedRequestHitsItsDeadline() throws {
        let server = try TestServer()
        defer { server.stop() }
        let c = try RawConnection(port: server.port)
        let start = monotonicNanos()
        try c.send("GET /park?t=0.3 HTTP/1.1\r\nHost: t\r\n\r\n")
        let r = try c.readResponse()
        XCTAssertEqual(r.text, "deadline")
        XCTAssertGreaterThan(Double(monotonicNanos() - start) / 1e9, 0.25)
        XCTAssertEqual(server.server.parkedRequests, 0)
        server.parked.take()?.respond(HTTPResponse(status: 500))   // too late: ignored
        try c.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 200)
    }

    func testClientHangUpCancelsParkedRequest() throws {
        let server = try TestServer()
        defer { server.stop() }
        let c = try RawConnection(port: server.port)
        try c.send("GET /park?t=30 HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(eventually { server.server.parkedRequests == 1 })
        c.close()
        XCTAssertTrue(eventually(2) { server.parked.cancels.load(ordering: .relaxed) == 1 }, "onCancel called at once")
        XCTAssertEqual(server.server.parkedRequests, 0)
        XCTAssertTrue(eventually { server.server.openConnections == 0 })
        server.parked.take()?.respond(HTTPResponse(status: 200))     // answering a cancelled request is harmless
    }

    func testShutdownAnswersEveryParkedRequestAtOnce() throws {
        let server = try TestServer(loops: 2)
        let clients = try (0..<4).map { _ in try RawConnection(port: server.port) }
        for c in clients { try c.send("GET /park?t=30 HTTP/1.1\r\nHost: t\r\n\r\n") }
        XCTAssertTrue(eventually { server.server.parkedRequests == 4 })
        let start = monotonicNanos()
        let stopped = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { server.stop(); stopped.signal() }
        for c in clients {
            let r = try c.readResponse(timeout: 3)
            XCTAssertEqual(r.text, "deadline")
            XCTAssertEqual(r.header("Connection"), "close")
        }
        XCTAssertEqual(stopped.wait(timeout: .now() + 3), .success, "shutdown returns once all is answered")
        XCTAssertLessThan(Double(monotonicNanos() - start) / 1e9, 2.0, "answered at once, not at the 30 s deadline")
        XCTAssertEqual(server.server.parkedRequests, 0)
    }
}
