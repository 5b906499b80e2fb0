// JSONObjectReader's strings (RFC 8259 §7): raw UTF-8 taken as it is, escapes decoded, surrogate pairs joined.

extension JSONObjectReader {
    /// The string starting at the next byte; nil when it holds a lone surrogate escape (no scalar value, §8.2).
    /// Throws for a missing quote, a control character, a bad escape or invalid UTF-8 (§8.1).
    mutating func string() throws(Malformed) -> String? {
        try expect(.quote)
        let start = at
        while at < bytes.count {             // the common case: no escape, the bytes are the string
            let c = bytes[at]
            if c == .quote {
                defer { at += 1 }
                guard let s = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
                else { throw Malformed() }
                return s
            }
            if c == .backslash { break }
            if c < 0x20 { throw Malformed() }
            at += 1
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<at]))
        var lone = false
        while true {
            let c = try next()
            switch c {
            case .quote:
                // Escapes add whole UTF-8 sequences, so checking the joined bytes checks the raw parts.
                guard let s = String(validating: scratch, as: UTF8.self) else { throw Malformed() }
                return lone ? nil : s
            case .backslash:
                if !(try escape()) { lone = true }
            case ..<0x20:
                throw Malformed()
            default:
                scratch.append(c)
            }
        }
    }

    /// Decodes the escape after a backslash into `scratch`; false for a lone surrogate (nothing appended).
    private mutating func escape() throws(Malformed) -> Bool {
        switch try next() {
        case .quote: scratch.append(.quote)
        case .backslash: scratch.append(.backslash)
        case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xDC00...0xDFFF).contains(scalar) { return false }
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate counts only with a low one escaped right after it; else the next escape is
                // read on its own.
                guard bytes.count - at >= 6, bytes[at] == .backslash, bytes[at + 1] == UInt8(ascii: "u") else { return false }
                let mark = at
                at += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { at = mark; return false }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            appendUTF8(scalar)
        default:
            throw Malformed()
        }
        return true
    }

    private mutating func hex4() throws(Malformed) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = try next()
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: throw Malformed()
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// A scalar (not a surrogate) as UTF-8.
    private mutating func appendUTF8(_ v: UInt32) {
        switch v {
        case ..<0x80:
            scratch.append(UInt8(v))
        case ..<0x800:
            scratch.append(UInt8(0xC0 | v >> 6))
            scratch.append(UInt8(0x80 | v & 0x3F))
        case ..<0x10000:
            scratch.append(UInt8(0xE0 | v >> 12))
            scratch.append(UInt8(0x80 | v >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | v & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | v >> 18))
            scratch.append(UInt8(0x80 | v >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | v >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | v & 0x3F))
        }
    }
}
