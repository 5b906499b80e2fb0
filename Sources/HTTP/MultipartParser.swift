// A resumable multipart/form-data reader (RFC 7578, RFC 2046 §5.1): fed the body in pieces, it reports parts.

/// The head of one part: what its Content-Disposition and Content-Type say.
public struct MultipartPartHead: Sendable, Equatable {
    public var name: String?             // Content-Disposition `name`
    public var filename: String?         // `filename*` (RFC 5987, decoded) when present, else `filename`
    public var contentType: String?      // as sent; never trusted for what a file is
    public init(name: String? = nil, filename: String? = nil, contentType: String? = nil) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
    }
}

/// What the parser reports, in body order: `begin`, then zero or more `data`, then `end`, for each part.
public enum MultipartEvent: Equatable {
    case begin(MultipartPartHead)
    case data(ArraySlice<UInt8>)         // the next bytes of the current part's content
    case end                             // the current part's content is complete
}

/// Why a body is not multipart/form-data we accept. The parser is unusable afterwards.
public enum MultipartError: Error, Equatable, Sendable {
    case malformed(String)               // not RFC 2046 multipart: the reason, for a 400's detail
    case tooManyParts                    // more parts than `maxParts`
    case headerTooLarge                  // a part's header section over `maxHeaderBytes`
}

/// Contract: call `feed` with each piece of the body as it arrives (pieces of any size, split anywhere, even
/// inside a boundary), then `finish` at its end. Events come out through the callback as soon as they are certain:
/// the parser holds back at most a boundary's length of part data (plus a part's header section, at most
/// `maxHeaderBytes`), so memory stays bounded whatever the body's size. The same body split differently yields the
/// same parts with the same bytes (data events may be split differently). An error thrown by the callback stops
/// the parser and is rethrown. Preamble and epilogue are ignored (RFC 2046 §5.1.1).
public struct MultipartParser {
    enum State { case preamble, afterBoundary, headers, body, done }

    public let maxParts: Int             // more parts → tooManyParts
    public let maxHeaderBytes: Int       // a larger header section → headerTooLarge
    let delimiter: [UInt8]               // CRLF "--" boundary (the first one may come without the CRLF)
    var state = State.preamble
    var buffer: [UInt8] = []             // received, not yet reported: at most a delimiter or a header section
    var parts = 0                        // parts begun
    var atStart = true                   // nothing consumed yet: a delimiter without its CRLF may open the body

    public var isComplete: Bool { state == .done }

