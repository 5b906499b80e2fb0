// `konnect bench` long-poll subscriber: parked on `GET /messages?after=&wait=`, verifying every seq it is handed.
import HTTP
import Synchronization
import Transport

/// Counts shared by the subscribers of one process (touched from every loop): polls sent, and how many
/// subscribers hold each seq so far (the coordinator waits on it before the next post).
final class DeliverySink: Sendable {
    let polling = Atomic<Int>(0)                          // subscribers whose first poll has been sent
    private let holders = Mutex<[Int: Int]>([:])          // seq → subscribers that have it
    let highest = Atomic<Int>(0)                          // the highest seq any subscriber got

    func delivered(_ seqs: [Int]) {
        guard let top = seqs.max() else { return }
        holders.withLock { map in for s in seqs { map[s, default: 0] += 1 } }
        highest.max(top, ordering: .relaxed)
    }

    func holders(of seq: Int) -> Int { holders.withLock { $0[seq] ?? 0 } }
}

/// A deliberately broken reader record, to show the verifier fails the run (`--plant-fault`).
enum PlantedFault: String {
    case duplicate    // a reader records its first message twice
    case gap          // a reader drops its first message before the verifier sees it
    case lost         // post: the history check is told of a 201 the server never gave (a lost post)
    case extra        // post: the history check forgets the newest 201 (a message stored with no 201)
}

/// One long-polling reader. After each answer it asks again from the highest seq it holds (API.md: a reader that
/// has seen seq N has seen every message up to N).
final class Subscriber: BenchFollower {
    let connection: ClientConnection
    let room: String
    let headers: [(String, String)]
    let wait: Int                             // seconds the server may hold each poll
    let sink: DeliverySink
    var plant: PlantedFault?
    var after: Int
    var verifier: DeliveryVerifier
    var delays: [UInt64] = []                 // ns from the post's send time (in its client_id) to arrival here
    var errors: [String: Int] = [:]
    var stopped = false
    var started = false

    init(connection: ClientConnection, room: String, token: String, after: Int, wait: Int, sink: DeliverySink) {
        self.connection = connection
        self.room = room
        self.headers = [("Authorization", "Bearer \(token)")]
        self.after = after
        self.wait = wait
        self.sink = sink
        verifier = DeliveryVerifier(after: after)
    }

    func start() { poll() }

    func faults(expectedLast: Int) -> [DeliveryFault] { verifier.finish(expectedLast: expectedLast) }

    func poll() {
        guard !stopped else { return }
        connection.send(method: "GET", target: "/messages?room=\(room)&after=\(after)&wait=\(wait)", headers: headers,
                        timeout: Double(wait) + 15) { [self] result in handle(result) }
        if !started {
            started = true
            sink.polling.add(1, ordering: .relaxed)
        }
    }

    func handle(_ result: Result<ClientResponse, ClientFailure>) {
        let arrived = monotonicNanos()
        switch result {
        case .success(let response) where response.status == 200:
            var seqs = AnswerScanner.integers("\"seq\":", in: response.body)
            let ids = AnswerScanner.strings("\"client_id\":", in: response.body)
            for (k, seq) in seqs.enumerated() {
                if k < ids.count, let sent = AnswerScanner.sendTime(fromClientID: ids[k]), arrived > sent {
                    delays.append(arrived - sent)
                }
                after = Swift.max(after, seq)
            }
            sink.delivered(seqs)          // before `record`: a planted fault must not stall the coordinator
            record(&seqs)
            poll()
        case .success(let response):
            errors["HTTP \(response.status)", default: 0] += 1
            _ = connection.loop.schedule(after: 0.1) { [self] in poll() }
        case .failure(.closedBeforeResponse):
            errors["closed before a response", default: 0] += 1
            _ = connection.loop.schedule(after: 0.01) { [self] in poll() }
        case .failure(let failure):
            errors["\(failure)", default: 0] += 1
            _ = connection.loop.schedule(after: 0.1) { [self] in poll() }
        }
    }

    func record(_ seqs: inout [Int]) {
        if let planted = plant, let first = seqs.first {
            plant = nil
            switch planted {
            case .duplicate: seqs.insert(first, at: 0)
            case .gap: seqs.removeFirst()
            case .lost, .extra: break          // faults of the post record, not of a reader
            }
        }
        for seq in seqs { verifier.receive(seq) }
    }

    func stop() {
        stopped = true
        connection.close()
    }
}
