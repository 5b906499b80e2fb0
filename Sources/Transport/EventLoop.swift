// One event loop per core: level-triggered epoll, an eventfd for work from other threads, and a deadline heap.
import CLinux
import Glibc
import Synchronization

/// Something registered with a loop for fd readiness. Called on the loop thread.
public protocol EventHandler: AnyObject {
    /// `events` are epoll bits; ERR and HUP come with them and must be handled as "readable" (the read sees the close).
    func handleEvent(_ events: UInt32)
}

/// The epoll bits, without C in callers.
public enum EventMask {
    public static let readable = konnect_epollin()
    public static let writable = konnect_epollout()
    public static let error = konnect_epollerr()
    public static let hangup = konnect_epollhup()
    public static let readHangup = konnect_epollrdhup()
}

/// A single-threaded reactor (redis ae.c in spirit): file events, timers, and a queue other threads may feed.
/// Everything but `execute`, `stop` and `inLoop` must be called on the loop's own thread.
public final class EventLoop: @unchecked Sendable {
    struct Registration {
        var id: UInt32 = 0
        var handler: EventHandler? = nil
    }

    let epfd: Int32
    let wakeFD: Int32                                   // eventfd: other threads' "look at your queue" signal
    @exclusivity(unchecked) var registrations: [Registration] = []   // indexed by fd (loop thread only)
    var nextID: UInt32 = 1                              // registration ids: stale events for a reused fd are ignored
    @exclusivity(unchecked) var timers = TimerHeap()
    let pending = Locked<[@Sendable () -> Void]>([])    // closures from other threads
    let wakePending = Atomic<Bool>(false)               // coalesces eventfd writes
    let stopRequested = Atomic<Bool>(false)
    let thread = Atomic<UInt>(0)                        // the owning pthread, for `inLoop`
    let eventsBuffer = UnsafeMutablePointer<UInt32>.allocate(capacity: 256)
    let dataBuffer = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
    /// Every connection of this loop reads into this buffer and keeps only the bytes that arrived, so a client that
    /// trickles a head (slowloris) holds ~1 KiB, not a read-sized buffer (issue 13 item 3).
    public let readScratch = UnsafeMutableRawPointer.allocate(byteCount: EventLoop.readScratchSize, alignment: 16)
    public static let readScratchSize = 64 * 1024

    /// The monotonic time at the latest wake-up (ns); cheaper than a clock call per event.
    public private(set) var now: UInt64 = monotonicNanos()
    /// Called once per loop iteration after events and timers, before sleeping.
    public var beforeSleep: (() -> Void)?
    /// A stable index for this loop among its siblings (for logs and per-loop state).
    public let index: Int

    public init(index: Int = 0) throws {
        self.index = index
        epfd = konnect_epoll_create()
        if epfd < 0 { throw SystemError("epoll_create1", errno: konnect_errno()) }
        wakeFD = konnect_eventfd()
        if wakeFD < 0 { throw SystemError("eventfd", errno: konnect_errno()) }
        if konnect_epoll_ctl(epfd, EPOLL_CTL_ADD, wakeFD, EventMask.readable, UInt64(UInt32(bitPattern: wakeFD))) != 0 {
            throw SystemError("epoll_ctl(eventfd)", errno: konnect_errno())
        }
    }

    deinit {
        readScratch.deallocate()
        Glibc.close(epfd)
        Glibc.close(wakeFD)
        eventsBuffer.deallocate()
        dataBuffer.deallocate()
    }

    /// True on the loop's own thread.
    public var inLoop: Bool { pthread_equal(pthread_self(), thread.load(ordering: .relaxed)) != 0 }

    // MARK: file events