    /// `boundary` as in the Content-Type (see `boundary(contentType:)`).
    public init(boundary: String, maxParts: Int = 32, maxHeaderBytes: Int = 8 * 1024) {
        self.delimiter = Array("\r\n--\(boundary)".utf8)
        self.maxParts = maxParts
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// The `boundary` parameter of a `multipart/form-data` media type (RFC 2046 §5.1.1: 1–70 characters, quoted
    /// or a token), nil when the type is another or the boundary is missing or invalid.
    public static func boundary(contentType: String) -> String? {
        var fields = HeaderParameters(Array(contentType.utf8))
        guard fields.token()?.lowercased() == "multipart/form-data" else { return nil }
        while let (name, value) = fields.parameter() {
            guard name == "boundary" else { continue }
            guard (1...70).contains(value.utf8.count), value.last != " ",
                  value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
            return value
        }
        return nil
    }

    public mutating func feed(_ bytes: some Collection<UInt8>, _ onEvent: (MultipartEvent) throws -> Void) throws {
        if state == .done { return }                       // the epilogue: ignored
        buffer.append(contentsOf: bytes)
        var pos = 0
        defer { if pos > 0 { buffer.removeFirst(Swift.min(pos, buffer.count)) } }
        while true {
            switch state {
            case .preamble:
                if atStart {
                    let bare = delimiter[2...]
                    if buffer.count < bare.count {
                        if buffer.elementsEqual(bare.prefix(buffer.count)) { return }
                    } else if buffer.starts(with: bare) {
                        pos = bare.count
                        atStart = false
                        state = .afterBoundary
                        continue
                    }
                    atStart = false
                }
                let (found, safe) = search(from: pos)
                if let found { pos = found + delimiter.count; state = .afterBoundary } else { pos = safe; return }
            case .afterBoundary:
                // "--" closes; else transport padding (LWSP) then CRLF (RFC 2046 §5.1.1).
                var i = pos
                if buffer.count - i < 2 { return }
                if buffer[i] == 0x2D && buffer[i + 1] == 0x2D { pos = buffer.count; state = .done; return }
                while i < buffer.count && (buffer[i] == 0x20 || buffer[i] == 0x09) {
                    i += 1
                    if i - pos > 64 { throw MultipartError.malformed("a boundary line has more than 64 bytes of padding") }
                }
                if buffer.count - i < 2 { return }
                guard buffer[i] == 13 && buffer[i + 1] == 10 else {
                    throw MultipartError.malformed("a boundary must be followed by CRLF or \"--\"")
                }
                pos = i + 2
                state = .headers
            case .headers:
                guard let end = headerEnd(from: pos) else {
                    if buffer.count - pos > maxHeaderBytes { throw MultipartError.headerTooLarge }
                    return
                }
                if end - pos > maxHeaderBytes { throw MultipartError.headerTooLarge }
                parts += 1
                if parts > maxParts { throw MultipartError.tooManyParts }
                let head = try Self.parseHead(buffer[pos..<end])
                pos = end
                state = .body
                try onEvent(.begin(head))
            case .body:
                let (found, safe) = search(from: pos)
                let dataEnd = found ?? safe
                if dataEnd > pos { try onEvent(.data(buffer[pos..<dataEnd])) }
                pos = dataEnd
                guard found != nil else { return }
                pos += delimiter.count
                state = .afterBoundary
                try onEvent(.end)
            case .done:
                pos = buffer.count
                return
            }
        }
    }

    /// The body has ended: an error unless the closing boundary was seen.
    public func finish() throws {
        guard state == .done else {
            throw MultipartError.malformed(parts == 0 && state == .preamble ? "no boundary in the body"
                                           : "the body ends before the closing boundary")
        }
    }

    /// The delimiter's first index at or after `from`, else nil and the first index where a delimiter could still
    /// begin (bytes before it are certainly content).
    func search(from: Int) -> (found: Int?, safe: Int) {
        buffer.withUnsafeBufferPointer { b in
            delimiter.withUnsafeBufferPointer { d in
                var i = from
                while i < b.count {
                    if b[i] == 13 {
                        var k = 1
                        while k < d.count && i + k < b.count && b[i + k] == d[k] { k += 1 }
                        if k == d.count { return (i, i) }
                        if i + k == b.count { return (nil, i) }   // a prefix of the delimiter up to the end
                    }
                    i += 1
                }
                return (nil, b.count)
            }
        }
    }

    /// The index just past the header section's final empty line (CRLF CRLF, or a lone CRLF: no fields).
    func headerEnd(from: Int) -> Int? {
        if buffer.count - from >= 2 && buffer[from] == 13 && buffer[from + 1] == 10 { return from + 2 }
        var i = from + 3
        let limit = Swift.min(buffer.count, from + maxHeaderBytes + 4)
        while i < limit {
            if buffer[i] == 10 && buffer[i - 1] == 13 && buffer[i - 2] == 10 && buffer[i - 3] == 13 { return i + 1 }
            i += 1
        }
        return nil
    }

    /// A part's header fields (RFC 7578 §4.8: Content-Disposition, Content-Type; others are ignored).
    static func parseHead(_ bytes: ArraySlice<UInt8>) throws -> MultipartPartHead {
        var head = MultipartPartHead()
        var sawDisposition = false
        var start = bytes.startIndex
        while start < bytes.endIndex {
            var end = start
            while end + 1 < bytes.endIndex && !(bytes[end] == 13 && bytes[end + 1] == 10) { end += 1 }
            if end + 1 >= bytes.endIndex { end = bytes.endIndex }
            let line = bytes[start..<end]
            start = end + 2
            if line.isEmpty { continue }
            guard line.first != 0x20 && line.first != 0x09 else {
                throw MultipartError.malformed("folded part header lines are not allowed")
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                throw MultipartError.malformed("a part header line has no field name")
            }
            guard line.allSatisfy({ $0 != 13 && $0 != 10 && $0 != 0 }) else {
                throw MultipartError.malformed("a part header line holds CR, LF or NUL")
            }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            let value = Array(line[(colon + 1)...])
            switch name {
            case "content-disposition":
                sawDisposition = true
                var fields = HeaderParameters(value)
                guard fields.token()?.lowercased() == "form-data" else {
                    throw MultipartError.malformed("a part's Content-Disposition must be form-data")
                }
                var extendedName: String?
                while let (key, v) = fields.parameter() {
                    switch key {
                    case "name": head.name = v
                    case "filename": if head.filename == nil || extendedName == nil { head.filename = v }
                    case "filename*":
                        if let decoded = Self.extendedValue(v) { extendedName = decoded; head.filename = decoded }
                    default: break
                    }
                }
            case "content-type":
                head.contentType = String(decoding: value, as: UTF8.self).trimmingCharacters(in: " \t")
            default:
                break
            }
        }
        guard sawDisposition else { throw MultipartError.malformed("a part has no Content-Disposition") }
        return head
    }

    /// RFC 5987 §3.2 ext-value: charset'language'pct-encoded, for UTF-8 and ISO-8859-1; nil when invalid.
    static func extendedValue(_ value: String) -> String? {
        let pieces = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count == 3 else { return nil }
        let charset = pieces[0].lowercased()
        var bytes: [UInt8] = []
        var it = Array(pieces[2].utf8).makeIterator()
        while let b = it.next() {
            if b == UInt8(ascii: "%") {
                guard let hi = it.next().flatMap(FormDecoding.hexValue), let lo = it.next().flatMap(FormDecoding.hexValue) else { return nil }
                bytes.append(hi << 4 | lo)
            } else {
                bytes.append(b)
            }
        }
        switch charset {
        case "utf-8": return String(validating: bytes, as: UTF8.self)
        case "iso-8859-1": return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        default: return nil
        }
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return String(s)
    }
}

/// Reads `token *( OWS ";" OWS name "=" ( token / quoted-string ) )` (RFC 9110 §5.6.6), for media types and
/// Content-Disposition (RFC 6266 §4.1). Parameter names are lowercased; quoted values lose quotes and escapes.
struct HeaderParameters {
    let bytes: [UInt8]
    var i = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func skipSpace() { while i < bytes.count && (bytes[i] == 0x20 || bytes[i] == 0x09) { i += 1 } }

