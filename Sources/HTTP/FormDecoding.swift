// application/x-www-form-urlencoded decoding (WHATWG URL §5.1), shared by query strings and form bodies.

public enum FormDecoding {
    /// Splits on `&`, then `=`, turns `+` into space and decodes `%XX`. Invalid UTF-8 after decoding is replaced
    /// with U+FFFD unless `strict`, in which case `nil` is returned for the whole input.
    public static func decode(_ text: String) -> [(String, String)] {
        decode(bytes: Array(text.utf8), strict: false) ?? []
    }

    public static func decode(bytes: [UInt8], strict: Bool) -> [(String, String)]? {
        var result: [(String, String)] = []
        for part in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let pieces = part.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = percentDecode(pieces[0], strict: strict) else { return nil }
            let value: String
            if pieces.count > 1 {
                guard let v = percentDecode(pieces[1], strict: strict) else { return nil }
                value = v
            } else {
                value = ""
            }
            result.append((name, value))
        }
        return result
    }

    public static func percentDecode(_ bytes: ArraySlice<UInt8>, strict: Bool) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if b == UInt8(ascii: "%"), i + 2 < bytes.endIndex,
                      let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) {
                out.append(hi << 4 | lo)
                i += 2
            } else {
                out.append(b)
            }
            i += 1
        }
        if strict {
            return String(validating: out, as: UTF8.self)
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
