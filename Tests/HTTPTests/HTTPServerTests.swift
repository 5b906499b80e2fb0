// End-to-end: the real server on 127.0.0.1 port 0 over real sockets — framing, pipelining, errors, HEAD, HTTP/1.0.
import Glibc
import XCTest
@testable import HTTP
import Transport

final class HTTPServerTests: XCTestCase {
    var server: TestServer!

    override func setUpWithError() throws { server = try TestServer() }
    override func tearDown() {
        server?.stop()
        server = nil      // XCTest keeps test-case instances alive: release the server with its loops
    }

    func testThreePipelinedRequestsInOneWriteAreAnsweredInOrder() throws {
        let c = try RawConnection(port: server.port)
        try c.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n"
            + "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
            + "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n")
        let a = try c.readResponse(), b = try c.readResponse(), d = try c.readResponse()
        XCTAssertEqual([a.status, b.status, d.status], [200, 200, 404])
        XCTAssertEqual(a.text, "{\"status\":\"ok\"}")
        XCTAssertEqual(b.text, "abc")
        XCTAssertEqual(a.header("Connection"), "keep-alive")
        XCTAssertNotNil(a.header("Date"))
    }

    /// More pipelined requests than the server reads ahead (it pauses at 16 unanswered): all answered, in order.
    func testDeepPipelineIsAnsweredInOrder() throws {
        let c = try RawConnection(port: server.port)
        var batch = ""
        for i in 0..<200 { batch += "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(String(i).utf8.count)\r\n\r\n\(i)" }
        try c.send(batch)
        for i in 0..<200 { XCTAssertEqual(try c.readResponse().text, "\(i)") }
    }

    /// A client that does not read its 16 MB answer does not stall the loop: another client is served meanwhile,
    /// and the slow one still gets every byte once it reads.
    func testSlowReaderDoesNotStallTheLoop() throws {
        let slow = try RawConnection(port: server.port)
        let size = 16 << 20
        try slow.send("GET /big?n=\(size) HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(200_000)
        let other = try RawConnection(port: server.port)
        try other.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try other.readResponse(timeout: 2).status, 200)
        let big = try slow.readResponse(timeout: 20)
        XCTAssertEqual(big.body.count, size)
        XCTAssertTrue(isPattern(big.body), "every byte arrives, in order")
    }

    func testRequestSplitByteByByte() throws {
        let c = try RawConnection(port: server.port)
        for byte in Array("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello".utf8) {
            try c.send([byte])
            usleep(200)
        }
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.text, "hello")
    }

    func testExpect100ContinueOnlyWhenTheBodyIsWanted() throws {
        let c = try RawConnection(port: server.port)
        try c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 100, "interim answer before the body is sent")
        try c.send("hello")
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.text, "hello")

        let big = try RawConnection(port: server.port)
        try big.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 500\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(try big.readResponse().status, 413, "over the limit: final answer at once, no 100")

        let unknown = try RawConnection(port: server.port)
        try unknown.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: something\r\n\r\n")
        XCTAssertEqual(try unknown.readResponse().status, 417)

        let missing = try RawConnection(port: server.port)
        try missing.send("POST /nope HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(try missing.readResponse().status, 404, "no route: no 100, the 404 at once")
    }

    func testChunkedBody() throws {
        let c = try RawConnection(port: server.port)
        try c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n")
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.text, "hello world")
        try c.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 200, "the connection stays usable after a chunked body")
    }

    func testHeadTooLargeIs431() throws {
        server.stop()
        server = try TestServer { $0.maxHeadBytes = 1024 }
        let c = try RawConnection(port: server.port)
        try c.send("GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + String(repeating: "a", count: 2000) + "\r\n\r\n")
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 431)
        XCTAssertEqual(r.header("Content-Type"), "application/problem+json")
        XCTAssertTrue(c.waitClosed())
    }

    func testBodyOverRouteLimitIs413() throws {
        let c = try RawConnection(port: server.port)
        try c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n")
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 413, "Content-Length over the route's 100 bytes: refused before reading")
        XCTAssertTrue(r.text.contains("\"code\":\"payload_too_large\""))
        XCTAssertTrue(c.waitClosed())

        let chunked = try RawConnection(port: server.port)
        try chunked.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in 0..<3 { try chunked.send("28\r\n" + String(repeating: "x", count: 40) + "\r\n") }
        XCTAssertEqual(try chunked.readResponse().status, 413, "chunked body growing past the limit")
        XCTAssertTrue(chunked.waitClosed())
    }

    func testMalformedRequestGets400AndClose() throws {
        let c = try RawConnection(port: server.port)
        try c.send("GET /health HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 400)
        XCTAssertEqual(r.header("Connection"), "close")
        XCTAssertTrue(r.text.contains("\"code\":\"bad_request\""))
        XCTAssertTrue(c.waitClosed(), "nothing after a malformed request is answered")
        XCTAssertTrue(c.buffer.isEmpty)
    }

    func testNotFoundAndMethodNotAllowedAreProblems() throws {
        let c = try RawConnection(port: server.port)
        try c.send("GET /missing HTTP/1.1\r\nHost: t\r\n\r\nDELETE /health HTTP/1.1\r\nHost: t\r\n\r\n")
        let notFound = try c.readResponse()
        XCTAssertEqual(notFound.status, 404)
        XCTAssertEqual(notFound.header("Content-Type"), "application/problem+json")
        XCTAssertTrue(notFound.text.contains("\"code\":\"not_found\""))
        let notAllowed = try c.readResponse()
        XCTAssertEqual(notAllowed.status, 405)
        XCTAssertEqual(notAllowed.header("Allow"), "GET, HEAD")
        XCTAssertTrue(notAllowed.text.contains("\"code\":\"method_not_allowed\""))
    }

    func testHeadHasTheHeadersButNoBody() throws {
        let c = try RawConnection(port: server.port)
        try c.send("HEAD /health HTTP/1.1\r\nHost: t\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try c.readResponse(isHead: true)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("Content-Length"), "15", "the length the GET body has")
        let get = try c.readResponse()
        XCTAssertEqual(get.text, "{\"status\":\"ok\"}", "no stray HEAD body before the next answer")
    }

    func testHTTP10ClosesUnlessKeepAlive() throws {
        let c = try RawConnection(port: server.port)
        try c.send("GET /health HTTP/1.0\r\n\r\n")
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("Connection"), "close")
        XCTAssertTrue(c.waitClosed())

        let k = try RawConnection(port: server.port)
        try k.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(try k.readResponse().header("Connection"), "keep-alive")
        try k.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(try k.readResponse().status, 200)
    }

    func testConnectionCloseIsHonoured() throws {
        let c = try RawConnection(port: server.port)
        try c.send("GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(try c.readResponse().header("Connection"), "close")
        XCTAssertTrue(c.waitClosed())
    }

    func testPathParametersAndRemoteAddress() throws {
        let c = try RawConnection(port: server.port)
        try c.send("GET /rooms/caf%C3%A9 HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try c.readResponse().text, "café from 127.0.0.1")
    }

    /// RFC 9112 §3.2.2: the absolute-form routes on its path; the query still splits off.
    func testAbsoluteFormTargetIsRoutedOnItsPath() throws {
        let c = try RawConnection(port: server.port)
        try c.send("GET http://t/rooms/x?y=1 HTTP/1.1\r\nHost: t\r\n\r\n"
            + "GET HTTPS://t:8080/health HTTP/1.1\r\nHost: t\r\n\r\n"
            + "GET http://t HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try c.readResponse().text, "x from 127.0.0.1")
        XCTAssertEqual(try c.readResponse().status, 200)
        XCTAssertEqual(try c.readResponse().status, 404, "an empty path is \"/\", which this router does not serve")
    }

    func testConnectionLimitGets503() throws {
        server.stop()
        server = try TestServer { $0.maxConnections = 2 }
        let a = try RawConnection(port: server.port), b = try RawConnection(port: server.port)
        for c in [a, b] {
            try c.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            XCTAssertEqual(try c.readResponse().status, 200)
        }
        let fdsBefore = openFileCount()
        let third = try RawConnection(port: server.port)
        let r = try third.readResponse()
        XCTAssertEqual(r.status, 503)
        XCTAssertEqual(r.header("Retry-After"), "1")
        XCTAssertEqual(r.header("Content-Type"), "application/problem+json")
        XCTAssertTrue(third.waitClosed())
        third.close()
        XCTAssertTrue(eventually { openFileCount() == fdsBefore }, "the rejected socket is closed on the server too")
        XCTAssertEqual(server.server.openConnections, 2)
        a.close()
        XCTAssertTrue(eventually { self.server.server.openConnections == 1 })
        let fourth = try RawConnection(port: server.port)
        try fourth.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try fourth.readResponse().status, 200, "a slot freed up")
    }

    func openFileCount() -> Int {
        guard let dir = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(dir) }
        var n = 0
        while readdir(dir) != nil { n += 1 }
        return n
    }

    func testIPv6Loopback() throws {
        server.stop()
        server = try TestServer { $0.host = "::1" }
        let c = try RawConnection(port: server.port, host: "::1")
        try c.send("GET /rooms/x HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try c.readResponse().text, "x from ::1")
    }
}
