// Test support: a base class giving each test class one real server and each test its own users.
import Foundation
import XCTest

/// One `konnect serve` per test class (started in `setUp()` of the class, stopped in `tearDown()`); each test makes
/// fresh users, each with its own XDG_CONFIG_HOME, so tests do not see each other's credentials or names.
class CLITestCase: XCTestCase {
    nonisolated(unsafe) private static var shared: TestServer?
    nonisolated(unsafe) private static var startError: String?

    override class func setUp() {
        super.setUp()
        do {
            shared = try TestServer()
        } catch {
            startError = String(describing: error)
        }
    }

    override class func tearDown() {
        shared?.stop()
        shared = nil
        super.tearDown()
    }

    /// The class's server, or a failure saying why it did not start.
    func server() throws -> TestServer {
        guard let server = Self.shared else { throw TestSetupError("server not running: \(Self.startError ?? "?")") }
        return server
    }

    /// A unique user name (names are unique on the server, ignoring case).
    func uniqueName(_ prefix: String) -> String {
        prefix + "_" + UUID().uuidString.prefix(8).lowercased()
    }

    /// A new user, registered and logged in through the CLI.
    func signedUpUser(_ prefix: String, password: String = "correct horse battery") throws -> (CLISandbox, String) {
        let sandbox = try CLISandbox(server: try server().url)
        let name = uniqueName(prefix)
        try sandbox.signUp(name, password: password)
        return (sandbox, name)
    }

    /// Parses each line of `text` as a JSON object.
    func jsonLines(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { row in
            let object = try? JSONSerialization.jsonObject(with: Data(row.utf8)) as? [String: Any]
            if object == nil { XCTFail("not a JSON object: \(row)", file: file, line: line) }
            return object
        }
    }
}
