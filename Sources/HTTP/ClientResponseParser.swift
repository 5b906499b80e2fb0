// The client side of RFC 9112: an incremental response parser over a connection's input buffer.
import Transport

/// A complete response as a `ClientConnection` delivers it.
public struct ClientResponse: Sendable {
    public var status: Int
    public var head: [UInt8]          // status line and fields, as received (parse with `headers` when needed)
    public var body: [UInt8]          // de-chunked
    public var keepAlive: Bool        // false when the server said `Connection: close` or spoke HTTP/1.0

    /// The header fields (parsed on demand: the benchmark's hot path needs only status and body).
    public var headers: HTTPHeaders {
        var headers = HTTPHeaders()
        let text = String(decoding: head, as: UTF8.self)
        for line in text.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(String(line[..<colon]), String(line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })))
        }
        return headers
    }
}

/// Result of one `ClientResponseParser.parse` call.
public enum ClientParseResult {
    case incomplete                   // need more bytes; those seen so far are kept in the buffer or the parser
    case complete(ClientResponse)     // one response; its bytes were consumed from the buffer
    case error(String)                // not HTTP/1.1: close the connection
}

/// Parses one response. Contract: call `parse` with the connection's input after each read; it consumes the bytes
/// of a complete response (skipping 1xx interim answers) and leaves any bytes after it.
public struct ClientResponseParser {
    enum Framing { case length(Int), chunked, untilClose, none }
    let isHead: Bool
    var scanned = 0                   // head bytes already searched for CRLFCRLF (no rescans: O(n) overall)
    var status = 0
    var head: [UInt8] = []
    var framing: Framing? = nil       // nil while reading the head
    var keepAlive = true
    var chunked = ChunkedDecoder()
    var body: [UInt8] = []
    public private(set) var sawBytes = false    // any byte of this answer arrived (a retry may no longer be safe)

    static let maxHead = 64 * 1024
    static let maxBody = 64 << 20

    public init(isHead: Bool = false) { self.isHead = isHead }

    public mutating func parse(_ input: inout ByteBuffer) -> ClientParseResult {
        if input.readableBytes > 0 { sawBytes = true }
        while framing == nil {
            let bytes = input.readable
            guard let end = findHeadEnd(bytes) else {
                return bytes.count > ClientResponseParser.maxHead ? .error("head over 64 KiB") : .incomplete
            }
            head = Array(bytes[0..<end])
            input.consume(end)
            scanned = 0
            if let why = parseHead() { return .error(why) }
            if status < 200 { framing = nil; head = [] }     // 100 Continue and friends: the real answer follows
        }
        switch framing! {
        case .none:
            return finish()
        case .length(let n):
            guard input.readableBytes >= n else { return .incomplete }
            body = Array(input.readable[0..<n])
            input.consume(n)
            return finish()
        case .chunked:
            let result = chunked.decode(input.readable, limit: ClientResponseParser.maxBody, into: &body)
            switch result {
            case .complete(let n): input.consume(n); return finish()
            case .incomplete(let n): input.consume(n); return .incomplete
            case .error: return .error("bad chunked body")
            }
        case .untilClose:
            return .incomplete
        }
    }

    /// At end of stream: the answer if its body runs to the close (RFC 9112 §6.3 rule 8), else nil.
    public mutating func finishAtClose(_ input: inout ByteBuffer) -> ClientResponse? {
        guard case .untilClose? = framing else { return nil }
        body = Array(input.readable)
        input.consume(input.readableBytes)
        keepAlive = false
        guard case .complete(let response) = finish() else { return nil }
        return response
    }

    mutating func finish() -> ClientParseResult {
        let response = ClientResponse(status: status, head: head, body: body, keepAlive: keepAlive)
        self = ClientResponseParser(isHead: isHead)
        return .complete(response)
    }

    mutating func findHeadEnd(_ b: UnsafeRawBufferPointer) -> Int? {
        var i = Swift.max(scanned, 3)
        while i < b.count {
            if b[i] == 10 && b[i - 1] == 13 && b[i - 2] == 10 && b[i - 3] == 13 { return i + 1 }
            i += 1
        }
        scanned = Swift.max(b.count, 3)
        return nil
    }

    /// Status line and the three fields that frame the message; nil when fine, else why not.
    mutating func parseHead() -> String? {
        // "HTTP/1.1 200 OK": version, then three digits (RFC 9112 §4).
        guard head.count >= 12, head.starts(with: Array("HTTP/1.".utf8)) else { return "bad status line" }
        let d0 = Int(head[9]) - 48, d1 = Int(head[10]) - 48, d2 = Int(head[11]) - 48
        guard (0...9).contains(d0), (0...9).contains(d1), (0...9).contains(d2) else { return "bad status code" }
        status = d0 * 100 + d1 * 10 + d2
        keepAlive = head[7] == UInt8(ascii: "1")
        var length: Int? = nil
        var isChunked = false
        var lineStart = 0
        // Byte-level field matching: this runs once per answer on the benchmark's hot path (no Strings).
        for i in 1..<head.count where head[i] == 10 && head[i - 1] == 13 {
            let line = lineStart..<(i - 1)
            lineStart = i + 1
            guard let colon = head[line].firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = line.lowerBound..<colon
            var v = colon + 1
            while v < line.upperBound, head[v] == 32 || head[v] == 9 { v += 1 }
            let value = v..<line.upperBound
            if matches(name, "content-length") {
                var n = 0, digits = 0
                for j in value where head[j] != 32 && head[j] != 9 {
                    guard head[j] >= 48, head[j] <= 57, digits < 12 else { return "bad Content-Length" }
                    n = n * 10 + Int(head[j] - 48)
                    digits += 1
                }
                guard digits > 0, n <= ClientResponseParser.maxBody else { return "bad Content-Length" }
                length = n
            } else if matches(name, "transfer-encoding") {
                isChunked = contains(value, "chunked")
            } else if matches(name, "connection") {
                if contains(value, "close") { keepAlive = false } else if contains(value, "keep-alive") { keepAlive = true }
            }
        }
        // RFC 9112 §6.3: no body for HEAD, 1xx, 204, 304; chunked beats Content-Length; else read to the close.
        if isHead || status < 200 || status == 204 || status == 304 { framing = Framing.none } else if isChunked {
            framing = .chunked
        } else if let length {
            framing = .length(length)
        } else {
            framing = .untilClose
            keepAlive = false
        }
        return nil
    }
}

extension ClientResponseParser {
    /// Whether `head[range]` equals `lower` ignoring ASCII case (field names are case-insensitive, RFC 9110 §5.1).
    func matches(_ range: Range<Int>, _ lower: StaticString) -> Bool {
        guard range.count == lower.utf8CodeUnitCount else { return false }
        let p = lower.utf8Start
        for (k, i) in range.enumerated() where head[i] | 0x20 != p[k] && !(head[i] == p[k]) { return false }
        return true
    }

    /// Whether `head[range]` contains `lower` ignoring ASCII case (a token in a field value).
    func contains(_ range: Range<Int>, _ lower: StaticString) -> Bool {
        let n = lower.utf8CodeUnitCount
        guard range.count >= n else { return false }
        let p = lower.utf8Start
        for start in range.lowerBound...(range.upperBound - n) {
            var k = 0
            while k < n, head[start + k] | 0x20 == p[k] || head[start + k] == p[k] { k += 1 }
            if k == n { return true }
        }
        return false
    }
}