    /// Watches `fd` for `events`; returns the registration id to pass to `modify`.
    @discardableResult
    public func register(fd: Int32, events: UInt32, handler: EventHandler) throws -> UInt32 {
        let id = nextID
        nextID = nextID &+ 1 == 0 ? 1 : nextID &+ 1
        let index = Int(fd)
        if index >= registrations.count {
            registrations.append(contentsOf: repeatElement(Registration(), count: Swift.max(index + 1 - registrations.count, 1024)))
        }
        registrations[index] = Registration(id: id, handler: handler)
        if konnect_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, events, UInt64(UInt32(bitPattern: fd)) | UInt64(id) << 32) != 0 {
            registrations[index] = Registration()
            throw SystemError("epoll_ctl(ADD)", errno: konnect_errno())
        }
        return id
    }

    /// Changes the watched events of a registered fd.
    public func modify(fd: Int32, id: UInt32, events: UInt32) {
        _ = konnect_epoll_ctl(epfd, EPOLL_CTL_MOD, fd, events, UInt64(UInt32(bitPattern: fd)) | UInt64(id) << 32)
    }

    /// Forgets `fd`. With `closing`, the caller is about to close it, which removes it from epoll for free.
    public func deregister(fd: Int32, closing: Bool) {
        let index = Int(fd)
        if index < registrations.count { registrations[index] = Registration() }
        if !closing { _ = konnect_epoll_ctl(epfd, EPOLL_CTL_DEL, fd, 0, 0) }
    }

    // MARK: cross-thread work

    /// Runs `work` on the loop thread soon. Safe from any thread; wake-ups are coalesced into one eventfd write.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        pending.withLock { $0.append(work) }
        if !wakePending.exchange(true, ordering: .acquiringAndReleasing) {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }
    }

    func runPending() {
        var counter: UInt64 = 0
        _ = Glibc.read(wakeFD, &counter, 8)
        // Clear the flag before taking the queue: a closure added after this point writes the eventfd again.
        wakePending.store(false, ordering: .sequentiallyConsistent)
        let work = pending.withLock { queue -> [@Sendable () -> Void] in
            let taken = queue
            queue.removeAll(keepingCapacity: true)
            return taken
        }
        for item in work { item() }
    }

    // MARK: timers

    /// Calls `action` on the loop thread at `deadline` (monotonic ns). Cancel with `cancel()` on the result.
    @discardableResult
    public func schedule(at deadline: UInt64, _ action: @escaping () -> Void) -> LoopTimer {
        let timer = LoopTimer(deadline: deadline, loop: self, action: action)
        timers.push(timer)
        return timer
    }

    @discardableResult
    public func schedule(after seconds: Double, _ action: @escaping () -> Void) -> LoopTimer {
        schedule(at: monotonicNanos() &+ nanos(seconds), action)
    }

    /// Pending timers.
    public var timerCount: Int { timers.count }

    // MARK: running

    /// Asks the loop to return from `run` after the current iteration. Safe from any thread.
    public func stop() {
        stopRequested.store(true, ordering: .sequentiallyConsistent)
        execute {}
    }

    /// Runs until `stop`. Call on the thread that owns the loop (see `startThread`).
    public func run() {
        thread.store(pthread_self(), ordering: .relaxed)
        while !stopRequested.load(ordering: .relaxed) {
            let n = konnect_epoll_wait(epfd, eventsBuffer, dataBuffer, 256, timeoutMilliseconds())
            now = monotonicNanos()
            if n > 0 {
                for i in 0..<Int(n) {
                    dispatch(events: eventsBuffer[i], data: dataBuffer[i])
                    // Work from other threads (answers to parked requests) goes before the rest of this batch:
                    // a post waking 10,000 long-polls must not wait behind the re-polls of those already woken.
                    if wakePending.load(ordering: .relaxed) { runPending() }
                }
            }
            runTimers()
            beforeSleep?()
        }
        // Stopped: drop what the loop holds (timer closures, handlers, queued work) so owner ↔ loop cycles end.
        timers.removeAll()
        registrations.removeAll()
        beforeSleep = nil
        pending.withLock { $0.removeAll() }
    }

    @inline(__always)
    func dispatch(events: UInt32, data: UInt64) {
        let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: data))
        if fd == wakeFD { runPending(); return }
        let index = Int(fd)
        guard index < registrations.count else { return }
        let registration = registrations[index]
        guard registration.id == UInt32(truncatingIfNeeded: data >> 32), let handler = registration.handler else { return }
        handler.handleEvent(events)
    }

    func timeoutMilliseconds() -> Int32 {
        guard let next = timers.nextDeadline else { return -1 }
        let current = monotonicNanos()
        if next <= current { return 0 }
        let ms = (next - current + 999_999) / 1_000_000   // round up: never wake before the deadline
        return Int32(Swift.min(ms, 60_000))
    }

    func runTimers() {
        while let timer = timers.popDue(now: now) {
            timer.action()
        }
    }

    /// Starts a thread that runs this loop.
    public func startThread() {
        let box = Unmanaged.passRetained(ThreadBox { [self] in self.run() })
        var tid: pthread_t = 0
        pthread_create(&tid, nil, { raw in
            let box = Unmanaged<ThreadBox>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box.toOpaque())
        thread.store(tid, ordering: .relaxed)   // the value `run` stores too; set here so `inLoop` is right at once
        joinable = tid
    }

    nonisolated(unsafe) var joinable: pthread_t = 0

    /// Waits for the thread started by `startThread` to finish.
    public func join() {
        if joinable != 0 { pthread_join(joinable, nil); joinable = 0 }
    }
}

final class ThreadBox {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}
