// Connection timeouts: head (10 s from the first byte, or from accept), idle keep-alive (60 s), slow readers.
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
            timedOut()
        } else if armedDeadline == 0 || deadline < armedDeadline {
            arm(deadline)
        }
    }

    /// A head that is too slow gets 408 (best effort) and the connection closes; idle and lingering ones just close.
    func timedOut() {
        if case .head = state, headStarted, exchanges.isEmpty, !conn.hasPendingOutput {
            closeAfterWrites = true
            ResponseWriter.write(.problem(status: 408, code: "request_timeout", detail: "the request head took too long"),
                                 to: &conn.output, isHead: false, close: true, versionMinor: 1, date: context.date)
            _ = conn.flush()
        }
        close()
    }
}
