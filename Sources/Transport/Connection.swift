// A connected socket on a loop: input buffer, output buffer with a sent offset, and its epoll interest.
import CLinux
import Glibc

/// What a connection's owner (the protocol layer) is told. All calls come on the loop thread.
public protocol ConnectionDelegate: AnyObject {
    /// New bytes were appended to `connection.input`.
    func connectionReadable(_ connection: Connection)
    /// The peer closed its sending side (read returned 0, RDHUP: `peerGone` false — it may still read our answers,
    /// RFC 9112 §9.6 half-close) or is gone (reset, ERR/HUP, a failed read or write: `peerGone` true). Reading has
    /// stopped. Called again, with `peerGone` now true, if a half-closed peer later goes away.
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
    public private(set) var peerClosed = false   // no more input: EOF, hang-up or error
    public private(set) var peerGone = false     // nothing can be written either: reset, ERR/HUP, failed I/O
    public private(set) var lastWriteProgress: UInt64 = 0   // loop time of the last write that sent bytes
    public private(set) var bytesWritten = 0     // total bytes sent on this socket
    var tail: [UInt8]? = nil                     // a large body sent from its own storage after `output` (no copy)
    var tailOffset = 0                           // bytes of `tail` already sent
    public private(set) var isClosed = false
    /// Set before `start()` on an HTTPS listener: every read and write goes through OpenSSL on this socket.
    public var tls: TLSSession?
    var tlsReadWantsWrite = false                // a TLS read (the handshake) waits for the socket to take bytes
    var tlsWriteWantsRead = false                // a TLS write waits for bytes from the peer

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
        if tls != nil, !isClosed, tlsSwapsReadiness(events) { return }
        if events & EventMask.writable != 0 && !isClosed {
            switch flush() {
            case .done: delegate?.connectionDrained(self)
            case .failed: markPeerClosed(gone: true)
            case .pending: break
            }
        }
        let closeBits = EventMask.error | EventMask.hangup
        if isClosed { return }
        if peerClosed {
            // Half-closed peer: ERR/HUP (always reported by epoll) now means it is gone altogether.
            if events & closeBits != 0 { markPeerClosed(gone: true) }
            return
        }
        if reading && events & (EventMask.readable | closeBits | EventMask.readHangup) != 0 {
            readOnce()
        } else if events & (closeBits | EventMask.readHangup) != 0 {
            // Not reading (back-pressure) but the peer hung up: tell the owner now, a parked request must know.
            markPeerClosed(gone: events & closeBits != 0)
        }
    }

    /// One read per readiness event: level-triggered epoll calls again if more is waiting.
    /// Reads into the loop's scratch buffer and appends only what arrived: `input` is sized to what is buffered.
    func readOnce() {
        do {
            switch try transportRead(loop.readScratch, EventLoop.readScratchSize) {
            case .wouldBlock:
                if input.isEmpty { input.free() }
            case .done(0):
                if input.isEmpty { input.free() }
                markPeerClosed()
            case .done(let n):
                input.append(UnsafeRawBufferPointer(start: loop.readScratch, count: n))
                // Plaintext OpenSSL already decrypted is no longer in the socket: epoll will not say so again.
                while let tls, tls.pending > 0, case .done(let more) = try transportRead(loop.readScratch, EventLoop.readScratchSize), more > 0 {
                    input.append(UnsafeRawBufferPointer(start: loop.readScratch, count: more))
                }
                delegate?.connectionReadable(self)
            }
        } catch {
            markPeerClosed(gone: true)
        }
    }

    func markPeerClosed(gone: Bool = false) {
        guard !isClosed, !peerGone, !peerClosed || gone else { return }
        peerClosed = true
        if gone { peerGone = true }
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
                switch try transportWrite(pending.baseAddress!, pending.count) {
                case .done(let n):
                    output.consume(n)
                    bytesWritten &+= n
                    lastWriteProgress = loop.now
                case .wouldBlock:
                    updateInterest()
                    return .pending
                }
            } catch {
                output.free()
                tail = nil
                return .failed
            }
        }
        output.free()
        if let body = tail {
            var failed = false
            let blocked = body.withUnsafeBytes { b -> Bool in
                while tailOffset < b.count {
                    do {
                        switch try transportWrite(b.baseAddress! + tailOffset, b.count - tailOffset) {
                        case .done(let n):
                            tailOffset += n
                            bytesWritten &+= n
                            lastWriteProgress = loop.now
                        case .wouldBlock:
                            return true
                        }
                    } catch {
                        failed = true
                        return false
                    }
                }
                return false
            }
            if failed { tail = nil; return .failed }
            if blocked { updateInterest(); return .pending }
            tail = nil
            tailOffset = 0
        }
        if interest & EventMask.writable != 0 { updateInterest() }
        return .done
    }

    /// Whether the peer has read (acknowledged) bytes since the last call: the kernel's unacknowledged send queue
    /// shrank. A reader slower than the socket buffer shows progress here long before a write can (the kernel wakes
    /// writers only once much of the buffer is free). Cheap enough for timeouts, not for every write.
    public func peerReadSinceLastCheck() -> Bool {
        let queued = Int(konnect_send_queue(fd))
        defer { lastSendQueue = queued }
        return queued >= 0 && queued < lastSendQueue
    }
    var lastSendQueue = Int.max                  // SIOCOUTQ at the last `peerReadSinceLastCheck`

    /// Whether output is still waiting for the socket.
    public var hasPendingOutput: Bool { !output.isEmpty || tail != nil }

    /// Bytes of the large body still to send (0 without one).
    public var tailRemaining: Int { tail.map { $0.count - tailOffset } ?? 0 }

    /// Whether a large body is still waiting to be sent (no more output may be appended until it is).
    public var hasTail: Bool { tail != nil }

    /// Queues `body` to be sent after `output`, from the array's own storage: a large answer (often a cached page
    /// shared by many connections) is not copied per connection. Append nothing to `output` until `hasTail` is false.
    public func sendTail(_ body: [UInt8]) {
        precondition(tail == nil, "one tail at a time")
        tail = body
        tailOffset = 0
    }

    /// Stops or resumes reading (back-pressure: too many pipelined requests, or output piling up).
    public func setReading(_ on: Bool) {
        guard on != reading, !peerClosed else { return }
        reading = on
        updateInterest()
    }

    func updateInterest() {
        guard !isClosed else { return }
        var events: UInt32 = 0
        if reading || tlsWriteWantsRead { events |= EventMask.readable }
        if !peerClosed { events |= EventMask.readHangup }
        if (hasPendingOutput && !tlsWriteWantsRead) || tlsReadWantsWrite { events |= EventMask.writable }
        if events != interest {
            interest = events
            loop.modify(fd: fd, id: registration, events: events)
        }
    }

    /// Half-closes our side after the output is written (RFC 9112 §9.6 lingering close).
    public func shutdownWrite() {
        guard !isClosed else { return }
        tls?.shutdown()                          // close_notify first (RFC 8446 §6.1), then the TCP half-close
        Socket.shutdownWrite(fd)
    }

    /// Closes the socket and frees the buffers. Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        loop.deregister(fd: fd, closing: true)
        tls?.shutdown()
        tls = nil
        Socket.close(fd)
        input.free()
        output.free()
        tail = nil
        delegate = nil
    }

    deinit {
        if !isClosed { Socket.close(fd) }
        input.free()
        output.free()
    }
}
