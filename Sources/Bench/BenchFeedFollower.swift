// `konnect bench feed`: a follower long-polling `GET /events?after=&wait=`, verifying its room's seqs and the pos order.
import HTTP
import Transport

/// What a feed follower keeps of the events it is handed (long-poll pages and stream lines alike): its room's
/// seqs through a `DeliveryVerifier` (every seq exactly once, in order), positions strictly rising over all events
/// (API.md "The feed": every event exactly once, in `pos` order), and the delay of each of its room's posts.
struct FeedRecord {
    let room: [UInt8]                         // the followed room's name, as it appears in `"room":"…"`
    var verifier: DeliveryVerifier
    var lastPos = 0                           // highest pos seen
    var orderFaults: [DeliveryFault] = []
    var delays: [UInt64] = []
    var plant: PlantedFault?

    init(room: String, after: Int, feedAfter: Int) {
        self.room = Array(room.utf8)
        verifier = DeliveryVerifier(after: after)
        lastPos = feedAfter
    }

    /// Every event in `body` (a page's `events` or stream lines): returns the seqs of the followed room, in order.
    mutating func take(_ body: [UInt8], arrived: UInt64) -> [Int] {
        var seqs: [Int] = []
        FeedScanner.forEachEvent(in: body) { event in
            if event.pos <= lastPos { orderFaults.append(.feedOrder(pos: event.pos, after: lastPos)) }
            lastPos = Swift.max(lastPos, event.pos)
            guard let seq = event.seq, event.room.elementsEqual(room) else { return }   // other rooms (general) and joined/left
            if let sent = AnswerScanner.sendTime(fromClientID: event.clientID), arrived > sent { delays.append(arrived - sent) }
            seqs.append(seq)
        }
        return seqs
    }

    /// Records `seqs` (after the sink counted them: a planted fault must not stall the coordinator).
    mutating func record(_ seqs: [Int]) {
        var seqs = seqs
        if let planted = plant, let first = seqs.first {
            plant = nil
            switch planted {
            case .duplicate: seqs.insert(first, at: 0)
            case .gap: seqs.removeFirst()
            case .lost, .extra: break
            }
        }
        for seq in seqs { verifier.receive(seq) }
    }

    func faults(expectedLast: Int) -> [DeliveryFault] { orderFaults + verifier.finish(expectedLast: expectedLast) }
}

/// Events out of the feed's JSON by byte search (the bench's texts have no quotes; API.md fixes the keys): each
/// event starts at `{"pos":`, and a message event carries `"room":"…"` then its message's `"seq":` and `"client_id":`.
enum FeedScanner {
    struct Event {
        var pos: Int
        var room: ArraySlice<UInt8>
        var seq: Int?                        // nil: not a message event
        var clientID: String?
    }

    static let posKey: [UInt8] = Array("{\"pos\":".utf8)

    static func forEachEvent(in body: [UInt8], _ found: (Event) -> Void) {
        var starts: [Int] = []
        var i = 0
        let n = body.count, k = posKey.count
        while i + k <= n {
            if body[i] == posKey[0] && body[i + 1] == posKey[1] && body[i + 2] == posKey[2] {
                var match = true
                for t in 3..<k where body[i + t] != posKey[t] { match = false; break }
                if match { starts.append(i) }
            }
            i += 1
        }
        for (index, start) in starts.enumerated() {
            let end = index + 1 < starts.count ? starts[index + 1] : n
            let segment = starts.count == 1 ? body : Array(body[start..<end])   // one event: no copy
            guard let pos = AnswerScanner.integers("{\"pos\":", in: segment).first else { continue }
            let isMessage = contains(segment, "\"type\":\"message\"")
            let room = AnswerScanner.strings("\"room\":", in: segment).first.flatMap { $0 }.map { Array($0.utf8)[...] } ?? []
            var event = Event(pos: pos, room: room, seq: nil, clientID: nil)
            if isMessage {
                event.seq = AnswerScanner.integers("\"seq\":", in: segment).first
                event.clientID = AnswerScanner.strings("\"client_id\":", in: segment).first ?? nil
            }
            found(event)
        }
    }

    static func contains(_ body: [UInt8], _ key: StaticString) -> Bool {
        var hit = false
        AnswerScanner.forEach(key, in: body) { _, _ in hit = true }
        return hit
    }
}

/// One long-polling feed follower: `GET /events?after=N&wait=W`, then again from the answer's `next`.
final class FeedFollower: BenchFollower {
    let connection: ClientConnection
    let headers: [(String, String)]
    let wait: Int
    let sink: DeliverySink
    var record: FeedRecord
    var next: Int                             // the feed cursor: the last answer's `next`
    var errors: [String: Int] = [:]
    var stopped = false
    var started = false

    init(connection: ClientConnection, room: String, token: String, after: Int, feedAfter: Int, wait: Int, sink: DeliverySink) {
        self.connection = connection
        headers = [("Authorization", "Bearer \(token)")]
        self.wait = wait
        self.sink = sink
        record = FeedRecord(room: room, after: after, feedAfter: feedAfter)
        next = feedAfter
    }

    var plant: PlantedFault? {
        get { record.plant }
        set { record.plant = newValue }
    }
    var delays: [UInt64] { record.delays }
    func faults(expectedLast: Int) -> [DeliveryFault] { record.faults(expectedLast: expectedLast) }

    func start() { poll() }

    func poll() {
        guard !stopped else { return }
        connection.send(method: "GET", target: "/events?after=\(next)&wait=\(wait)", headers: headers,
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
            let seqs = record.take(response.body, arrived: arrived)
            if let n = AnswerScanner.integers("\"next\":", in: response.body).last { next = n }
            sink.delivered(seqs)
            record.record(seqs)
            poll()
        case .success(let response):
            errors["HTTP \(response.status)", default: 0] += 1
            _ = connection.loop.schedule(after: 0.1) { [self] in poll() }
        case .failure(let failure):
            errors["\(failure)", default: 0] += 1
            _ = connection.loop.schedule(after: failure == .closedBeforeResponse ? 0.01 : 0.1) { [self] in poll() }
        }
    }

    func stop() {
        stopped = true
        connection.close()
    }
}
