// An incremental decoder for the chunked transfer coding (RFC 9112 §7.1), resumable at any byte.

/// The outcome of one `ChunkedDecoder.decode` call.
public enum ChunkedResult: Equatable, Sendable {
    case complete(consumed: Int)     // the last chunk and trailer section are done; `consumed` bytes used
    case incomplete(consumed: Int)   // all `consumed` (= every byte passed) used; call again with the next bytes
    case error(status: Int)          // 400 malformed, 413 over the limit; then close
}

/// Contract: feed the bytes after the head in any pieces; each call consumes what it can (drop those bytes, pass
/// only new ones next time) and appends chunk data to `body`. The decoder remembers where it is between calls.
public struct ChunkedDecoder {
    enum State {
        case size, sizeLF, data, dataCR, dataLF, trailerStart, trailerName, trailer, trailerLF, finalLF, done
        // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 §7.1.1)
        case extSemicolon     // BWS before ";": only SP/HTAB or ";" may follow
        case extNameStart     // after ";": BWS, then a token
        case extName          // in chunk-ext-name
        case extAfterName     // BWS after the name: "=" or ";" must follow
        case extValueStart    // after "=": BWS, then a token or a quoted-string
        case extToken         // in a token value
        case extQuoted        // in a quoted-string (RFC 9110 §5.6.4)
        case extQuotedPair    // after a backslash in it
        case extAfterQuoted   // the closing quote seen
    }
    var state = State.size
    var digits = 0                // hex digits of the current chunk-size
    var chunkSize = 0             // current chunk-size, then what is left of it
    var lineBytes = 0             // bytes of the current extension or trailer line (bounded)
    var trailerBytes = 0          // whole trailer section (bounded)
    public private(set) var total = 0   // decoded body bytes so far

    static let maxLine = 4096
    static let maxTrailer = 16 * 1024

    public init() {}

    public mutating func decode(_ bytes: UnsafeRawBufferPointer, limit: Int, into body: inout [UInt8]) -> ChunkedResult {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return .incomplete(consumed: 0) }
        let count = bytes.count
        var p = 0
        while p < count {
            let c = base[p]
            switch state {
            case .size:
                if let v = ChunkedDecoder.hex(c) {
                    digits += 1
                    if digits > 15 { return .error(status: 400) }   // no 64-bit overflow
                    chunkSize = chunkSize << 4 | v
                } else {
                    if digits == 0 { return .error(status: 400) }
                    if total + chunkSize > limit { return .error(status: 413) }   // refuse before reading it
                    lineBytes = 0
                    switch c {
                    case 13: state = .sizeLF
                    case 59: state = .extNameStart                   // ";" starts an extension
                    case 32, 9: state = .extSemicolon                // BWS: an extension must follow, not CRLF
                    default: return .error(status: 400)              // "1 junk", "1x"
                    }
                }
                p += 1
            case .extSemicolon, .extNameStart, .extName, .extAfterName, .extValueStart, .extToken, .extQuoted,
                 .extQuotedPair, .extAfterQuoted:
                // Extensions are ignored, but must follow the grammar ("2;", "1 ", unbalanced quotes → 400) and
                // stay within a bounded line.
                guard let next = ChunkedDecoder.extensionStep(state, c) else { return .error(status: 400) }
                state = next
                lineBytes += 1
                if lineBytes > ChunkedDecoder.maxLine { return .error(status: 400) }
                p += 1
            case .sizeLF:
                guard c == 10 else { return .error(status: 400) }
                p += 1
                if chunkSize == 0 { state = .trailerStart } else { state = .data }
            case .data:
                let n = Swift.min(chunkSize, count - p)
                body.append(contentsOf: UnsafeBufferPointer(start: base + p, count: n))
                p += n
                total += n
                chunkSize -= n
                if chunkSize == 0 { state = .dataCR }
            case .dataCR:
                guard c == 13 else { return .error(status: 400) }
                state = .dataLF
                p += 1
            case .dataLF:
                guard c == 10 else { return .error(status: 400) }
                state = .size
                digits = 0
                p += 1
            case .trailerStart:
                // RFC 9112 §7.1.2: trailer-section = *( field-line CRLF ), then CRLF. Trailers are discarded.
                if c == 13 { state = .finalLF } else if c == 32 || c == 9 || !RequestParser.isToken(c) {
                    return .error(status: 400)
                } else { state = .trailerName; lineBytes = 0 }
                p += 1
                trailerBytes += 1
            case .trailerName:
                // field-name ":" (RFC 9112 §5.1): a trailer line without a colon is malformed.
                if c == 58 { state = .trailer } else if !RequestParser.isToken(c) { return .error(status: 400) }
                p += 1
                trailerBytes += 1
                if trailerBytes > ChunkedDecoder.maxTrailer { return .error(status: 431) }
            case .trailer:
                if c == 13 { state = .trailerLF } else if (c < 32 && c != 9) || c == 127 { return .error(status: 400) }
                p += 1
                trailerBytes += 1
                if trailerBytes > ChunkedDecoder.maxTrailer { return .error(status: 431) }
            case .trailerLF:
                guard c == 10 else { return .error(status: 400) }
                state = .trailerStart
                p += 1
            case .finalLF:
                guard c == 10 else { return .error(status: 400) }
                state = .done
                return .complete(consumed: p + 1)
            case .done:
                return .complete(consumed: 0)
            }
        }
        return .incomplete(consumed: p)
    }

    /// The state after byte `c` inside a chunk extension, or nil when the grammar does not allow it there.
    /// A CR ends the line only where a whole extension (name, or name=value) is complete.
    static func extensionStep(_ state: State, _ c: UInt8) -> State? {
        let blank = c == 32 || c == 9
        switch state {
        case .extSemicolon:
            return blank ? .extSemicolon : c == 59 ? .extNameStart : nil
        case .extNameStart:
            return blank ? .extNameStart : RequestParser.isToken(c) ? .extName : nil
        case .extName:
            if RequestParser.isToken(c) { return .extName }
            return blank ? .extAfterName : c == 61 ? .extValueStart : c == 59 ? .extNameStart : c == 13 ? .sizeLF : nil
        case .extAfterName:
            return blank ? .extAfterName : c == 61 ? .extValueStart : c == 59 ? .extNameStart : nil
        case .extValueStart:
            return blank ? .extValueStart : c == 34 ? .extQuoted : RequestParser.isToken(c) ? .extToken : nil
        case .extToken:
            if RequestParser.isToken(c) { return .extToken }
            return blank ? .extSemicolon : c == 59 ? .extNameStart : c == 13 ? .sizeLF : nil
        case .extQuoted:
            // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text; a CR here is an unbalanced quote.
            if c == 34 { return .extAfterQuoted }
            if c == 92 { return .extQuotedPair }
            return c == 9 || (c >= 32 && c != 127) ? .extQuoted : nil
        case .extQuotedPair:
            return c == 9 || (c >= 32 && c != 127) ? .extQuoted : nil
        case .extAfterQuoted:
            return blank ? .extSemicolon : c == 59 ? .extNameStart : c == 13 ? .sizeLF : nil
        default:
            return nil
        }
    }

    @inline(__always)
    static func hex(_ c: UInt8) -> Int? {
        switch c {
        case 48...57: return Int(c - 48)
        case 97...102: return Int(c - 87)
        case 65...70: return Int(c - 55)
        default: return nil
        }
    }
}
