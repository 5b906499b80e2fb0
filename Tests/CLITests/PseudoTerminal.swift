// Test support: a pseudo-terminal (posix_openpt) to run `konnect chat` in, as a user's terminal would.
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A pty pair. The child gets the slave side as stdin, stdout and stderr; the test types into the master side and
/// reads what the child draws.
final class PseudoTerminal {
    let master: Int32
    let slave: Int32
    private(set) var output: OutputCollector!
    private var process: Process?

    init() throws {
        // Glibc's Swift module leaves out the XSI pty calls (they need _XOPEN_SOURCE), so look them up in libc.
        let openpt: @convention(c) (Int32) -> Int32 = try Self.libc("posix_openpt")
        let grant: @convention(c) (Int32) -> Int32 = try Self.libc("grantpt")
        let unlock: @convention(c) (Int32) -> Int32 = try Self.libc("unlockpt")
        let name: @convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32 = try Self.libc("ptsname_r")
        master = openpt(O_RDWR | O_NOCTTY)
        // A container without /dev/pts cannot run these tests at all: say so rather than fail.
        if master < 0 { throw XCTSkip("no pseudo-terminals here: \(String(cString: strerror(errno)))") }
        var path = [CChar](repeating: 0, count: 128)
        guard master >= 0, grant(master) == 0, unlock(master) == 0, name(master, &path, path.count) == 0 else {
            throw TestSetupError("no pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        let slavePath = String(decoding: path.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        slave = open(slavePath, O_RDWR | O_NOCTTY)
        guard slave >= 0 else { throw TestSetupError("cannot open \(slavePath)") }
        output = OutputCollector(fd: master)
    }

    private static func libc<F>(_ symbol: String) throws -> F {
        guard let address = dlsym(UnsafeMutableRawPointer(bitPattern: 0), symbol) else {
            throw TestSetupError("libc has no \(symbol)")
        }
        return unsafeBitCast(address, to: F.self)
    }

    /// Starts `konnect arguments…` on the terminal.
    func spawn(_ arguments: [String], environment: [String: String]) throws {
        let process = Process()
        process.executableURL = KonnectBinary.url
        process.arguments = arguments
        var env = environment
        env["TERM"] = "xterm"
        process.environment = env
        let handle = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        process.standardInput = handle
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
    }

    /// Types bytes as a user would (a key press is a byte or a short sequence).
    func type(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
    }

    /// Waits for the child to exit; its status, or nil on timeout.
    func waitForExit(timeout: Double = 10) -> Int32? {
        guard let process else { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The slave side's current local flags (to check the child restored the terminal).
    var localFlags: tcflag_t {
        var settings = termios()
        tcgetattr(slave, &settings)
        return settings.c_lflag
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        close(slave)
        close(master)   // the reader thread then sees EIO and ends
    }
}
