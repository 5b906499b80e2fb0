// Connection timeouts: head (10 s from the first byte, or from accept), body (10 s without progress), idle
// keep-alive (60 s), slow readers (60 s without write progress).
import Transport

extension HTTPConnection {
    /// Sets when this connection times out (0: no timeout). Timer entries are re-armed lazily: moving a deadline
    /// later costs nothing; the entry fires early, sees the later deadline and re-arms once.
    func setDeadline(_ when: UInt64) {
        deadline = when
        if when != 0 && (armedDeadline == 0 || when < armedDeadline) { arm(when) }
    }

    func arm(_ when: UInt64) {
        timer?.cancel()
        armedDeadline = when
        timer = context.loop.schedule(at: when) { [unowned self] in self.timerFired() }
    }

    func timerFired() {
        armedDeadline = 0
        timer = nil
        guard !conn.isClosed, deadline != 0 else { return }
        if deadline <= context.loop.now {
            // A slow but steady reader is not cut mid-answer: each write that sends bytes moves the idle deadline
            // (issue 13 item 6); only `idleTimeout` without progress ends it. Checked here, lazily, not per write.
            // Progress is a write that sent bytes, or the peer reading what the kernel already holds (SIOCOUTQ).
            if conn.hasPendingOutput, case .head = state {
                if conn.peerReadSinceLastCheck() {
                    deadline = context.idleDeadline
                    arm(deadline)
                    return
                }
                if conn.lastWriteProgress &+ context.idleTimeout > context.loop.now {
                    deadline = conn.lastWriteProgress &+ context.idleTimeout
                    arm(deadline)
                    return
                }
            }
            timedOut()
        } else if armedDeadline == 0 || deadline < armedDeadline {
            arm(deadline)
        }
    }

    /// A head that is too slow gets 408 (best effort) and the connection closes; idle and lingering ones just close.
    func timedOut() {
        var what: String? = nil
        switch state {
        case .head where headStarted: what = "head"
        case .body, .chunked: what = "body"   // issue 13 item 2: a body without progress for the head timeout
        default: break
        }
        if let what, exchanges.isEmpty, !conn.hasPendingOutput {
            closeAfterWrites = true
            ResponseWriter.write(.problem(status: 408, code: "request_timeout", detail: "the request \(what) took too long"),
                                 to: &conn.output, isHead: false, close: true, versionMinor: 1, date: context.date)
            _ = conn.flush()
        }
        close()
    }
}
