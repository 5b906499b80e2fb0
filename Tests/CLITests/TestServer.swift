// Test support: a real `konnect serve` process on an ephemeral loopback port, stoppable and restartable.
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The `konnect` binary built next to the test bundle. On macOS `bundleURL` is the `.xctest` bundle; on Linux
/// Foundation answers with the directory that holds it, so look in both places.
enum KonnectBinary {
    static var url: URL {
        let bundle = Bundle(for: TestServer.self).bundleURL
        let candidates = [bundle.deletingLastPathComponent().appendingPathComponent("konnect"),
                          bundle.appendingPathComponent("konnect")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }
}

/// `konnect serve --port 0 --db <dir>/k.db`, started by a test. The port is read from the server's
/// `konnect listening on http://127.0.0.1:PORT` line; `restart` starts it again on the same port and database.
final class TestServer: @unchecked Sendable {
    let directory: URL                    // holds the database
    private(set) var port = 0
    private var process: Process?
    private var stderr: OutputCollector?
    private let extraArguments: [String]
    private let scheme: String

    /// With `tls` (certificate and key files) the server speaks HTTPS, reached as https://localhost:PORT.
    var url: String { scheme == "https" ? "https://localhost:\(port)" : "http://127.0.0.1:\(port)" }
    var databasePath: String { directory.appendingPathComponent("k.db").path }

    init(tls: (cert: String, key: String)? = nil) throws {
        extraArguments = tls.map { ["--tls-cert", $0.cert, "--tls-key", $0.key] } ?? []
        scheme = tls == nil ? "http" : "https"
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("konnect-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try start(port: 0)
    }

    func start(port requested: Int) throws {
        let process = Process()
        process.executableURL = KonnectBinary.url
        process.arguments = ["serve", "--port", String(requested), "--db", databasePath, "--post-rate", "0"] + extraArguments  // bench posts thousands
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let collector = OutputCollector(fd: pipe.fileHandleForReading.fileDescriptor)
        self.process = process
        self.stderr = collector
        let marker = "konnect listening on \(scheme)://127.0.0.1:"
        guard collector.waitFor(timeout: 20, { $0.contains(marker) && $0.components(separatedBy: marker)[1].contains("\n") }) else {
            process.terminate()
            throw TestSetupError("server did not start: \(collector.text)")
        }
        let rest = collector.text.components(separatedBy: marker)[1]
        guard let port = Int(rest.prefix { $0.isNumber }) else { throw TestSetupError("no port in: \(rest)") }
        self.port = port
    }

    /// SIGTERM by PID, then wait for the process to end.
    func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    func restart() throws {
        stop()
        try start(port: port)
    }

    var log: String { stderr?.text ?? "" }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A setup failure: reported as a test failure with the reason.
struct TestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
