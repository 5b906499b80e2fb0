// Transport's EventLoop (tested here: the package has no Transport test target): cross-thread work and timers.
import Dispatch
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
}
