// `konnect serve --tls-cert --tls-key` and the CLI over https (issue 12), with a self-signed certificate for
// localhost made by the `openssl` command at test time.
import Foundation
import XCTest

final class CommandTLSTests: XCTestCase {
    func testTheCLITalksHTTPSToAServerThatSpeaksIt() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "no /usr/bin/openssl here")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("konnect-tls-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                             "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        XCTAssertEqual(openssl.terminationStatus, 0)

        let server = try TestServer(tls: (cert, key))
        defer { server.stop() }
        XCTAssertTrue(server.url.hasPrefix("https://localhost:"))
        let sandbox = try CLISandbox(server: server.url)
        let name = "tls_" + UUID().uuidString.prefix(8).lowercased()
        let trusted = ["--cacert", cert]
        let registered = try sandbox.run(["register", name, "--password-stdin"] + trusted, stdin: "correct horse battery\n")
        XCTAssertEqual(registered.status, 0, registered.stderr)
        XCTAssertEqual(try sandbox.run(["login", name, "--password-stdin"] + trusted, stdin: "correct horse battery\n").status, 0)
        XCTAssertEqual(try sandbox.run(["send", "over", "tls"] + trusted).status, 0)
        let history = try sandbox.run(["history"] + trusted)
        XCTAssertTrue(history.stdout.contains("\(name): over tls"), history.stdout + history.stderr)

        let untrusted = try sandbox.run(["history"])
        XCTAssertEqual(untrusted.status, 1, "the system's CA store does not know this certificate")
        XCTAssertTrue(untrusted.stderr.contains("certificate"), untrusted.stderr)
        XCTAssertEqual(try sandbox.run(["history", "--insecure"]).status, 0, "--insecure skips the checks")
        let plain = try sandbox.run(["history", "--server", server.url.replacingOccurrences(of: "https", with: "http")])
        XCTAssertEqual(plain.status, 1, "plain HTTP to the HTTPS port fails cleanly")
    }
}
