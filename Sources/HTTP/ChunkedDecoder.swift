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
        case size, sizeExtension, sizeLF, data, dataCR, dataLF, trailerStart, trailer, trailerLF, finalLF, done
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
                    switch c {
                    case 13: state = .sizeLF
                    case 59, 32, 9: state = .sizeExtension; lineBytes = 0   // ";" ext, or BWS before it (§7.1.1)
                    default: return .error(status: 400)
                    }
                }
                p += 1
            case .sizeExtension:
                // chunk-ext: we ignore extensions but insist on visible text and a bounded length.
                if c == 13 { state = .sizeLF } else if (c < 32 && c != 9) || c == 127 { return .error(status: 400) }
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
                } else { state = .trailer; lineBytes = 0 }
                p += 1
                trailerBytes += 1
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
