// ClientResponseParser: a table of answers, each fed whole and one byte at a time (picohttpparser's test style).
import XCTest
@testable import HTTP
import Transport

final class ClientResponseParserTests: XCTestCase {
    struct Case {
        var bytes: String
        var head = false                    // the request was HEAD
        var status: Int? = nil              // nil: must be an error
        var body = ""
        var keepAlive = true
        var rest = ""                       // bytes left for the next answer
        var why: String
    }

    let cases: [Case] = [
        Case(bytes: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", status: 200, body: "hello", why: "Content-Length"),
        Case(bytes: "HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nokHTTP/1.1", status: 201, body: "ok", rest: "HTTP/1.1",
             why: "lower-case field name; a pipelined next answer stays in the buffer"),
        Case(bytes: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", status: 200,
             body: "abcde", why: "chunked (RFC 9112 §7.1)"),
        Case(bytes: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n1\r\nx\r\n0\r\n\r\n", status: 200,
             body: "x", why: "chunked beats Content-Length (RFC 9112 §6.3)"),
        Case(bytes: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!", status: 200, body: "!",
             why: "1xx interim answers are skipped"),
        Case(bytes: "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", status: 204, why: "204 has no body"),
        Case(bytes: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", head: true, status: 200, why: "HEAD has no body"),
        Case(bytes: "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", status: 503,
             keepAlive: false, why: "Connection: close"),
        Case(bytes: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\na", status: 200, body: "a", keepAlive: false,
             why: "HTTP/1.0 closes by default"),
        Case(bytes: "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\na", status: 200, body: "a",
             why: "HTTP/1.0 keep-alive on request"),
        Case(bytes: "HTTP/1.1 2x0 OK\r\n\r\n", why: "bad status code"),
        Case(bytes: "SIP/2.0 200 OK\r\n\r\n", why: "not HTTP/1.x"),
        Case(bytes: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", why: "negative Content-Length"),
        Case(bytes: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", why: "bad chunk size"),
    ]

    func testTableWhole() {
        for c in cases { check(c, pieces: [Array(c.bytes.utf8)]) }
    }

    func testTableByteByByte() {
        for c in cases { check(c, pieces: Array(c.bytes.utf8).map { [$0] }) }
    }

    func check(_ c: Case, pieces: [[UInt8]]) {
        var parser = ClientResponseParser(isHead: c.head)
        var buffer = ByteBuffer()
        defer { buffer.free() }
        var outcome: ClientParseResult = .incomplete
        for piece in pieces {
            buffer.append(piece)
            outcome = parser.parse(&buffer)
            if case .incomplete = outcome { continue }
            break
        }
        switch outcome {
        case .complete(let response):
            XCTAssertEqual(response.status, c.status, c.why)
            XCTAssertEqual(String(decoding: response.body, as: UTF8.self), c.body, c.why)
            XCTAssertEqual(response.keepAlive, c.keepAlive, c.why)
            if pieces.count == 1 { XCTAssertEqual(String(decoding: Array(buffer.readable), as: UTF8.self), c.rest, c.why) }
        case .error:
            XCTAssertNil(c.status, "\(c.why): unexpected error")
        case .incomplete:
            XCTFail("\(c.why): still incomplete after every byte")
        }
    }

    func testBodyUntilCloseIsCompleteAtEndOfStream() {
        var parser = ClientResponseParser()
        var buffer = ByteBuffer()
        defer { buffer.free() }
        buffer.append("HTTP/1.1 200 OK\r\n\r\nall of it")
        guard case .incomplete = parser.parse(&buffer) else { return XCTFail("no length: the body runs to the close") }
        let response = parser.finishAtClose(&buffer)
        XCTAssertEqual(response.map { String(decoding: $0.body, as: UTF8.self) }, "all of it")
        XCTAssertEqual(response?.keepAlive, false)
    }

    func testHeadersAreParsedOnDemand() {
        var parser = ClientResponseParser()
        var buffer = ByteBuffer()
        defer { buffer.free() }
        buffer.append("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 0\r\n\r\n")
        guard case .complete(let response) = parser.parse(&buffer) else { return XCTFail("complete answer") }
        XCTAssertEqual(response.headers["www-authenticate"], "Bearer")
    }
}
