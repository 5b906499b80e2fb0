// `konnect bench` set-up and read-back over the blocking HTTPClient: users, tokens, rooms, history, metrics.
import Foundation
import HTTP
import Synchronization
import Transport

/// A failure that stops the run before or after measuring (not a verification fault).
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Everything a run makes lives under a random prefix, so runs never see each other's rooms or users.
final class BenchSetup {
    let url: String
    let client: HTTPClient
    let prefix: String
    let address: SocketAddress
    let hostHeader: String
    private(set) var tokens: [String] = []

    init(url: String) throws {
        self.url = url
        client = try HTTPClient(url: url, timeout: 60)
        let ip = client.host == "localhost" ? "127.0.0.1" : client.host
        guard let address = SocketAddress(ip: ip, port: client.port) else {
            throw BenchError("--server must name an IP literal or localhost, got \(url)")
        }
        self.address = address
        hostHeader = ip.contains(":") ? "[\(ip)]:\(client.port)" : "\(ip):\(client.port)"
        prefix = String((0..<6).map { _ in "0123456789abcdef".randomElement()! })
    }

    func roomName(_ n: Int) -> String { "bench-\(prefix)-\(n)" }

    /// Registers and logs in `count` users (API.md: register 201, then login 200 with a bearer token).
    func makeUsers(_ count: Int) throws {
        for i in 0..<count {
            let name = "bench-\(prefix)-u\(i)"
            let password = "pw-" + UUID().uuidString
            let form = "username=\(name)&password=\(password)"
            let formHeader = [("Content-Type", "application/x-www-form-urlencoded")]
            let registered = try client.request("POST", "/register", headers: formHeader, body: Array(form.utf8))
            guard registered.status == 201 else { throw BenchError("POST /register answered \(registered.status): \(text(registered))") }
            let login = try client.request("POST", "/login", headers: formHeader, body: Array(form.utf8))
            guard login.status == 200, let token = try json(login)["token"] as? String else {
                throw BenchError("POST /login answered \(login.status): \(text(login))")
            }
            tokens.append(token)
        }
    }

    func token(_ i: Int) -> String { tokens[i % tokens.count] }

    /// `count` bots of user 0, named `bench-<prefix>-<tag><i>`: accounts with a token and no password hash (API.md
    /// "Bots"), so 10,000 followers cost seconds to make, not hours of yescrypt. Returns (username, token) pairs.
    func makeBots(_ count: Int, tag: String, loops: BenchLoops) throws -> [(name: String, token: String)] {
        let names = (0..<count).map { "bench-\(prefix)-\(tag)\($0)" }
        let tokens = Mutex<[Int: String]>([:])
        let headers = auth(0) + [("Content-Type", "application/json")]
        try BenchRequests.run(loops, count: count, make: { i in
            .init(method: "POST", target: "/bots", headers: headers, body: Array("{\"username\":\"\(names[i])\"}".utf8))
        }, check: { i, r in
            guard r.status == 201, let t = AnswerScanner.strings("\"token\":", in: r.body).first ?? nil else {
                return "POST /bots answered \(r.status): \(String(decoding: r.body.prefix(200), as: UTF8.self))"
            }
            tokens.withLock { $0[i] = t }
            return nil
        })
        let made = tokens.withLock { $0 }
        return names.indices.map { (names[$0], made[$0]!) }
    }

    /// Adds each (room, username) as a member (user 0 is a member of every room it made: API.md "Rooms v2").
    func addMembers(_ pairs: [(room: String, user: String)], loops: BenchLoops) throws {
        let headers = auth(0)
        try BenchRequests.run(loops, count: pairs.count, make: { i in
            .init(method: "PUT", target: "/rooms/\(pairs[i].room)/members/\(pairs[i].user)", headers: headers)
        }, check: { _, r in
            r.status == 201 || r.status == 200 ? nil : "PUT …/members answered \(r.status): \(String(decoding: r.body.prefix(200), as: UTF8.self))"
        })
    }

