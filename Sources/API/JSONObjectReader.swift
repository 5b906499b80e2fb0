// A Foundation-free reader for the API's JSON request bodies (RFC 8259): one object whose members are read as strings.

/// Reads one JSON object into fields: a string member becomes `.string`, null `.absent`, any other well-formed value
/// `.invalid` (the field's own invalid_* code answers). Anything that is not exactly one well-formed object of valid
/// UTF-8 is nil (`invalid_json`). Rules RFC 8259 leaves open:
/// - a member name given twice is refused (I-JSON, RFC 7493 §2.3), so no reader of the body sees another value;
/// - containers nest at most `maxDepth` deep (the body object is depth 1), so no input exhausts the stack;
/// - a string holding a lone surrogate escape has no Unicode scalar value (§8.2): as a member value it is `.invalid`,
///   as a member name the body is refused;
/// - U+FEFF is an ordinary character inside strings; a byte order mark before the object is ignored (§8.1 allows it,
///   and JSONDecoder, which read these bodies before, did so).
struct JSONObjectReader {
    static let maxDepth = 64

    struct Malformed: Error {}

    let bytes: UnsafeBufferPointer<UInt8>
    var at = 0                    // index of the next unread byte
    var scratch: [UInt8] = []     // a string with escapes, decoded

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// The body's members, or nil when it is not one JSON object (RFC 8259 §2: whitespace around it allowed).
    static func read(_ body: [UInt8]) -> [String: FieldValue]? {
        body.withUnsafeBufferPointer { buffer in
            var reader = JSONObjectReader(buffer)
            if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { reader.at = 3 }
            return try? reader.object()
        }
    }

    private mutating func object() throws(Malformed) -> [String: FieldValue] {
        skipSpace()
        try expect(.openBrace)
        var fields: [String: FieldValue] = [:]
        skipSpace()
        if peek() == .closeBrace {
            at += 1
        } else {
            while true {
                skipSpace()
                guard let name = try string() else { throw Malformed() }
                skipSpace()
                try expect(.colon)
                skipSpace()
                let value = try member()
                if fields.updateValue(value, forKey: name) != nil { throw Malformed() }
                skipSpace()
                let c = try next()
                if c == .closeBrace { break }
                guard c == .comma else { throw Malformed() }
            }
        }
        skipSpace()
        guard at == bytes.count else { throw Malformed() }
        return fields
    }

    /// A member's value: a string is kept, null is absent, anything else is only checked.
    private mutating func member() throws(Malformed) -> FieldValue {
        switch peek() {
        case .quote: return try string().map(FieldValue.string) ?? .invalid
        case UInt8(ascii: "n"): try literal("null"); return .absent
        case .openBracket:
            // An array of strings (`files`) is kept; any other array is only checked.
            let start = at
            if let list = try? stringArray() { return .list(list) }
            at = start
            try skipValue(depth: 2)
            return .invalid
        default: try skipValue(depth: 2); return .invalid
        }
    }

    /// `[ "a", "b" ]`: nil (at unspecified) when an element is not a string with a Unicode scalar value.
    private mutating func stringArray() throws(Malformed) -> [String]? {
        at += 1
        var list: [String] = []
        skipSpace()
        if peek() == .closeBracket { at += 1; return list }
        while true {
            skipSpace()
            guard peek() == .quote, let s = try string() else { return nil }
            list.append(s)
            skipSpace()
            let c = try next()
            if c == .closeBracket { return list }
            guard c == .comma else { return nil }
        }
    }

    /// Checks one value at nesting `depth` without keeping it.
    private mutating func skipValue(depth: Int) throws(Malformed) {
        switch peek() {
        case .quote: _ = try string()
        case .openBrace, .openBracket:
            guard depth <= Self.maxDepth else { throw Malformed() }
            let close: UInt8 = peek() == .openBrace ? .closeBrace : .closeBracket
            at += 1
            skipSpace()
            if peek() == close { at += 1; return }
            while true {
                skipSpace()
                if close == .closeBrace {
                    _ = try string()          // a name never read: a lone surrogate in it is only checked
                    skipSpace()
                    try expect(.colon)
                    skipSpace()
                }
                try skipValue(depth: depth + 1)
                skipSpace()
                let c = try next()
                if c == close { return }
                guard c == .comma else { throw Malformed() }
            }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try number()
        }
    }

    /// §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, of any length (its value is never needed).
    private mutating func number() throws(Malformed) {
        if peek() == UInt8(ascii: "-") { at += 1 }
        let first = try next()
        guard first.isDigit else { throw Malformed() }
        if first != UInt8(ascii: "0") { skipDigits() }
        if peek() == UInt8(ascii: ".") {
            at += 1
            guard peek().isDigit else { throw Malformed() }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            at += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { at += 1 }
            guard peek().isDigit else { throw Malformed() }
            skipDigits()
        }
    }

    private mutating func literal(_ word: StaticString) throws(Malformed) {
        let n = word.utf8CodeUnitCount
        guard bytes.count - at >= n,
              word.withUTF8Buffer({ $0.elementsEqual(UnsafeBufferPointer(rebasing: bytes[at..<at + n])) })
        else { throw Malformed() }
        at += n
    }

    private mutating func skipDigits() {
        while peek().isDigit { at += 1 }
    }

    /// §2: insignificant whitespace is SP, HTAB, LF and CR only.
    private mutating func skipSpace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0A, 0x0D: at += 1
            default: return
            }
        }
    }

    /// The next byte, or 0 at the end (0 starts no token, and strings check the end themselves).
    private func peek() -> UInt8 { at < bytes.count ? bytes[at] : 0 }

    mutating func next() throws(Malformed) -> UInt8 {
        guard at < bytes.count else { throw Malformed() }
        defer { at += 1 }
        return bytes[at]
    }

    mutating func expect(_ byte: UInt8) throws(Malformed) {
        guard try next() == byte else { throw Malformed() }
    }
}

extension UInt8 {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let colon = UInt8(ascii: ":")
    static let comma = UInt8(ascii: ",")

    var isDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
}
