// Test support: runs the real `konnect` binary as one user, with its own XDG_CONFIG_HOME, against a test server.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a finished `konnect` run left behind.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
}

/// A `konnect` process still running (listen, chat), with its output being collected.
final class RunningCLI {
    let process: Process
    let stdout: OutputCollector
    let stderr: OutputCollector

    init(process: Process, stdout: OutputCollector, stderr: OutputCollector) {
        self.process = process
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Sends `signal` by PID and waits for the exit status.
    func stop(signal: Int32 = SIGINT) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// One user's environment: a private config directory (so credentials never leak between tests) and the server.
final class CLISandbox {
    let configHome: URL                   // XDG_CONFIG_HOME for this user
    var server: String
    var extraEnvironment: [String: String] = [:]

    init(server: String) throws {
        configHome = FileManager.default.temporaryDirectory.appendingPathComponent("konnect-xdg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: configHome, withIntermediateDirectories: true)
        self.server = server
    }

    deinit { try? FileManager.default.removeItem(at: configHome) }

    var credentialsPath: String { configHome.appendingPathComponent("konnect/credentials.json").path }

    var environment: [String: String] {
        var env = ["PATH": "/usr/bin:/bin", "HOME": configHome.path, "XDG_CONFIG_HOME": configHome.path,
                   "KONNECT_SERVER": server, "LANG": "C.UTF-8", "TZ": "UTC"]
        env.merge(extraEnvironment) { $1 }
        return env
    }

    /// Runs `konnect arguments…` to completion with `stdin` as its input (nothing when nil).
    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil, timeout: Double = 30) throws -> CLIResult {
        let running = try spawn(arguments, stdin: stdin)
        let deadline = Date().addingTimeInterval(timeout)
        while running.process.isRunning && Date() < deadline { usleep(5_000) }
        if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) }
        running.process.waitUntilExit()
        running.stdout.waitForEnd(timeout: 5)
        running.stderr.waitForEnd(timeout: 5)
        return CLIResult(status: running.process.terminationStatus, stdout: running.stdout.text, stderr: running.stderr.text)
    }

    /// Starts `konnect arguments…` and returns at once.
    func spawn(_ arguments: [String], stdin: String? = nil) throws -> RunningCLI {
        let process = Process()
        process.executableURL = KonnectBinary.url
        process.arguments = arguments
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        return RunningCLI(process: process,
                          stdout: OutputCollector(fd: out.fileHandleForReading.fileDescriptor),
                          stderr: OutputCollector(fd: err.fileHandleForReading.fileDescriptor))
    }

    /// Registers `name` and logs in through the CLI (`--password-stdin`), failing loudly if either step fails.
    func signUp(_ name: String, password: String = "correct horse battery") throws {
        let registered = try run(["register", name, "--password-stdin"], stdin: password + "\n")
        guard registered.status == 0 else { throw TestSetupError("register \(name): \(registered.stderr)") }
        let loggedIn = try run(["login", name, "--password-stdin"], stdin: password + "\n")
        guard loggedIn.status == 0 else { throw TestSetupError("login \(name): \(loggedIn.stderr)") }
    }
}
