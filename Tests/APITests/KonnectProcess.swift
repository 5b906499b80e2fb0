// Test helper: a real `konnect serve` child process on a free loopback port (crash and benchmark tests).
import XCTest
import Foundation
import Glibc
import HTTP

/// The `konnect` binary built next to the test bundle, run as a child process on a free loopback port.
final class KonnectProcess: @unchecked Sendable {
    let process = Process()
    let port: Int

    /// KONNECT_BIN overrides (e.g. a release build for benchmarks).
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["KONNECT_BIN"] { return URL(fileURLWithPath: path) }
        let beside = Bundle(for: KonnectProcess.self).bundleURL.deletingLastPathComponent().appendingPathComponent("konnect")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        // On Linux the test bundle may be the main bundle: look beside the running xctest executable's folder too.
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("konnect")
    }

    init(db: String, log: URL, extra: [String] = []) throws {
        port = try KonnectProcess.freePort()
        process.executableURL = KonnectProcess.binary
        // Posting unlimited: these tests post bursts of thousands (the limits have their own tests).
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", String(port), "--db", db, "--post-rate", "0"] + extra
        XCTAssertTrue(FileManager.default.createFile(atPath: log.path, contents: nil))
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try waitUntilHealthy()
    }

    func waitUntilHealthy(timeout: Double = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard process.isRunning else { throw HTTPClientError("konnect exited with \(process.terminationStatus)") }
            let client = HTTPClient(host: "127.0.0.1", port: port, timeout: 2)
            if let r = try? client.request("GET", "/health"), r.status == 200 { client.close(); return }
            client.close()
            usleep(50_000)
        }
        throw HTTPClientError("konnect did not become healthy on port \(port)")
    }

    func kill(_ signal: Int32 = SIGKILL) {
        Glibc.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    /// Binds port 0 on loopback, reads the port the kernel chose, and closes it again for the child to take.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPClientError("socket failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw HTTPClientError("bind failed") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
