// A listening socket on a loop: accepts until EAGAIN and hands each new fd to `onAccept`.
import CLinux
import Glibc

/// One listening socket registered with one loop (with SO_REUSEPORT each loop owns one and the kernel spreads
/// connections across them).
public final class Listener: EventHandler {
    public let fd: Int32
    public unowned let loop: EventLoop
    public let port: Int
    var registration: UInt32 = 0
    var paused = false
    /// Called on the loop thread with the accepted (non-blocking) fd and the peer's address.
    let onAccept: (Int32, SocketAddress) -> Void
    public private(set) var isClosed = false

    public init(fd: Int32, loop: EventLoop, onAccept: @escaping (Int32, SocketAddress) -> Void) {
        self.fd = fd
        self.loop = loop
        self.onAccept = onAccept
        self.port = Socket.localAddress(fd).port
    }

    /// Starts accepting; call on the loop thread.
    public func start() throws {
        registration = try loop.register(fd: fd, events: EventMask.readable, handler: self)
    }

    public func handleEvent(_ events: UInt32) {
        var peer = SocketAddress()
        // Bounded batch: accept until EAGAIN, but leave room for the loop's other work under an accept storm.
        for _ in 0..<256 {
            if isClosed { return }
            do {
                switch try Socket.accept(fd, peer: &peer) {
                case .wouldBlock: return
                case .done(let client): onAccept(Int32(client), peer)
                }
            } catch {
                switch error.errno {
                case ECONNABORTED, EPROTO, EPERM: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors: level-triggered epoll would spin, so stop listening for 100 ms.
                    pauseBriefly()
                    return
                default: return
                }
            }
        }
    }

    func pauseBriefly() {
        guard !paused else { return }
        paused = true
        loop.modify(fd: fd, id: registration, events: 0)
        loop.schedule(after: 0.1) { [weak self] in
            guard let self, !self.isClosed else { return }
            self.paused = false
            self.loop.modify(fd: self.fd, id: self.registration, events: EventMask.readable)
        }
    }

    /// Stops accepting and closes the socket (loop thread).
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        loop.deregister(fd: fd, closing: true)
        Socket.close(fd)
    }
}
