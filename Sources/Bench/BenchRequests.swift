// `konnect bench` set-up at scale: many independent requests over a few dozen connections at once (bots, joins).
import HTTP
import Synchronization
import Transport

/// Runs requests 0..<count over `connections` keep-alive connections on the bench's loops, each connection taking
/// the next index when its answer is in (writes then share the server's group commits). `make` builds request i,
/// `check` reads its answer (nil: fine, else why not). Throws the first failure once all are done.
enum BenchRequests {
    struct Request {
        var method: String
        var target: String
        var headers: [(String, String)]
        var body: [UInt8] = []
    }

    static func run(_ loops: BenchLoops, count: Int, connections: Int = 32, timeout: Double = 300,
                    make: @escaping @Sendable (Int) -> Request,
                    check: @escaping @Sendable (Int, ClientResponse) -> String?) throws {
        guard count > 0 else { return }
        let nextIndex = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        let failure = Mutex<String?>(nil)
        let workers = (0..<Swift.min(connections, count)).map { UnsafeTransfer(loops.connection($0)) }
        for worker in workers {
            worker.value.loop.execute {
                let connection = worker.value
                func next() {
                    let i = nextIndex.add(1, ordering: .relaxed).oldValue
                    guard i < count else { return }
                    let r = make(i)
                    connection.send(method: r.method, target: r.target, headers: r.headers, body: r.body, timeout: 60) { result in
                        switch result {
                        case .success(let response):
                            if let why = check(i, response) { failure.withLock { $0 = $0 ?? why } }
                        case .failure(let f):
                            failure.withLock { $0 = $0 ?? "\(r.method) \(r.target): \(f)" }
                        }
                        done.add(1, ordering: .relaxed)
                        next()
                    }
                }
                next()
            }
        }
        let finished = waitUntil(timeout: timeout, poll: 0.005) { done.load(ordering: .relaxed) >= count }
        loops.loops.forEach { loop in loop.execute { for w in workers where w.value.loop === loop { w.value.close() } } }
        if let why = failure.withLock({ $0 }) { throw BenchError(why) }
        if !finished { throw BenchError("set-up requests did not finish within \(Int(timeout)) s") }
    }
}
