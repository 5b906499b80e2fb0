// `KonnectClient` against a real server: typed answers for every route and typed problems for errors.
import Client
import Foundation
import XCTest

final class KonnectClientTests: CLITestCase {
    /// Saved logins are keyed by this form (issue 12): scheme and host lowercased, default ports dropped.
    func testServerURLsAreNormalised() {
        let cases: [(String, String?)] = [
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"), ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
            ("localhost:8080", "http://localhost:8080"), ("HTTP://LocalHost:80/x?y", "http://localhost"),
            ("https://Chat.Example.com:443/", "https://chat.example.com"), ("https://chat.example.com:8443", "https://chat.example.com:8443"),
            ("http://[::1]:8080", "http://[::1]:8080"), ("https://[::1]", "https://[::1]"),
            ("ftp://x", nil), ("http://", nil), ("http://x:99999", nil),
        ]
        for (input, expected) in cases { XCTAssertEqual(KonnectClient.normalize(server: input), expected, input) }
        XCTAssertNotEqual(KonnectClient.normalize(server: "localhost:8080"), KonnectClient.normalize(server: "127.0.0.1:8080"),
                          "a name and an address are two servers")
    }

    func testAccountsRoomsAndMessages() throws {
        let client = try KonnectClient(server: try server().url)
        let name = uniqueName("kc")
        XCTAssertEqual(try client.register(username: name, password: "long enough pw").username, name)
        let session = try client.login(username: name, password: "long enough pw")
        XCTAssertEqual(session.tokenType, "Bearer")
        XCTAssertEqual(client.token, session.token)
        XCTAssertEqual(try client.me().username, name)

        let room = "kc-" + UUID().uuidString.prefix(8).lowercased()
        XCTAssertEqual(try client.createRoom(room).lastSeq, 0)
        XCTAssertTrue(try client.rooms().contains { $0.name == room })

        let first = try client.post(room: room, text: "once", clientID: "key-1")
        XCTAssertEqual(client.lastStatus, 201)
        let replay = try client.post(room: room, text: "once", clientID: "key-1")
        XCTAssertEqual(client.lastStatus, 200, "a retry with the same client id is answered, not stored again")
        XCTAssertEqual(replay, first)
        _ = try client.post(room: room, text: "twice")
        let page = try client.history(room: room)
        XCTAssertEqual(page.messages.map(\.text), ["once", "twice"])
        XCTAssertEqual(page.lastSeq, 2)
        XCTAssertEqual(try client.history(room: room, before: 2).messages.map(\.seq), [1])
        XCTAssertEqual(try client.history(room: room, limit: 1, after: 0).messages.map(\.seq), [1])
        XCTAssertTrue(try client.history(room: room, limit: 1, after: 0).hasMore)

        try client.logout()
        client.token = session.token
        XCTAssertThrowsError(try client.me()) { error in
            XCTAssertEqual((error as? ClientError)?.problem?.status, 401)
        }
    }

    func testPollWaitsForTheNextMessage() throws {
        let url = try server().url
        let client = try KonnectClient(server: url)
        let name = uniqueName("kp")
        _ = try client.register(username: name, password: "long enough pw")
        _ = try client.login(username: name, password: "long enough pw")
        let room = "kp-" + UUID().uuidString.prefix(8).lowercased()
        _ = try client.createRoom(room)
        let token = client.token
        let poster = Thread {
            Thread.sleep(forTimeInterval: 0.3)
            let other = try? KonnectClient(server: url, token: token)
            _ = try? other?.post(room: room, text: "woke you")
        }
        poster.start()
        let started = Date()
        let page = try client.poll(room: room, after: 0, wait: 10)
        XCTAssertEqual(page.messages.map(\.text), ["woke you"])
        XCTAssertLessThan(Date().timeIntervalSince(started), 9, "answered when the message came, not at the deadline")
    }

    func testErrorsAreTypedProblems() throws {
        let client = try KonnectClient(server: try server().url)
        XCTAssertThrowsError(try client.rooms()) { error in
            let problem = (error as? ClientError)?.problem
            XCTAssertEqual(problem?.status, 401)
            XCTAssertFalse(problem?.code.isEmpty ?? true)
        }
        let name = uniqueName("ke")
        _ = try client.register(username: name, password: "long enough pw")
        XCTAssertThrowsError(try client.register(username: name.uppercased(), password: "long enough pw")) { error in
            XCTAssertEqual((error as? ClientError)?.problem?.code, "username_taken")
        }
        _ = try client.login(username: name, password: "long enough pw")
        XCTAssertThrowsError(try client.history(room: "no-such-room")) { error in
            XCTAssertEqual((error as? ClientError)?.problem?.code, "room_not_found")
            XCTAssertEqual((error as? ClientError)?.problem?.status, 404)
        }
        let offline = try KonnectClient(server: "http://127.0.0.1:1", timeout: 2)
        XCTAssertThrowsError(try offline.rooms()) { error in
            guard case ClientError.network = error else { return XCTFail("got \(error)") }
        }
    }
}
