// A resumable, incremental HTTP/1.1 request-head parser (RFC 9112 §2–§6), pure over bytes the caller owns.

/// Where a parsed head's parts lie in the caller's buffer (offsets from the start of the bytes passed to `parse`).
/// Compact: four integers per header, no strings, reused between requests.
public struct RequestHead {
    public struct Field {
        public var nameStart: Int32, nameEnd: Int32, valueStart: Int32, valueEnd: Int32
    }
    public var methodStart = 0, methodEnd = 0
    public var targetStart = 0, targetEnd = 0
    public var versionMinor = 1
    public var fields: [Field] = []
    public var contentLength: Int? = nil     // nil when absent
    public var chunked = false               // Transfer-Encoding: chunked (the only coding we accept)
    public var connectionClose = false       // a "close" token in Connection
    public var connectionKeepAlive = false   // a "keep-alive" token in Connection (HTTP/1.0 persistence)
    public var expectContinue = false        // Expect: 100-continue
    public var expectUnknown = false         // another expectation → 417 (RFC 9110 §10.1.1)

    public init() {}

    /// Whether the connection may stay open after this request (RFC 9112 §9.3).
    public var keepAlive: Bool { versionMinor >= 1 ? !connectionClose : (connectionKeepAlive && !connectionClose) }

    mutating func clear() {
        fields.removeAll(keepingCapacity: true)
        contentLength = nil
        chunked = false
        connectionClose = false
        connectionKeepAlive = false
        expectContinue = false
        expectUnknown = false
    }
}

/// The outcome of `RequestParser.parse`.
public enum ParseResult: Equatable, Sendable {
    case complete(consumed: Int)   // a whole head: `consumed` bytes (leading empty lines included); body follows
    case incomplete                // no decision yet: call again with the same bytes plus more
    case error(status: Int)        // 400 malformed, 431 too large, 501 unknown coding, 505 version; then close
}

/// Contract (picohttpparser style): call `parse(bytes)` with all bytes received so far for this request, starting
/// at its first byte. It returns `.complete(consumed:)` and fills `head` with offsets into `bytes`; or
/// `.incomplete`, remembering how far it scanned so the next call (same prefix, more bytes) resumes there; or
/// `.error(status:)`, after which the connection must answer `status` and close. Call `reset()` before the next
/// request. Never allocates beyond `head.fields`' storage, never reads outside `bytes`.
public struct RequestParser {
    public var maxHeadBytes: Int             // request line + fields + final CRLF; more → 431
    public var maxFields: Int                // more header lines → 431
    public internal(set) var head = RequestHead()
    var scanned = 0                          // bytes already checked: no head end and no bare LF before here
    var hostCount = 0                        // Host fields seen in this head
    var transferEncodingSeen = false         // any Transfer-Encoding field
    var codings = 0                          // transfer codings other than chunked

    public init(maxHeadBytes: Int = 16 * 1024, maxFields: Int = 100) {
        self.maxHeadBytes = maxHeadBytes
        self.maxFields = maxFields
        head.fields.reserveCapacity(16)
    }

    public mutating func reset() {
        scanned = 0
        head.clear()
    }

    public mutating func parse(_ bytes: UnsafeRawBufferPointer) -> ParseResult {
        let count = bytes.count
        guard count > 0, let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return .incomplete }
        // RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF) received before the request-line.
        var start = 0
        while start + 1 < count && base[start] == 13 && base[start + 1] == 10 { start += 2 }
        if start < count && base[start] == 13 && start + 1 == count { return .incomplete }
        if start > maxHeadBytes { return .error(status: 400) }
        // Find the end of the head: CRLF CRLF. RFC 9112 §2.2 lets a recipient accept a bare LF; we do not (a bare
        // LF is how requests get smuggled past proxies that read it differently), so any LF must follow a CR.
        // Scan no further than the limit, so a head is judged the same whether it arrives whole or in pieces.
        let scanEnd = Swift.min(count, start + maxHeadBytes)
        var i = Swift.max(scanned, start)
        var end = -1
        while i < scanEnd {
            if base[i] == 10 {
                if i == 0 || base[i - 1] != 13 { return .error(status: 400) }
                if i >= start + 3 && base[i - 2] == 10 { end = i + 1; break }
            }
            i += 1
        }
        if end < 0 {
            scanned = scanEnd
            return count - start > maxHeadBytes ? .error(status: 431) : .incomplete
        }
        if end - start > maxHeadBytes { return .error(status: 431) }
        head.clear()
        hostCount = 0
        transferEncodingSeen = false
        codings = 0
        if let status = parseRequestLine(base, from: start, to: end) { return .error(status: status) }
        if let status = parseFields(base, end: end) { return .error(status: status) }
        if let status = checkFraming(base) { return .error(status: status) }
        return .complete(consumed: end)
    }
}
