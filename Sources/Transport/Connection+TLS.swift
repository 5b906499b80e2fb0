// Connection's I/O through OpenSSL when `tls` is set: the same read/write results as a plain socket, plus the two
// cases TLS adds — a read that must wait to write (the handshake) and a write that must wait to read.
import Glibc

extension Connection {
    /// Reads plaintext: from the socket, or decrypted by OpenSSL. `.done(0)` is the end of the stream.
    func transportRead(_ buffer: UnsafeMutableRawPointer, _ count: Int) throws(SystemError) -> IOResult {
        guard let tls else { return try Socket.read(fd, buffer, count) }
        switch tls.read(into: buffer, count: count) {
        case .done(let n): return .done(n)
        case .wantRead: return .wouldBlock
        case .wantWrite:
            tlsReadWantsWrite = true
            updateInterest()
            return .wouldBlock
        case .closed: return .done(0)
        case .failed: throw SystemError("TLS read", errno: EPROTO)
        }
    }

    /// Writes plaintext: to the socket, or encrypted by OpenSSL (which may take fewer bytes than offered).
    func transportWrite(_ bytes: UnsafeRawPointer, _ count: Int) throws(SystemError) -> IOResult {
        guard let tls else { return try Socket.write(fd, bytes, count) }
        switch tls.write(bytes, count: count) {
        case .done(let n): return .done(n)
        case .wantWrite: return .wouldBlock
        case .wantRead:
            tlsWriteWantsRead = true
            return .wouldBlock
        case .closed, .failed: throw SystemError("TLS write", errno: EPIPE)
        }
    }

    /// Readiness one side of TLS waited for on behalf of the other: a handshake read that needed the socket
    /// writable, or a write that needed bytes from the peer. True when the event is fully handled here.
    func tlsSwapsReadiness(_ events: UInt32) -> Bool {
        var handled = false
        if tlsReadWantsWrite, events & (EventMask.writable | EventMask.error | EventMask.hangup) != 0 {
            tlsReadWantsWrite = false
            updateInterest()
            if reading { readOnce() }
            handled = !hasPendingOutput
        }
        if tlsWriteWantsRead, !isClosed, events & (EventMask.readable | EventMask.error | EventMask.hangup) != 0 {
            tlsWriteWantsRead = false
            updateInterest()
            switch flush() {
            case .done: delegate?.connectionDrained(self)
            case .failed: markPeerClosed(gone: true)
            case .pending: break
            }
        }
        return handled && events & EventMask.readable == 0
    }
}
