// HTTPConnection at shutdown and past the connection limit.
import Transport

extension HTTPConnection {
    /// Shutdown: parked requests get their deadline answer at once; in-flight ones finish; then close.
    func shutdownNow() {
        if case .head = state { closeAfterWrites = true }
        for exchange in exchanges where exchange.parked { exchange.fireDeadline() }
        for exchange in exchanges where exchange.isStream { endStream(exchange) }   // the last chunk, then close
        if conn.isClosed { return }
        if exchanges.isEmpty, case .head = state { close(); return }
        finishRound()
    }

    /// Over the connection limit: a canned 503 problem, then a lingering close. Never counted as open.
    func rejectOverLimit() {
        closeAfterWrites = true
        ResponseWriter.write(.problem(status: 503, code: "too_many_connections", detail: "the server is at its connection limit",
                                      headers: HTTPHeaders([("Retry-After", "1")])),
                             to: &conn.output, isHead: false, close: true, versionMinor: 1, date: context.date)
        finishRound()
    }
}
