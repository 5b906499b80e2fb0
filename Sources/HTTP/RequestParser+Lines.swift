// The request line and field lines of RequestParser (RFC 9112 §3, §5), and the framing rules (§6).

extension RequestParser {
    /// tchar (RFC 9110 §5.6.2): "!#$%&'*+-.^_`|~" DIGIT ALPHA.
    static let tokenTable: [Bool] = (0..<256).map { c in
        switch UInt8(c) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "A")...UInt8(ascii: "Z"): return true
        default: return Array("!#$%&'*+-.^_`|~".utf8).contains(UInt8(c))
        }
    }

    @inline(__always) static func isToken(_ c: UInt8) -> Bool { tokenTable.withUnsafeBufferPointer { $0[Int(c)] } }

    /// method SP request-target SP HTTP-version CRLF. Returns an error status or nil. Sets `position` past the CRLF.
    mutating func parseRequestLine(_ b: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int? {
        var p = start
        while p < end && RequestParser.isToken(b[p]) { p += 1 }
        if p == start || b[p] != 32 { return 400 }
        head.methodStart = start
        head.methodEnd = p
        p += 1
        let targetStart = p
        // request-target: visible ASCII only (RFC 9112 §3.2; no spaces, no controls, no raw non-ASCII).
        while p < end && b[p] > 32 && b[p] < 127 { p += 1 }
        if p == targetStart || b[p] != 32 { return 400 }
        head.targetStart = targetStart
        head.targetEnd = p
        p += 1
        // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3), then CRLF.
        guard end - p >= 10, b[p] == 72, b[p + 1] == 84, b[p + 2] == 84, b[p + 3] == 80, b[p + 4] == 47,
              isDigit(b[p + 5]), b[p + 6] == 46, isDigit(b[p + 7]), b[p + 8] == 13, b[p + 9] == 10 else { return 400 }
        // Only major version 1. RFC 9110 §2.5: a higher minor version (HTTP/1.2) is handled as the highest minor
        // version we implement, HTTP/1.1 (issue 13 item 12).
        if b[p + 5] != 49 { return 505 }
        head.versionMinor = b[p + 7] == 48 ? 0 : 1
        scanned = p + 10       // reused as the field cursor by parseFields
        return nil
    }

    @inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// field-line = field-name ":" OWS field-value OWS CRLF (RFC 9112 §5), until the empty line.
    mutating func parseFields(_ b: UnsafePointer<UInt8>, end: Int) -> Int? {
        var p = scanned
        while p < end {
            if b[p] == 13 { return b[p + 1] == 10 ? nil : 400 }      // the empty line ends the head
            // RFC 9112 §5.2: obs-fold (a line starting with SP/HTAB) is rejected with 400.
            let nameStart = p
            while RequestParser.isToken(b[p]) { p += 1 }
            // RFC 9112 §5.1: no whitespace between name and colon; a server MUST reject it with 400.
            if p == nameStart || b[p] != 58 { return 400 }
            let nameEnd = p
            p += 1
            while b[p] == 32 || b[p] == 9 { p += 1 }
            let valueStart = p
            var valueEnd = p
            while true {
                let c = b[p]
                if c == 13 { break }
                // field-vchar / obs-text / SP / HTAB (RFC 9110 §5.5); NUL, bare CR, LF and other controls are invalid.
                if (c < 32 && c != 9) || c == 127 { return 400 }
                p += 1
                if c != 32 && c != 9 { valueEnd = p }
            }
            if b[p + 1] != 10 { return 400 }
            p += 2
            if head.fields.count >= maxFields { return 431 }
            head.fields.append(.init(nameStart: Int32(nameStart), nameEnd: Int32(nameEnd),
                                     valueStart: Int32(valueStart), valueEnd: Int32(valueEnd)))
            if let status = noteField(b, nameStart, nameEnd, valueStart, valueEnd) { return status }
        }
        return 400
    }
}
