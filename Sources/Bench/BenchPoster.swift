// `konnect bench` poster: one connection posting back to back until a deadline, keeping every answered seq.
import HTTP
import Transport

/// A closed-loop poster on one loop. Each post carries a client_id, so a retry after a dropped connection is
/// idempotent (API.md): it can neither be lost nor stored twice.
final class Poster {
    let connection: ClientConnection
    let index: Int
    let room: String
    let headers: [(String, String)]
    let deadline: UInt64                      // monotonic ns: no new post after it
    let stampSendTime: Bool                   // client_id "t<send ns>-…" lets readers measure delivery delay
    let prefix: String
    let onDone: () -> Void
    var n = 0
    var posted: [Int: String] = [:]           // seq → id, from 201/200 answers
    var lastSeq = 0                           // this poster's previous seq: commit order makes the next one higher
    var faults: [DeliveryFault] = []
    var latencies = Latencies()
    var errors: [String: Int] = [:]
    var abandoned = 0                         // posts given up after retries (their outcome is unknown)
    var body: [UInt8] = []
    var sentAt: UInt64 = 0
    var attempts = 0

    init(connection: ClientConnection, index: Int, room: String, token: String, deadline: UInt64,
         stampSendTime: Bool, prefix: String, onDone: @escaping () -> Void) {
        self.connection = connection
        self.index = index
        self.room = room
        self.headers = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
        self.deadline = deadline
        self.stampSendTime = stampSendTime
        self.prefix = prefix
        self.onDone = onDone
    }

    func next() {
        sentAt = monotonicNanos()
        guard sentAt < deadline else {
            connection.close()
            onDone()
            return
        }
        n += 1
        attempts = 0
        let clientID = stampSendTime ? "t\(sentAt)-\(index)-\(n)" : "\(prefix)-\(index)-\(n)"
        body = Array("{\"room\":\"\(room)\",\"text\":\"bench \(index) \(n)\",\"client_id\":\"\(clientID)\"}".utf8)
        send()
    }

    func send() {
        attempts += 1
        connection.send(method: "POST", target: "/messages", headers: headers, body: body, timeout: 30) { [self] result in
            handle(result)
        }
    }

    func handle(_ result: Result<ClientResponse, ClientFailure>) {
        switch result {
        case .success(let response) where response.status == 201 || response.status == 200:
            latencies.add(monotonicNanos() &- sentAt)
            guard let seq = AnswerScanner.integers("\"seq\":", in: response.body).first,
                  let id = AnswerScanner.strings("\"id\":", in: response.body).first ?? nil else {
                errors["answer without seq/id", default: 0] += 1
                next()
                return
            }
            if seq <= lastSeq { faults.append(.reorder(seq: seq, after: lastSeq)) }
            lastSeq = Swift.max(lastSeq, seq)
            posted[seq] = id
            next()
        case .success(let response):
            errors["HTTP \(response.status)", default: 0] += 1
            next()
        case .failure(let failure):
            errors["\(failure)", default: 0] += 1
            if attempts < 5 {
                _ = connection.loop.schedule(after: 0.01 * Double(attempts)) { [self] in send() }
            } else {
                abandoned += 1
                next()
            }
        }
    }
}
