// A throwaway PostgreSQL for the tests: initdb into a temp directory, a unix socket there, stopped at exit.
import CPostgres
import Foundation
import Glibc
import XCTest

/// Started once per test process on first use, like embedded-postgres does: `initdb` (as the `postgres` system
/// user when the tests run as root — PostgreSQL refuses to run as root), `pg_ctl start` listening only on a unix
/// socket in the temp directory, `pg_ctl stop -m immediate` and the directory removed at exit. Each store under
/// test gets a database of its own (`freshDatabase`). The server runs with fsync off (on for KONNECT_BENCH=1): the tests check what the
/// store does, not the disk; durability is PostgreSQL's job once COMMIT answered with synchronous_commit on.
/// Without the server binaries `shared` is a skip reason, printed once.
final class PostgresTestServer: @unchecked Sendable {
    let root: String                 // temp directory: data/, the socket, log
    let port: Int
    let binDir: String
    let runAs: String?               // "postgres" when running as root

    var data: String { root + "/data" }
    var socketDir: String { root }

    /// The libpq connection string of database `name`.
    func conninfo(_ name: String = "postgres") -> String {
        "host=\(socketDir) port=\(port) user=postgres dbname=\(name)"
    }

    nonisolated(unsafe) private static var started: Result<PostgresTestServer, Error>?
    private static let lock = NSLock()

    /// The shared server, or an XCTSkip saying why there is none — an error under CI (`KONNECT_CI=1`), where
    /// `.ci/run` installs PostgreSQL so that these tests always run.
    static func shared() throws -> PostgresTestServer {
        try lock.withLock {
            if started == nil {
                do {
                    let server = try PostgresTestServer()
                    started = .success(server)
                    // XCTest tells observers when the bundle finished; atexit as well, in case it does not.
                    XCTestObservationCenter.shared.addTestObserver(PostgresTestServerStopper())
                    atexit { PostgresTestServer.stopShared() }
                } catch let skip as XCTSkip {
                    let why = skip.message ?? ""
                    if ProcessInfo.processInfo.environment["KONNECT_CI"] == "1" {
                        started = .failure(PostgresTestError("CI must run the PostgreSQL tests, but: \(why)"))
                    } else {
                        FileHandle.standardError.write("PostgreSQL tests skipped: \(why)\n".data(using: .utf8)!)
                        started = .failure(skip)
                    }
                } catch {
                    started = .failure(XCTSkip("could not start PostgreSQL: \(error)"))
                }
            }
            return try started!.get()
        }
    }

    /// Stops the shared server (once).
    static func stopShared() {
        lock.withLock {
            if case .success(let server) = started {
                server.stop()
                started = .failure(PostgresTestError("the shared PostgreSQL was stopped"))
            }
        }
    }

    /// Where initdb is: `KONNECT_PG_BIN`, else the newest /usr/lib/postgresql/N/bin.
    static func findBinDir() -> String? {
        if let dir = ProcessInfo.processInfo.environment["KONNECT_PG_BIN"] {
            return FileManager.default.isExecutableFile(atPath: dir + "/initdb") ? dir : nil
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for v in versions.compactMap(Int.init).sorted(by: >) {
            let dir = "/usr/lib/postgresql/\(v)/bin"
            if FileManager.default.isExecutableFile(atPath: dir + "/initdb") { return dir }
        }
        return nil
    }

    /// Starts a fresh cluster (initdb + pg_ctl start). Public for tests that need a server of their own to stop.
    init() throws {
        guard let bin = Self.findBinDir() else {
            throw XCTSkip("no PostgreSQL server binaries (initdb) in \(ProcessInfo.processInfo.environment["KONNECT_PG_BIN"] ?? "/usr/lib/postgresql/*/bin"); apt-get install postgresql")
        }
        binDir = bin
        runAs = getuid() == 0 ? "postgres" : nil
        root = "/tmp/konnect-pg-" + UUID().uuidString.prefix(8).lowercased()
        port = Int.random(in: 20000...60000)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        if let runAs {
            guard let pw = getpwnam(runAs) else {
                throw XCTSkip("running as root and there is no '\(runAs)' system user to run PostgreSQL as")
            }
            chown(root, pw.pointee.pw_uid, pw.pointee.pw_gid)
        }
        try run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
        try start()
    }

    func start() throws {
        // Benchmarks (KONNECT_BENCH=1) time durable commits: fsync stays on for them.
        let fsync = ProcessInfo.processInfo.environment["KONNECT_BENCH"] == "1" ? "on" : "off"
        let options = "-c listen_addresses='' -c unix_socket_directories='\(socketDir)' -p \(port) "
            + "-c max_connections=500 -c fsync=\(fsync) -c shared_buffers=32MB"
        try run("pg_ctl", ["-D", data, "-o", options, "-l", root + "/log", "-w", "-t", "60", "start"])
    }

    /// `pg_ctl stop` with `mode` ("immediate": like a crash).
    func stop(mode: String = "immediate", remove: Bool = true) {
        try? run("pg_ctl", ["-D", data, "-m", mode, "-w", "stop"])
        if remove { try? FileManager.default.removeItem(atPath: root) }
    }

    /// A new empty database; answers its connection string.
    func freshDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let conn = PQconnectdb(conninfo())
        defer { PQfinish(conn) }
        guard PQstatus(conn) == CONNECTION_OK else {
            throw PostgresTestError(String(cString: PQerrorMessage(conn)))
        }
        let result = PQexec(conn, "CREATE DATABASE \(name)")
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else {
            throw PostgresTestError(String(cString: PQresultErrorMessage(result)))
        }
        return conninfo(name)
    }

    /// Runs a server binary (as `runAs` when set) and waits; throws with its output on failure. posix_spawn, not
    /// Foundation's Process: Process watches its child through a descriptor the child inherits, and the server
    /// that `pg_ctl start` leaves running would keep it open, so `waitUntilExit` would never return.
    private func run(_ tool: String, _ arguments: [String]) throws {
        // bash first closes every descriptor above 2 it inherited (sockets of this process that lack CLOEXEC,
        // such as Foundation's watch on a running `konnect` child), so the server keeps none of them open.
        let closeAll = #"for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done; exec "$@""#
        let argv = ["/bin/bash", "-c", closeAll, "bash"]
            + (runAs.map { ["/usr/sbin/runuser", "-u", $0, "--", binDir + "/" + tool] } ?? [binDir + "/" + tool])
        let output = root + "/\(tool).out"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let all = argv + arguments
        let rc = withCStringArray(all) { posix_spawn(&pid, all[0], &actions, nil, $0, environ) }
        guard rc == 0 else { throw PostgresTestError("cannot start \(all[0]): error \(rc)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard exited == 0 else {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw PostgresTestError("\(tool) exited \(exited): \(text)")
        }
    }
}

/// A NULL-terminated C array of C strings valid for the call.
private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
    defer { for p in pointers { free(p) } }
    return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}

/// Stops the shared server when the test bundle finishes.
final class PostgresTestServerStopper: NSObject, XCTestObservation {
    func testBundleDidFinish(_ testBundle: Bundle) {
        PostgresTestServer.stopShared()
    }
}

struct PostgresTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