    /// The leading value up to the first `;`, trimmed.
    mutating func token() -> String? {
        skipSpace()
        let start = i
        while i < bytes.count && bytes[i] != UInt8(ascii: ";") { i += 1 }
        var end = i
        while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
        return end > start ? String(decoding: bytes[start..<end], as: UTF8.self) : nil
    }

    /// The next `name=value`, nil at the end (or at a parameter too broken to read on).
    mutating func parameter() -> (String, String)? {
        while true {
            skipSpace()
            guard i < bytes.count else { return nil }
            if bytes[i] == UInt8(ascii: ";") { i += 1; continue }
            let nameStart = i
            while i < bytes.count && bytes[i] != UInt8(ascii: "=") && bytes[i] != UInt8(ascii: ";") { i += 1 }
            var nameEnd = i
            while nameEnd > nameStart && (bytes[nameEnd - 1] == 0x20 || bytes[nameEnd - 1] == 0x09) { nameEnd -= 1 }
            let name = String(decoding: bytes[nameStart..<nameEnd], as: UTF8.self).lowercased()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { continue }   // a name without a value
            i += 1
            skipSpace()
            var value: [UInt8] = []
            if i < bytes.count && bytes[i] == UInt8(ascii: "\"") {
                i += 1
                while i < bytes.count && bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\") && i + 1 < bytes.count { i += 1 }
                    value.append(bytes[i])
                    i += 1
                }
                i += 1                                        // the closing quote (or past the end)
                while i < bytes.count && bytes[i] != UInt8(ascii: ";") { i += 1 }
            } else {
                let start = i
                while i < bytes.count && bytes[i] != UInt8(ascii: ";") { i += 1 }
                var end = i
                while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
                value = Array(bytes[start..<end])
            }
            return (name, String(decoding: value, as: UTF8.self))
        }
    }
}
