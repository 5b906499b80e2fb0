// `konnect bench` threads: one Transport event loop per core, each carrying thousands of client connections.
import Glibc
import HTTP
import Synchronization
import Transport

/// The client side's loops. Clients are spread round-robin; after `stop` (which joins the threads) every object
/// the loops touched may be read from the calling thread.
final class BenchLoops: @unchecked Sendable {
    let loops: [EventLoop]
    let address: SocketAddress
    let host: String                  // Host header value
    private var stopped = false

    init(count: Int, address: SocketAddress, host: String) throws {
        var made: [EventLoop] = []
        for i in 0..<Swift.max(1, count) { made.append(try EventLoop(index: i)) }
        loops = made
        self.address = address
        self.host = host
        for loop in loops { loop.startThread() }
    }

    /// One loop per online core.
    static var defaultCount: Int { Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    func loop(_ i: Int) -> EventLoop { loops[i % loops.count] }

    /// A fresh client connection on loop `i % count` (connects on first use).
    func connection(_ i: Int) -> ClientConnection { ClientConnection(loop: loop(i), address: address, host: host) }

    /// Runs `work` on every client's loop, `perTick` clients at a time per loop, spacing batches by `spacing`
    /// seconds: thousands of connects at once would overflow the server's accept queue (SYNs are then retried
    /// after a second, which would show up as latency).
    func startStaggered<T>(_ clients: [T], loopOf: (Int) -> Int, perTick: Int = 250, spacing: Double = 0.005,
                                      _ work: @escaping (T) -> Void) {
        var byLoop = [[T]](repeating: [], count: loops.count)
        for (i, client) in clients.enumerated() { byLoop[loopOf(i) % loops.count].append(client) }
        for (index, group) in byLoop.enumerated() where !group.isEmpty {
            let batch = UnsafeTransfer(Batches(group, perTick: perTick, spacing: spacing, work: work))
            let loop = loops[index]
            loop.execute { batch.value.run(on: loop) }
        }
    }

    /// Stops every loop and joins its thread. Idempotent.
    func stop() {
        guard !stopped else { return }
        stopped = true
        for loop in loops { loop.stop() }
        for loop in loops { loop.join() }
    }

    deinit { stop() }
}

/// Starts clients in batches on one loop.
private final class Batches<T> {
    let items: [T]
    let perTick: Int
    let spacing: Double
    let work: (T) -> Void
    var next = 0

    init(_ items: [T], perTick: Int, spacing: Double, work: @escaping (T) -> Void) {
        self.items = items
        self.perTick = perTick
        self.spacing = spacing
        self.work = work
    }

    func run(on loop: EventLoop) {
        let end = Swift.min(items.count, next + perTick)
        while next < end {
            work(items[next])
            next += 1
        }
        if next < items.count { _ = loop.schedule(after: spacing) { self.run(on: loop) } }
    }
}

/// Hands a non-Sendable value to a loop thread that becomes its only user.
struct UnsafeTransfer<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Sleeps the calling (coordinating) thread until `done()` or `timeout` seconds; true when done.
func waitUntil(timeout: Double, poll: Double = 0.001, _ done: () -> Bool) -> Bool {
    let deadline = monotonicNanos() &+ nanos(timeout)
    while !done() {
        if monotonicNanos() >= deadline { return false }
        usleep(UInt32(poll * 1_000_000))
    }
    return true
}
