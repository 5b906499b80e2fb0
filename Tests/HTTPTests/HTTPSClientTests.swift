// HTTPClient over TLS (issue 12): certificates checked against a CA and the host name, SNI, --insecure; against
// a real TLS server (`openssl s_server -www`, an HTTP/1.0 responder) with certificates made at test time.
import Foundation
import XCTest
@testable import HTTP
import Transport

final class HTTPSClientTests: XCTestCase {
    private var certificates: TestCertificates!
    private var servers: [Process] = []

    override func setUpWithError() throws {
        try XCTSkipUnless(TestCertificates.available, "no /usr/bin/openssl on this machine (apt-get install openssl)")
        certificates = try TestCertificates()
    }

    override func tearDown() {
        for server in servers where server.isRunning { server.terminate(); server.waitUntilExit() }
        certificates?.remove()
    }

    /// `openssl s_server -www` on a free loopback port with `cert`; answers any GET with an HTTP/1.0 status page.
    private func tlsServer(_ leaf: (cert: String, key: String)) throws -> Int {
        let listener = try Socket.listen(ip: "127.0.0.1", port: 0, reusePort: false)
        let port = Socket.localAddress(listener).port
        Socket.close(listener)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", leaf.cert, "-key", leaf.key, "-www", "-quiet"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        servers.append(process)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let fd = try? Socket.connect(host: "127.0.0.1", port: port, timeout: 1) { Socket.close(fd); return port }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw CertificateError("s_server did not start")
    }

    func testVerifiedByTheGivenCAForANameAndAnIPAddress() throws {
        let port = try tlsServer(try certificates.leaf(named: "local", dns: ["localhost"], ips: ["127.0.0.1", "::1"]))
        for url in ["https://localhost:\(port)/", "https://127.0.0.1:\(port)/"] {
            let client = try HTTPClient(url: url, timeout: 10, tls: TLSClientOptions(caFile: certificates.caFile))
            let r = try client.request("GET", "/")
            XCTAssertEqual(r.status, 200, url)
            XCTAssertTrue(String(decoding: r.body, as: UTF8.self).contains("s_server"), url)
            client.close()
        }
    }

    func testAnUntrustedCertificateOrAnotherNameIsRefused() throws {
        let port = try tlsServer(try certificates.leaf(named: "other", dns: ["other.example"]))
        // The system's CA store does not know the test CA.
        XCTAssertThrowsError(try HTTPClient(url: "https://localhost:\(port)", timeout: 10).request("GET", "/")) {
            XCTAssertTrue("\($0)".contains("certificate"), "\($0)")
        }
        // Trusted CA, but the certificate names another host.
        let wrongName = try HTTPClient(url: "https://localhost:\(port)", timeout: 10, tls: TLSClientOptions(caFile: certificates.caFile))
        XCTAssertThrowsError(try wrongName.request("GET", "/")) { XCTAssertTrue("\($0)".contains("certificate"), "\($0)") }
        // --insecure: no checks at all (tests only).
        let insecure = try HTTPClient(url: "https://localhost:\(port)", timeout: 10, tls: TLSClientOptions(insecure: true))
        XCTAssertEqual(try insecure.request("GET", "/").status, 200)
    }

    func testPlainHTTPToATLSPortFailsCleanly() throws {
        let port = try tlsServer(try certificates.leaf(named: "local", dns: ["localhost"]))
        let client = try HTTPClient(url: "http://127.0.0.1:\(port)", timeout: 5)
        XCTAssertThrowsError(try client.request("GET", "/"))
    }

    func testHostNamesAreResolved() throws {
        let addresses = try Socket.resolve(host: "localhost", port: 8080)
        XCTAssertFalse(addresses.isEmpty)
        XCTAssertTrue(addresses.allSatisfy { ["127.0.0.1", "::1"].contains($0.ipString) && $0.port == 8080 }, "\(addresses.map(\.ipString))")
        XCTAssertThrowsError(try Socket.resolve(host: "no-such-host.invalid", port: 80)) {
            XCTAssertTrue("\($0)".contains("resolve 'no-such-host.invalid'"), "\($0)")
        }
    }
}