    /// The feed's newest position now (GET /events without `after`: `next`).
    func feedPosition() throws -> Int {
        let r = try client.request("GET", "/events", headers: auth(0))
        guard r.status == 200, let next = try json(r)["next"] as? Int else { throw BenchError("GET /events answered \(r.status): \(text(r))") }
        return next
    }

    /// A room's newest seq (GET /messages?limit=1: `last_seq`).
    func lastSeq(room: String) throws -> Int {
        let r = try client.request("GET", "/messages?room=\(room)&limit=1", headers: auth(0))
        guard r.status == 200, let seq = try json(r)["last_seq"] as? Int else { throw BenchError("GET /messages answered \(r.status): \(text(r))") }
        return seq
    }

    func makeRoom(_ n: Int) throws -> String {
        let name = roomName(n)
        let r = try client.request("POST", "/rooms", headers: auth(0) + [("Content-Type", "application/json")],
                                   body: Array("{\"name\":\"\(name)\"}".utf8))
        guard r.status == 201 else { throw BenchError("POST /rooms answered \(r.status): \(text(r))") }
        return name
    }

    /// One post, waited for; (seq, id).
    func post(room: String, text body: String, clientID: String) throws -> (seq: Int, id: String) {
        let payload = "{\"room\":\"\(room)\",\"text\":\"\(body)\",\"client_id\":\"\(clientID)\"}"
        let r = try client.request("POST", "/messages", headers: auth(0) + [("Content-Type", "application/json")], body: Array(payload.utf8))
        guard r.status == 201 || r.status == 200, let message = try json(r)["message"] as? [String: Any],
              let seq = message["seq"] as? Int, let id = message["id"] as? String else {
            throw BenchError("POST /messages answered \(r.status): \(text(r))")
        }
        return (seq, id)
    }

    /// The whole room, oldest first, paged with `after=` (API.md: ascending seq, `has_more` for further pages).
    func history(room: String) throws -> [(seq: Int, id: String)] {
        var out: [(seq: Int, id: String)] = []
        var after = 0
        while true {
            let r = try client.request("GET", "/messages?room=\(room)&after=\(after)&limit=200", headers: auth(0))
            guard r.status == 200 else { throw BenchError("GET /messages answered \(r.status): \(text(r))") }
            let page = try json(r)
            guard let messages = page["messages"] as? [[String: Any]] else { throw BenchError("history page without messages") }
            for m in messages {
                guard let seq = m["seq"] as? Int, let id = m["id"] as? String else { throw BenchError("message without seq/id") }
                out.append((seq, id))
                after = Swift.max(after, seq)
            }
            if messages.isEmpty || (page["has_more"] as? Bool) != true { return out }
        }
    }

    /// `konnect_parked_polls` from GET /metrics, or nil when the server does not export it.
    func parkedPolls() -> Int? { gauge("konnect_parked_polls") }

    /// A gauge from GET /metrics (`konnect_feed_followers`: held and streaming feeds), nil when absent.
    func gauge(_ name: String) -> Int? {
        guard let r = try? client.request("GET", "/metrics"), r.status == 200 else { return nil }
        for line in String(decoding: r.body, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + " ") {
            if let value = line.split(separator: " ").last, let n = Double(value) { return Int(n) }
        }
        return nil
    }

    func auth(_ i: Int) -> [(String, String)] { [("Authorization", "Bearer \(token(i))")] }

    func json(_ r: HTTPResponse) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any] else {
            throw BenchError("answer is not a JSON object (status \(r.status)): \(text(r))")
        }
        return object
    }

    func text(_ r: HTTPResponse) -> String { String(decoding: r.body.prefix(300), as: UTF8.self) }
}

/// The resident set size of a local process (VmRSS in /proc/PID/status), in bytes.
func residentBytes(pid: Int) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let kb = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        return kb.map { $0 * 1024 }
    }
    return nil
}
