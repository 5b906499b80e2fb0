// `konnect bench feed`: one post per room per round, all rooms at once, each stamped with its send time.
import HTTP
import Synchronization
import Transport

/// One connection per room on a loop of its own, each posting as its room's own account (a bot: the per-account
/// posting limit then allows a round a second and more). `round` sends one post to every room at once and returns
/// when every answer is in.
final class RoundPoster {
    struct Posted {
        var seq: Int
        var id: String
    }

    let loops: BenchLoops
    let rooms: [String]
    let connections: [UnsafeTransfer<ClientConnection>]
    let headers: [[(String, String)]]
    var posted: [[Int: String]]               // per room: seq → id of every answered post
    var latencies = Latencies()

    init(address: SocketAddress, host: String, rooms: [String], tokens: [String]) throws {
        let loops = try BenchLoops(count: 1, address: address, host: host)
        self.loops = loops
        self.rooms = rooms
        connections = rooms.indices.map { UnsafeTransfer(loops.connection($0)) }
        headers = tokens.map { [("Authorization", "Bearer \($0)"), ("Content-Type", "application/json")] }
        posted = rooms.map { _ in [:] }
    }

    /// Posts `round` to every room; throws when one is not answered 201/200 within `timeout` seconds.
    func round(_ round: Int, timeout: Double) throws {
        let answers = Mutex<[Int: Result<Posted, BenchError>]>([:])
        let sentAt = Mutex<[Int: UInt64]>([:])
        let doneAt = Mutex<[Int: UInt64]>([:])
        for (i, room) in rooms.enumerated() {
            let connection = connections[i]
            let header = UnsafeTransfer(headers[i])
            connection.value.loop.execute {
                let now = monotonicNanos()
                sentAt.withLock { $0[i] = now }
                let body = Array("{\"room\":\"\(room)\",\"text\":\"round \(round)\",\"client_id\":\"t\(now)-\(i)-\(round)\"}".utf8)
                connection.value.send(method: "POST", target: "/messages", headers: header.value, body: body, timeout: timeout) { result in
                    let answer: Result<Posted, BenchError>
                    switch result {
                    case .success(let r) where r.status == 201 || r.status == 200:
                        if let seq = AnswerScanner.integers("\"seq\":", in: r.body).first,
                           let id = AnswerScanner.strings("\"id\":", in: r.body).first ?? nil {
                            answer = .success(Posted(seq: seq, id: id))
                        } else {
                            answer = .failure(BenchError("POST /messages answered without seq/id"))
                        }
                    case .success(let r):
                        answer = .failure(BenchError("POST /messages answered \(r.status): \(String(decoding: r.body.prefix(200), as: UTF8.self))"))
                    case .failure(let f):
                        answer = .failure(BenchError("POST /messages: \(f)"))
                    }
                    let done = monotonicNanos()
                    doneAt.withLock { $0[i] = done }
                    answers.withLock { $0[i] = answer }
                }
            }
        }
        guard waitUntil(timeout: timeout + 5, poll: 0.0002, { answers.withLock { $0.count } == rooms.count }) else {
            throw BenchError("round \(round): posts not answered within \(Int(timeout)) s")
        }
        let all = answers.withLock { $0 }
        let sent = sentAt.withLock { $0 }
        let done = doneAt.withLock { $0 }
        for i in rooms.indices {
            switch all[i]! {
            case .failure(let error): throw error
            case .success(let p): posted[i][p.seq] = p.id
            }
            if let s = sent[i], let d = done[i] { latencies.add(d &- s) }
        }
    }

    func stop() {
        for c in connections { c.value.loop.execute { c.value.close() } }
        loops.stop()
    }
}
