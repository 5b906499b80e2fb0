// A connected socket on a loop: input buffer, output buffer with a sent offset, and its epoll interest.
import CLinux
import Glibc

/// What a connection's owner (the protocol layer) is told. All calls come on the loop thread.
public protocol ConnectionDelegate: AnyObject {
    /// New bytes were appended to `connection.input`.
    func connectionReadable(_ connection: Connection)
    /// The peer closed, reset or errored (read returned 0, ERR/HUP/RDHUP). Reading has stopped.
    func connectionPeerClosed(_ connection: Connection)
    /// Output that had to wait for EPOLLOUT is now fully written.
    func connectionDrained(_ connection: Connection)
}

/// Result of `flush()`.
public enum FlushResult {
    case done        // all output written
    case pending     // the socket buffer is full; EPOLLOUT is installed and the rest goes out later
    case failed      // the peer is gone
}

/// One client socket (redis `connection` in spirit). Buffers are allocated on demand and freed when empty, so an
/// idle keep-alive connection costs this object and nothing else.
public final class Connection: EventHandler {
    public let fd: Int32
    public unowned(unsafe) let loop: EventLoop   // the loop outlives its connections (it closes them first)
    @exclusivity(unchecked) public var input = ByteBuffer()       // bytes read, not yet consumed by the delegate
    @exclusivity(unchecked) public var output = ByteBuffer()       // bytes queued; `readerIndex` is the bytes-sent offset
    public var delegate: ConnectionDelegate?  // strong; released by `close` (the loop keeps us alive till then)
    var registration: UInt32 = 0
    var interest: UInt32 = 0                 // events currently registered with epoll
    public private(set) var reading = true   // false while the delegate applies back-pressure
    public private(set) var peerClosed = false
    public private(set) var isClosed = false

    public init(fd: Int32, loop: EventLoop) {
        self.fd = fd
        self.loop = loop
    }

    /// Registers with the loop, watching for input.
    public func start() throws {
        interest = EventMask.readable | EventMask.readHangup
        registration = try loop.register(fd: fd, events: interest, handler: self)
    }

    public func handleEvent(_ events: UInt32) {
        if events & EventMask.writable != 0 && !isClosed {
            switch flush() {
            case .done: delegate?.connectionDrained(self)
            case .failed: markPeerClosed()
            case .pending: break
            }
        }
        let closeBits = EventMask.error | EventMask.hangup
        if isClosed || peerClosed { return }
        if reading && events & (EventMask.readable | closeBits | EventMask.readHangup) != 0 {
            readOnce()
        } else if events & (closeBits | EventMask.readHangup) != 0 {
            // Not reading (back-pressure) but the peer hung up: tell the owner now, a parked request must know.
            markPeerClosed()
        }
    }

    /// One read per readiness event: level-triggered epoll calls again if more is waiting.
    func readOnce() {
        input.reserve(input.readableBytes >= 16 * 1024 ? 64 * 1024 : 16 * 1024)
        let space = input.capacity - input.writerIndex
        do {
            switch try Socket.read(fd, input.writablePointer, space) {
            case .wouldBlock:
                if input.isEmpty { input.free() }
            case .done(0):
                if input.isEmpty { input.free() }
                markPeerClosed()
            case .done(let n):
                input.commit(n)
                delegate?.connectionReadable(self)
            }
        } catch {
            markPeerClosed()
        }
    }

    func markPeerClosed() {
        guard !peerClosed && !isClosed else { return }
        peerClosed = true
        reading = false
        updateInterest()
        delegate?.connectionPeerClosed(self)
    }

    /// Writes queued output now ("try writing before sleeping"); installs EPOLLOUT only if the socket is full.
    @discardableResult
    public func flush() -> FlushResult {
        if isClosed { return .failed }
        while !output.isEmpty {
            let pending = output.readable
            do {
                switch try Socket.write(fd, pending.baseAddress!, pending.count) {
                case .done(let n):
                    output.consume(n)
                case .wouldBlock:
                    updateInterest()
                    return .pending
                }
            } catch {
                output.free()
                return .failed
            }
        }
        output.free()
        if interest & EventMask.writable != 0 { updateInterest() }
        return .done
    }

    /// Whether output is still waiting for the socket.
    public var hasPendingOutput: Bool { !output.isEmpty }

    /// Stops or resumes reading (back-pressure: too many pipelined requests, or output piling up).
    public func setReading(_ on: Bool) {
        guard on != reading, !peerClosed else { return }
        reading = on
        updateInterest()
    }

    func updateInterest() {
        guard !isClosed else { return }
        var events: UInt32 = 0
        if reading { events |= EventMask.readable }
        if !peerClosed { events |= EventMask.readHangup }
        if !output.isEmpty { events |= EventMask.writable }
        if events != interest {
            interest = events
            loop.modify(fd: fd, id: registration, events: events)
        }
    }

    /// Half-closes our side after the output is written (RFC 9112 §9.6 lingering close).
    public func shutdownWrite() { if !isClosed { Socket.shutdownWrite(fd) } }

    /// Closes the socket and frees the buffers. Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        loop.deregister(fd: fd, closing: true)
        Socket.close(fd)
        input.free()
        output.free()
        delegate = nil
    }

    deinit {
        if !isClosed { Socket.close(fd) }
        input.free()
        output.free()
    }
}
