// `konnect register/login/logout/whoami` against a real server: credentials file, errors, exit codes.
import Client
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class CommandAccountTests: CLITestCase {
    func testRegisterLoginWhoamiLogout() throws {
        let sandbox = try CLISandbox(server: try server().url)
        let name = uniqueName("alice")
        let registered = try sandbox.run(["register", name, "--password-stdin"], stdin: "s3cret-pass\n")
        XCTAssertEqual(registered.status, 0, registered.stderr)
        XCTAssertTrue(registered.stdout.contains("registered \(name)"), registered.stdout)

        let login = try sandbox.run(["login", name, "--password-stdin"], stdin: "s3cret-pass\n")
        XCTAssertEqual(login.status, 0, login.stderr)
        let whoami = try sandbox.run(["whoami"])
        XCTAssertEqual(whoami.status, 0, whoami.stderr)
        XCTAssertEqual(whoami.stdout, name + "\n")

        let logout = try sandbox.run(["logout"])
        XCTAssertEqual(logout.status, 0, logout.stderr)
        let after = try sandbox.run(["whoami"])
        XCTAssertEqual(after.status, 1)
        XCTAssertTrue(after.stderr.hasPrefix("konnect: not logged in"), after.stderr)
    }

    func testLogoutRevokesTheTokenOnTheServer() throws {
        let (sandbox, _) = try signedUpUser("carol")
        let token = try savedToken(sandbox)
        XCTAssertEqual(try sandbox.run(["logout"]).status, 0)
        sandbox.extraEnvironment["KONNECT_TOKEN"] = token
        let reuse = try sandbox.run(["whoami"])
        XCTAssertEqual(reuse.status, 1, "a logged-out token must not work any more")
        XCTAssertTrue(reuse.stderr.hasPrefix("konnect: "), reuse.stderr)
    }

    func testCredentialsFileIsPrivateAndKeyedByServer() throws {
        let (sandbox, name) = try signedUpUser("dave")
        let attributes = try FileManager.default.attributesOfItem(atPath: sandbox.credentialsPath)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let directory = (sandbox.credentialsPath as NSString).deletingLastPathComponent
        let directoryAttributes = try FileManager.default.attributesOfItem(atPath: directory)
        XCTAssertEqual((directoryAttributes[.posixPermissions] as? NSNumber)?.intValue, 0o700)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sandbox.credentialsPath)))
        let servers = (object as? [String: Any])?["servers"] as? [String: Any]
        let entry = servers?[try server().url] as? [String: Any]
        XCTAssertEqual(entry?["username"] as? String, name)
        XCTAssertNotNil(entry?["token"] as? String)
    }

    func testWrongPasswordExitsOneWithTheServersDetail() throws {
        let (sandbox, name) = try signedUpUser("erin")
        // What the server itself says for this mistake, asked through the client library.
        let client = try KonnectClient(server: try server().url)
        var expected = ""
        XCTAssertThrowsError(try client.login(username: name, password: "wrong password")) { error in
            expected = (error as? ClientError)?.problem?.detail ?? ""
            XCTAssertEqual((error as? ClientError)?.problem?.code, "invalid_credentials")
        }
        XCTAssertFalse(expected.isEmpty)
        let result = try sandbox.run(["login", name, "--password-stdin"], stdin: "another wrong one\n")
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr, "konnect: \(expected)\n")
        XCTAssertEqual(result.stdout, "")
    }

    func testKonnectTokenOverridesSavedLogin() throws {
        let (alice, _) = try signedUpUser("frank")
        let (bob, bobName) = try signedUpUser("grace")
        alice.extraEnvironment["KONNECT_TOKEN"] = try savedToken(bob)
        let whoami = try alice.run(["whoami", "--json"])
        XCTAssertEqual(whoami.status, 0, whoami.stderr)
        let user = jsonLines(whoami.stdout).first?["user"] as? [String: Any]
        XCTAssertEqual(user?["username"] as? String, bobName)
    }

    func testPasswordOnATerminalIsAskedTwiceAndNotEchoed() throws {
        let sandbox = try CLISandbox(server: try server().url)
        let name = uniqueName("hana")
        let terminal = try PseudoTerminal()
        try terminal.spawn(["register", name], environment: sandbox.environment)
        XCTAssertTrue(terminal.output.waitFor("Password: "), terminal.output.text)
        terminal.type("hidden-secret-1\r")
        XCTAssertTrue(terminal.output.waitFor("Repeat password: "), terminal.output.text)
        terminal.type("hidden-secret-1\r")
        XCTAssertEqual(terminal.waitForExit(), 0, terminal.output.text)
        XCTAssertTrue(terminal.output.waitFor("registered \(name)"), terminal.output.text)
        XCTAssertFalse(terminal.output.text.contains("hidden-secret"), "the password was echoed: \(terminal.output.text)")
        XCTAssertNotEqual(terminal.localFlags & tcflag_t(ECHO), 0, "echo restored")
        let login = try sandbox.run(["login", name, "--password-stdin"], stdin: "hidden-secret-1\n")
        XCTAssertEqual(login.status, 0, login.stderr)
    }

    func testUsageErrorsExitTwo() throws {
        let sandbox = try CLISandbox(server: try server().url)
        let unknown = try sandbox.run(["send", "--bogus", "hi"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("unknown option '--bogus'"), unknown.stderr)
        XCTAssertEqual(try sandbox.run(["login"]).status, 2, "missing NAME")
        XCTAssertEqual(try sandbox.run(["history", "--limit", "zero"]).status, 2)
        XCTAssertEqual(try sandbox.run(["history", "--before", "3", "--after", "1"]).status, 2)
        XCTAssertEqual(try sandbox.run(["register", "x"]).status, 2, "no terminal and no --password-stdin")
        XCTAssertEqual(try sandbox.run(["listen", "--room"]).status, 2, "--room without its value")
        let help = try sandbox.run(["send", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("Examples:"), help.stdout)
        XCTAssertEqual(try sandbox.run(["help"]).status, 0)
        XCTAssertEqual(try sandbox.run(["listen", "-h"]).status, 0)
    }

    /// Issue 12: a typo lists every command (server ones too) and the nearest name; --version; serve --help
    /// explains each flag; logout --json prints a JSON line; an empty history says so on stderr only.
    func testHelpVersionAndQuietJSON() throws {
        let sandbox = try CLISandbox(server: try server().url)
        let typo = try sandbox.run(["lisen"])
        XCTAssertEqual(typo.status, 2)
        XCTAssertTrue(typo.stderr.contains("unknown command 'lisen'; did you mean 'listen'?"), typo.stderr)
        for command in ["serve", "bench", "register", "send", "listen", "chat", "rooms create"] {
            XCTAssertTrue(typo.stderr.contains("\n  \(command) "), "\(command) listed: \(typo.stderr)")
        }
        let version = try sandbox.run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.stdout.hasPrefix("konnect 0."), version.stdout)
        let serveHelp = try sandbox.run(["serve", "--help"])
        XCTAssertEqual(serveHelp.status, 0)
        for flag in ["--host", "--port", "--db", "--web-root", "--loops", "--max-head-bytes", "--max-body-bytes",
                     "--head-timeout", "--idle-timeout", "--max-connections", "--post-burst", "--post-rate", "--log-level",
                     "--postgres", "--max-file-bytes", "--max-wait", "--tls-cert", "--tls-key"] {
            XCTAssertTrue(serveHelp.stderr.contains("  \(flag) "), "\(flag) explained: \(serveHelp.stderr)")
        }

        let name = uniqueName("quiet")
        try sandbox.signUp(name)
        let room = "empty-" + UUID().uuidString.prefix(8).lowercased()
        XCTAssertEqual(try sandbox.run(["rooms", "create", room]).status, 0)
        let empty = try sandbox.run(["history", "--room", room, "--json"])
        XCTAssertEqual(empty.status, 0)
        XCTAssertEqual(empty.stdout, "", "nothing but JSON on stdout")
        XCTAssertTrue(empty.stderr.contains("no messages in \(room)"), empty.stderr)
        let logout = try sandbox.run(["logout", "--json"])
        XCTAssertEqual(logout.status, 0, logout.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(logout.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(object?["logged_out"] as? Bool, true, logout.stdout)
        XCTAssertEqual(object?["server"] as? String, sandbox.server)
    }

    func testUnreachableServerExitsOne() throws {
        let sandbox = try CLISandbox(server: "http://127.0.0.1:1")
        let result = try sandbox.run(["register", "nobody", "--password-stdin"], stdin: "password123\n")
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.hasPrefix("konnect: "), result.stderr)
    }

    private func savedToken(_ sandbox: CLISandbox) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sandbox.credentialsPath)))
        let servers = (object as? [String: Any])?["servers"] as? [String: [String: Any]]
        guard let token = servers?[sandbox.server]?["token"] as? String else { throw TestSetupError("no saved token") }
        return token
    }
}
