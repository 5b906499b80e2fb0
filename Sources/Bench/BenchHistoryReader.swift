// `konnect bench` history reader: pages of 50 back to back, each checked to be exactly the run of seqs it names.
import HTTP
import Transport

/// Alternates the newest page and an `after=` page at a random cursor in a room of `total` messages.
final class HistoryReader {
    let connection: ClientConnection
    let room: String
    let headers: [(String, String)]
    let total: Int                            // messages in the room (seqs 1…total)
    let deadline: UInt64
    let onDone: () -> Void
    var rng: SystemRandomNumberGenerator = SystemRandomNumberGenerator()
    var n = 0
    var latencies = Latencies()
    var faults: [DeliveryFault] = []
    var errors: [String: Int] = [:]
    var sentAt: UInt64 = 0
    var expected: ClosedRange<Int> = 1...1
    var target = ""

    init(connection: ClientConnection, room: String, token: String, total: Int, deadline: UInt64, onDone: @escaping () -> Void) {
        self.connection = connection
        self.room = room
        self.headers = [("Authorization", "Bearer \(token)")]
        self.total = total
        self.deadline = deadline
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
        if n % 2 == 0 {
            target = "/messages?room=\(room)&limit=50"            // API.md: the newest `limit`, ascending
            expected = Swift.max(1, total - 49)...total
        } else {
            let after = Int.random(in: 0...Swift.max(0, total - 50), using: &rng)
            target = "/messages?room=\(room)&after=\(after)&limit=50"
            expected = (after + 1)...Swift.min(total, after + 50)
        }
        connection.send(method: "GET", target: target, headers: headers, timeout: 30) { [self] result in handle(result) }
    }

    func handle(_ result: Result<ClientResponse, ClientFailure>) {
        switch result {
        case .success(let response) where response.status == 200:
            latencies.add(monotonicNanos() &- sentAt)
            let seqs = AnswerScanner.integers("\"seq\":", in: response.body)
            if seqs != Array(expected) && faults.count < 10 {
                let shown = seqs.count > 6 ? "\(seqs.prefix(3))…\(seqs.suffix(3)) (\(seqs.count))" : "\(seqs)"
                faults.append(.badPage(query: target, got: shown))
            }
        case .success(let response):
            errors["HTTP \(response.status)", default: 0] += 1
        case .failure(let failure):
            errors["\(failure)", default: 0] += 1
        }
        next()
    }
}
