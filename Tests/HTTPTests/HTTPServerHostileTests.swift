// End-to-end, issue 13: half-closed clients, slow readers, slow bodies, early answers, clients that never read,
// chunk-line grammar, and the small HTTP fixes (nosniff, HTTP/1.2, OPTIONS *). Real server, port 0.
import Glibc
import XCTest
@testable import HTTP
import Transport

final class HTTPServerHostileTests: XCTestCase {
    var server: TestServer!

    override func tearDown() {
        server?.stop()
        server = nil
    }

    // MARK: item 5, half-close

    /// `shutdown(SHUT_WR)` after the request (nc -N, some proxies): the answer of a handler still busy when the
    /// EOF arrives is written, then the server closes.
    func testHalfClosedClientStillGetsItsAnswers() throws {
        server = try TestServer()
        let c = try RawConnection(port: server.port)
        try c.send("POST /later?ms=200 HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi"
            + "GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        Socket.shutdownWrite(c.fd)
        let first = try c.readResponse()
        XCTAssertEqual(first.status, 201)
        XCTAssertEqual(first.text, "hi")
        XCTAssertEqual(try c.readResponse().status, 200, "pipelined after the busy one")
        XCTAssertTrue(c.waitClosed(), "closed once the answers are written")
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 })
    }

    /// A half-close in the middle of a request: nothing can complete it, the connection closes at once.
    func testHalfCloseInsideABodyCloses() throws {
        server = try TestServer()
        let c = try RawConnection(port: server.port)
        try c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        Socket.shutdownWrite(c.fd)
        XCTAssertTrue(c.waitClosed(timeout: 2))
    }

    // MARK: item 6, slow readers

    /// A client reading a large answer slowly but steadily, for longer than the idle timeout, gets all of it: each
    /// write that makes progress moves the deadline.
    func testSteadySlowReaderIsNotCutMidBody() throws {
        server = try TestServer { $0.idleTimeout = 0.3 }
        let c = try RawConnection(port: server.port)
        _ = Socket.setOption(c.fd, SOL_SOCKET, SO_RCVBUF, 16 * 1024)
        let size = 8 << 20
        try c.send("GET /big?n=\(size) HTTP/1.1\r\nHost: t\r\n\r\n")
        var got = 0
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        let start = monotonicNanos()
        var headSkipped = false
        while got < size {
            usleep(10_000)   // a few MB/s with a 16 KiB receive buffer: 8 MB takes well over the 0.3 s idle timeout
            let n = chunk.withUnsafeMutableBytes { Glibc.recv(c.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n == 0 { break }
            if n < 0 { continue }
            var count = n
            if !headSkipped {
                let bytes = Array(chunk[0..<n])
                guard let end = HTTPClient.findHeadEnd(bytes) else { XCTFail("head in one read"); return }
                count -= end
                headSkipped = true
            }
            got += count
        }
        XCTAssertEqual(got, size, "the whole body, after \(Double(monotonicNanos() - start) / 1e9) s")
        XCTAssertGreaterThan(Double(monotonicNanos() - start) / 1e9, 0.9, "slower than the idle timeout")
    }

    // MARK: item 2, slow bodies and early answers

    /// A body that stops arriving gets 408 after the head timeout without progress, like a slow head.
    func testStalledBodyGets408() throws {
        server = try TestServer { $0.headTimeout = 0.5; $0.idleTimeout = 30 }
        let c = try RawConnection(port: server.port)
        try c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 50\r\n\r\n0123456789")
        let r = try c.readResponse(timeout: 3)
        XCTAssertEqual(r.status, 408)
        XCTAssertTrue(r.text.contains("body"))
        XCTAssertTrue(c.waitClosed())
    }

    /// A body that keeps coming, slowly, is not cut: each read that brings bytes moves the body deadline.
    func testSlowButSteadyBodyIsRead() throws {
        server = try TestServer { $0.headTimeout = 0.4 }
        let c = try RawConnection(port: server.port)
        try c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 8\r\n\r\n")
        for byte in Array("abcdefgh".utf8) {
            usleep(150_000)    // 1.2 s in all, three times the timeout
            try c.send([byte])
        }
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.text, "abcdefgh")
    }

    /// The route's head check answers 401 before the body is read; the client, still sending its body, reads the
    /// answer (lingering close, not a reset), and the body was never buffered.
    func testHeadCheckAnswersBeforeTheBodyWithLingeringClose() throws {
        server = try TestServer()
        let c = try RawConnection(port: server.port)
        let size = 600_000
        try c.send("POST /secret HTTP/1.1\r\nHost: t\r\nContent-Length: \(size)\r\n\r\n")
        let r = try c.readResponse(timeout: 2)
        XCTAssertEqual(r.status, 401, "answered before any body byte")
        XCTAssertEqual(r.header("Connection"), "close")
        try c.send([UInt8](repeating: 120, count: size))    // the client sends its body anyway: no reset
        XCTAssertTrue(c.waitClosed())

        let authorized = try RawConnection(port: server.port)
        try authorized.send("POST /secret HTTP/1.1\r\nHost: t\r\nAuthorization: x\r\nContent-Length: 3\r\n\r\nabc")
        XCTAssertEqual(try authorized.readResponse().text, "3")
    }

    /// Past the server-wide budget for bodies being received, a new body is refused (503, Retry-After) before it is
    /// read; the budget returns as bodies complete.
    func testBodiesInProgressHaveAServerWideBudget() throws {
        server = try TestServer { $0.maxBufferedBodies = 1000 }
        let slow = try RawConnection(port: server.port)
        try slow.send("POST /secret HTTP/1.1\r\nHost: t\r\nAuthorization: x\r\nContent-Length: 5000\r\n\r\n"
            + String(repeating: "a", count: 2000))
        XCTAssertTrue(eventually { self.server.server.bufferedBodyBytes >= 5000 })
        let refused = try RawConnection(port: server.port)
        try refused.send("POST /secret HTTP/1.1\r\nHost: t\r\nAuthorization: x\r\nContent-Length: 3\r\n\r\nabc")
        let r = try refused.readResponse()
        XCTAssertEqual(r.status, 503)
        XCTAssertEqual(r.header("Retry-After"), "1")
        try slow.send(String(repeating: "a", count: 3000))
        XCTAssertEqual(try slow.readResponse().text, "5000")
        XCTAssertEqual(server.server.bufferedBodyBytes, 0)
        let later = try RawConnection(port: server.port)
        try later.send("POST /secret HTTP/1.1\r\nHost: t\r\nAuthorization: x\r\nContent-Length: 3\r\n\r\nabc")
        XCTAssertEqual(try later.readResponse().status, 200)
    }

    // MARK: item 1, clients that never read

    /// 16 pipelined 4 MB answers to a client that never reads: no copy of a large body is queued (it is sent from
    /// the handler's array), and later answers wait unserialized. Everything is released when the client leaves.
    func testNeverReadingClientQueuesNoCopyOfLargeAnswers() throws {
        server = try TestServer()
        let c = try RawConnection(port: server.port)
        _ = Socket.setOption(c.fd, SOL_SOCKET, SO_RCVBUF, 4096)
        var batch = ""
        for _ in 0..<16 { batch += "GET /big?n=\(4 << 20) HTTP/1.1\r\nHost: t\r\n\r\n" }
        try c.send(batch)
        usleep(500_000)
        XCTAssertLessThan(server.server.queuedOutputBytes, 64 * 1024, "headers only, no body copies")
        c.close()
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 })
        XCTAssertEqual(server.server.queuedOutputBytes, 0)
    }

    /// Large answers held for clients that never read count against their own budget (the arrays may not be
    /// shared): past it, the connection holding them is closed, and the count returns to 0.
    func testHeldLargeAnswersHaveAServerWideBudget() throws {
        server = try TestServer { $0.maxHeldAnswerBytes = 8 << 20 }
        var batch = ""
        for _ in 0..<16 { batch += "GET /big?n=\(2 << 20)&ms=10 HTTP/1.1\r\nHost: t\r\n\r\n" }   // 16 in flight
        var clients: [RawConnection] = []
        for _ in 0..<4 {
            let c = try RawConnection(port: server.port)
            _ = Socket.setOption(c.fd, SOL_SOCKET, SO_RCVBUF, 4096)
            try c.send(batch)
            clients.append(c)
        }
        XCTAssertTrue(eventually { self.server.server.outputBudgetCloses >= 3 }, "each holds 32 MB of answers")
        XCTAssertTrue(eventually { self.server.server.heldAnswerBytes <= (8 << 20) + (32 << 20) })
        for c in clients { c.close() }
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 })
        XCTAssertEqual(server.server.heldAnswerBytes, 0)
    }

    /// Many small answers to a client that never reads: serializing and reading stop at the per-connection bound
    /// (256 KiB), and past the server-wide budget the connection that cannot send its full buffer is closed.
    func testNeverReadingClientsAreBoundedPerConnectionAndServerWide() throws {
        server = try TestServer { $0.maxQueuedOutput = 1 << 20 }
        var batch = ""
        for _ in 0..<400 { batch += "GET /big?n=20000 HTTP/1.1\r\nHost: t\r\n\r\n" }   // 8 MB of answers each
        let first = try RawConnection(port: server.port)
        _ = Socket.setOption(first.fd, SOL_SOCKET, SO_RCVBUF, 4096)
        try first.send(batch)
        XCTAssertTrue(eventually { self.server.server.queuedOutputBytes > 0 })
        usleep(300_000)
        XCTAssertLessThanOrEqual(server.server.queuedOutputBytes, 512 * 1024, "one connection: its bound, no more")
        var others: [RawConnection] = []
        for _ in 0..<6 {
            let c = try RawConnection(port: server.port)
            _ = Socket.setOption(c.fd, SOL_SOCKET, SO_RCVBUF, 4096)
            try c.send(batch)
            others.append(c)
        }
        XCTAssertTrue(eventually { self.server.server.outputBudgetCloses > 0 }, "past 1 MiB, the greedy are closed")
        XCTAssertLessThanOrEqual(server.server.queuedOutputBytes, (1 << 20) + 512 * 1024)
        first.close()
        for c in others { c.close() }
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 })
        XCTAssertEqual(server.server.queuedOutputBytes, 0, "all output memory returned")
    }

    /// A client trickling its head (slowloris) holds a buffer the size of what it sent, not a read-sized one: reads
    /// go to the loop's scratch buffer (3,000 such clients cost 56 MB before).
    func testTrickledHeadHoldsASmallBuffer() throws {
        server = try TestServer()
        let c = try RawConnection(port: server.port)
        try c.send("GET /health HTTP/1.1\r\nHost: t\r\n")
        let context = server.server.loops[0]
        XCTAssertTrue(eventually { context.connections.first?.headStarted == true })   // racy read, test only
        let capacity = Locked<Int>(-1)
        context.loop.execute { capacity.withLock { $0 = context.connections.first?.conn.input.capacity ?? -2 } }
        XCTAssertTrue(eventually { capacity.withLock { $0 } != -1 })
        XCTAssertLessThanOrEqual(capacity.withLock { $0 }, 1024)
        try c.send("\r\n")
        XCTAssertEqual(try c.readResponse().status, 200)
    }

    // MARK: item 8, chunk lines

    func testMalformedChunkLinesGet400AndClose() throws {
        server = try TestServer()
        for (line, data) in [("1 junk", "x"), ("2;", "xx"), ("1;a=\"b", "x"), ("1 ", "x")] {
            let c = try RawConnection(port: server.port)
            try c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\(line)\r\n\(data)\r\n0\r\n\r\n")
            XCTAssertEqual(try c.readResponse().status, 400, line)
            XCTAssertTrue(c.waitClosed(), line)
        }
        let c = try RawConnection(port: server.port)
        try c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nNoColon\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 400, "trailer line without a colon")
        XCTAssertTrue(c.waitClosed())
    }

    // MARK: item 12, HTTP parts

    func testEveryAnswerSaysNosniff() throws {
        server = try TestServer { $0.headTimeout = 0.3 }
        let c = try RawConnection(port: server.port)
        try c.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\nGET /nope HTTP/1.1\r\nHost: t\r\n\r\n"
            + "DELETE /health HTTP/1.1\r\nHost: t\r\n\r\n")
        for _ in 0..<3 { XCTAssertEqual(try c.readResponse().header("X-Content-Type-Options"), "nosniff") }
        let bad = try RawConnection(port: server.port)
        try bad.send("GET /health HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n")
        XCTAssertEqual(try bad.readResponse().header("X-Content-Type-Options"), "nosniff", "a 400 from the parser")
        let slow = try RawConnection(port: server.port)
        try slow.send("GET /health HTTP/1.1\r\n")
        let timeout = try slow.readResponse(timeout: 2)
        XCTAssertEqual(timeout.status, 408)
        XCTAssertEqual(timeout.header("X-Content-Type-Options"), "nosniff", "an engine-level 408")
    }

    func testHTTP12IsHandledAsHTTP11() throws {
        server = try TestServer()
        let c = try RawConnection(port: server.port)
        try c.send("GET /health HTTP/1.2\r\nHost: t\r\n\r\nGET /health HTTP/1.2\r\nHost: t\r\n\r\n")
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("Connection"), "keep-alive", "persistent, as HTTP/1.1")
        XCTAssertEqual(try c.readResponse().status, 200)
        let two = try RawConnection(port: server.port)
        try two.send("GET /health HTTP/2.0\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try two.readResponse().status, 505, "another major version is still refused")
    }

    func testOptionsAsteriskIsAnswered() throws {
        server = try TestServer()
        let c = try RawConnection(port: server.port)
        try c.send("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\nGET * HTTP/1.1\r\nHost: t\r\n\r\n")
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 204)
        let allow = r.header("Allow") ?? ""
        for method in ["GET", "HEAD", "POST", "OPTIONS"] { XCTAssertTrue(allow.contains(method), allow) }
        XCTAssertEqual(try c.readResponse().status, 400, "the asterisk form is for OPTIONS only")
    }
}
