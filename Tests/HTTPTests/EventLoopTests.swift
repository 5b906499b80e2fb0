// Transport's EventLoop (tested here: the package has no Transport test target): cross-thread work and timers.
import Dispatch
import Glibc
import Synchronization
import XCTest
import Transport

final class EventLoopTests: XCTestCase {
    func testExecuteFromManyThreadsRunsEveryClosureOnTheLoop() throws {
        let loop = try EventLoop()
        loop.startThread()
        defer { loop.stop(); loop.join() }
        let count = Atomic<Int>(0)
        let wrongThread = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<1000 {
                loop.execute {
                    if !loop.inLoop { wrongThread.add(1, ordering: .relaxed) }
                    count.add(1, ordering: .relaxed)
                }
            }
        }
        XCTAssertTrue(eventually { count.load(ordering: .relaxed) == 4000 })
        XCTAssertEqual(wrongThread.load(ordering: .relaxed), 0)
    }

    func testTimersFireInDeadlineOrderAndCancelledOnesDoNot() throws {
        let loop = try EventLoop()
        loop.startThread()
        defer { loop.stop(); loop.join() }
        let fired = Locked<[Int]>([])
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            let base = monotonicNanos()
            for (i, ms) in [(3, 90), (1, 30), (2, 60)] {
                loop.schedule(at: base + UInt64(ms) * 1_000_000) { fired.withLock { $0.append(i) } }
            }
            let cancelled = loop.schedule(at: base + 45_000_000) { fired.withLock { $0.append(99) } }
            cancelled.cancel()
            loop.schedule(at: base + 120_000_000) { done.signal() }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(fired.withLock { $0 }, [1, 2, 3])
        let remaining = Atomic<Int>(-1)
        loop.execute { remaining.store(loop.timerCount, ordering: .relaxed) }   // read on the loop's own thread
        XCTAssertTrue(eventually { remaining.load(ordering: .relaxed) == 0 }, "fired and cancelled timers leave the heap")
    }

    /// Answers to parked requests arrive through `execute`; they must not wait behind the rest of an epoll batch
    /// (the re-polls of clients already answered). Two fds ready at once: work queued by the first handler runs
    /// before the second handler.
    func testCrossThreadWorkRunsBeforeTheRestOfTheBatch() throws {
        let loop = try EventLoop()
        let log = Locked<[String]>([])
        var pipes: [[Int32]] = []
        var handlers: [PipeReader] = []
        for name in ["a", "b"] {
            var fds: [Int32] = [0, 0]
            XCTAssertEqual(pipe(&fds), 0)
            pipes.append(fds)
            let handler = PipeReader(fd: fds[0]) {
                log.withLock { $0.append(name) }
                loop.execute { log.withLock { $0.append("work after \(name)") } }
            }
            handlers.append(handler)
            try loop.register(fd: fds[0], events: EventMask.readable, handler: handler)
            var byte: UInt8 = 1
            XCTAssertEqual(write(fds[1], &byte, 1), 1)
        }
        defer { for fds in pipes { close(fds[0]); close(fds[1]) } }
        loop.startThread()
        defer { loop.stop(); loop.join() }
        XCTAssertTrue(eventually { log.withLock { $0.count } == 4 })
        let order = log.withLock { $0 }
        XCTAssertEqual(order.count, 4)
        XCTAssertEqual(order[1], "work after \(order[0])", "queued work ran before the second ready fd: \(order)")
        XCTAssertEqual(order[3], "work after \(order[2])")
    }
}

/// Reads a pipe's bytes and reports once per readiness.
private final class PipeReader: EventHandler {
    let fd: Int32
    let onReadable: () -> Void
    init(fd: Int32, onReadable: @escaping () -> Void) {
        self.fd = fd
        self.onReadable = onReadable
    }
    func handleEvent(_ events: UInt32) {
        var byte: UInt8 = 0
        _ = read(fd, &byte, 1)
        onReadable()
    }
}
