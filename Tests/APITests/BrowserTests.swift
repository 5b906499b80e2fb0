// Runs the web client's end-to-end test (Tests/Browser/test_web.py) in headless Chromium against the built server.
import Foundation
import XCTest

/// The web client's browser test as an XCTest, so `swift test` covers web/ too. Skipped when Chromium, chromedriver
/// or Selenium are missing, except on CI (`KONNECT_CI=1`), where a missing tool is a failure.
final class BrowserTests: XCTestCase {
    private static let python = "/usr/bin/python3"  // Debian's python3-selenium lives there, not in a pyenv python

    func testWebClientInHeadlessChromium() throws {
        let missing = Self.missingTools()
        if !missing.isEmpty {
            let why = "the browser test needs \(missing.joined(separator: ", ")) (.ci/install-browser.sh installs them)"
            if ProcessInfo.processInfo.environment["KONNECT_CI"] == "1" { return XCTFail(why) }
            throw XCTSkip(why)
        }
        let binary = try XCTUnwrap(Self.serverBinary(), "no `konnect` binary next to the test bundle: swift build first")

        let (status, output) = try Self.run(script: Self.repository.appendingPathComponent("Tests/Browser/test_web.py"),
                                            binary: binary)
        print(output)
        XCTAssertEqual(status, 0, "Tests/Browser/test_web.py failed:\n\(output)")
    }

    /// The package root: three levels above this file (Tests/APITests/BrowserTests.swift).
    private static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// The test bundle sits next to the products of the same build, the `konnect` executable among them. On Linux
    /// `bundleURL` is already that directory (the .xctest is a plain executable); elsewhere it is the .xctest bundle.
    private static func serverBinary() -> URL? {
        let bundle = Bundle(for: Self.self).bundleURL
        let candidates = [bundle.deletingLastPathComponent(), bundle].map { $0.appendingPathComponent("konnect") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    private static func missingTools() -> [String] {
        var missing: [String] = []
        let fm = FileManager.default
        if !fm.isExecutableFile(atPath: "/usr/bin/chromium") { missing.append("chromium") }
        if !fm.isExecutableFile(atPath: "/usr/bin/chromedriver") { missing.append("chromium-driver") }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: python)
        probe.arguments = ["-c", "import selenium"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        if (try? probe.run()) == nil {
            missing.append("python3")
        } else {
            probe.waitUntilExit()
            if probe.terminationStatus != 0 { missing.append("python3-selenium") }
        }
        return missing
    }

    /// Runs the script with KONNECT_BIN set. Output goes to a file, not a pipe: a browser process that outlives
    /// the script could hold a pipe open and hang the read.
    private static func run(script: URL, binary: URL) throws -> (Int32, String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("konnect-browser-\(UUID()).log")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: log.path])
        }
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path]
        process.currentDirectoryURL = repository
        var environment = ProcessInfo.processInfo.environment
        environment["KONNECT_BIN"] = binary.path
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return (process.terminationStatus, output)
    }
}
