// Header fields that decide message framing and connection handling (RFC 9112 §6, §9; RFC 9110 §7.2, §10.1.1).

extension RequestParser {
    /// Case-insensitive comparison of `b[start..<end]` with a lowercase ASCII name.
    @inline(__always)
    static func equalsLower(_ b: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ lower: StaticString) -> Bool {
        guard end - start == lower.utf8CodeUnitCount else { return false }
        let l = lower.utf8Start
        for i in 0..<(end - start) where b[start + i] | 0x20 != l[i] { return false }
        return true
    }

    /// Records what the framing checks need. Returns an error status or nil.
    mutating func noteField(_ b: UnsafePointer<UInt8>, _ ns: Int, _ ne: Int, _ vs: Int, _ ve: Int) -> Int? {
        switch ne - ns {
        case 4 where RequestParser.equalsLower(b, ns, ne, "host"):
            hostCount += 1
        case 6 where RequestParser.equalsLower(b, ns, ne, "expect"):
            if RequestParser.equalsLower(b, vs, ve, "100-continue") { head.expectContinue = true } else { head.expectUnknown = true }
        case 10 where RequestParser.equalsLower(b, ns, ne, "connection"):
            forEachToken(b, vs, ve) { s, e in
                if RequestParser.equalsLower(b, s, e, "close") { head.connectionClose = true }
                if RequestParser.equalsLower(b, s, e, "keep-alive") { head.connectionKeepAlive = true }
            }
        case 14 where RequestParser.equalsLower(b, ns, ne, "content-length"):
            // RFC 9112 §6.3: 1*DIGIT; differing or malformed values are unrecoverable framing errors.
            guard ve > vs, ve - vs <= 18 else { return 400 }
            var value = 0
            for i in vs..<ve {
                guard isDigit(b[i]) else { return 400 }
                value = value * 10 + Int(b[i] - 48)
            }
            if let previous = head.contentLength, previous != value { return 400 }
            head.contentLength = value
        case 17 where RequestParser.equalsLower(b, ns, ne, "transfer-encoding"):
            var status: Int? = nil
            forEachToken(b, vs, ve) { s, e in
                if status != nil { return }
                if head.chunked { status = 400; return }            // chunked must be the final coding, once
                if RequestParser.equalsLower(b, s, e, "chunked") { head.chunked = true } else { codings += 1 }
            }
            if let status { return status }
            transferEncodingSeen = true
        default:
            break
        }
        return nil
    }

    /// Calls `body` with each comma-separated, whitespace-trimmed element of a field value.
    func forEachToken(_ b: UnsafePointer<UInt8>, _ vs: Int, _ ve: Int, _ body: (Int, Int) -> Void) {
        var s = vs
        while s < ve {
            var e = s
            while e < ve && b[e] != 44 { e += 1 }
            var ts = s, te = e
            while ts < te && (b[ts] == 32 || b[ts] == 9) { ts += 1 }
            while te > ts && (b[te - 1] == 32 || b[te - 1] == 9) { te -= 1 }
            if te > ts { body(ts, te) }
            s = e + 1
        }
    }

    /// Whole-head rules, once every field is seen. Returns an error status or nil.
    mutating func checkFraming(_ b: UnsafePointer<UInt8>) -> Int? {
        // RFC 9112 §3.2: HTTP/1.1 needs exactly one Host; any request with more than one is rejected.
        if hostCount > 1 || (head.versionMinor == 1 && hostCount == 0) { return 400 }
        if transferEncodingSeen {
            // RFC 9112 §6.1: TE in HTTP/1.0 means faulty framing. §6.3: TE with Content-Length is an error we
            // refuse (smuggling); chunked not last → 400; a coding we do not know → 501.
            if head.versionMinor == 0 || head.contentLength != nil { return 400 }
            if !head.chunked { return 400 }
            if codings > 0 { return 501 }
        }
        return nil
    }
}
