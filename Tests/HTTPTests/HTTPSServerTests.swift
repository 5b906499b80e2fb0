// The engine speaking HTTPS (issue 12, `konnect serve --tls-cert --tls-key`): OpenSSL on the same event loops, with
// certificates made at test time; the project's own HTTPClient (checked against the test CA) as the client.
import Dispatch
import Foundation
import XCTest
@testable import HTTP
import Transport

final class HTTPSServerTests: XCTestCase {
    private var certificates: TestCertificates!
    private var server: TestServer!

    override func setUpWithError() throws {
        try XCTSkipUnless(TestCertificates.available, "no /usr/bin/openssl on this machine (apt-get install openssl)")
        certificates = try TestCertificates()
        let leaf = try certificates.leaf(named: "server", dns: ["localhost"], ips: ["127.0.0.1"])
        let context = try TLSServerContext(certificateFile: leaf.cert, keyFile: leaf.key)
        server = try TestServer(loops: 2) { $0.tls = context }
    }

    override func tearDown() {
        server?.stop()
        certificates?.remove()
    }

    private func client(timeout: Double = 10) throws -> HTTPClient {
        try HTTPClient(url: "https://localhost:\(server.port)", timeout: timeout, tls: TLSClientOptions(caFile: certificates.caFile))
    }

    func testRequestsOnOneKeptAliveTLSConnection() throws {
        let c = try client()
        for i in 0..<20 {
            let r = try c.request("POST", "/echo", body: Array("n\(i)".utf8))
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "n\(i)")
            XCTAssertEqual(r.headers["X-Content-Type-Options"], "nosniff")
        }
        XCTAssertEqual(server.server.openConnections, 1, "one handshake, one connection")
    }

    func testLargeAnswersAndAnswersFromOtherThreadsGoOutWhole() throws {
        let c = try client(timeout: 30)
        for (size, delay) in [(5 << 20, ""), (300_000, "&ms=20"), (1, "")] {
            let r = try c.request("GET", "/big?n=\(size)\(delay)")
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.body.count, size)
            XCTAssertTrue(isPattern(r.body), "body of \(size) bytes intact")
        }
    }

    func testParkedRequestIsAnsweredOverTLS() throws {
        let c = try client()
        let answer = Locked<HTTPResponse?>(nil)
        let done = DispatchSemaphore(value: 0)
        let port = server.port, ca = certificates.caFile
        Thread {
            let parked = try? HTTPClient(url: "https://localhost:\(port)", timeout: 10, tls: TLSClientOptions(caFile: ca))
            answer.withLock { $0 = try? parked?.request("GET", "/park?t=20") }
            done.signal()
        }.start()
        XCTAssertTrue(eventually { self.server.parked.count == 1 })
        server.parked.take()?.respond(HTTPResponse(status: 200, contentType: "text/plain", body: "woken"))
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(answer.withLock { $0.map { String(decoding: $0.body, as: UTF8.self) } }, "woken")
        XCTAssertEqual(try c.request("GET", "/health").status, 200)
    }

    /// Plain HTTP, a junk handshake or a client that vanishes mid-handshake costs the server its socket only.
    func testNonTLSClientsAreClosedAndTheServerCarriesOn() throws {
        let plain = try RawConnection(port: server.port)
        try plain.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(plain.waitClosed(), "a plain request is no TLS record: the connection closes")
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 }, "closed, not kept")
        let junk = try RawConnection(port: server.port)
        try junk.send([0x16, 0x03, 0x01, 0x00, 0x05] + [UInt8](repeating: 0xFF, count: 64))
        XCTAssertTrue(junk.waitClosed())
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 })
        let halfway = try RawConnection(port: server.port)
        try halfway.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])     // a ClientHello that never finishes
        halfway.close()
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 })
        XCTAssertEqual(try client().request("GET", "/health").status, 200, "still serving")
    }
}
