// `konnect bench` hot path: seqs and client_ids out of answers by byte search, no JSON parser per response.

/// Pulls values out of the server's JSON answers without a parser: the keys are fixed by API.md and the bench
/// writes texts without quotes, so `"seq":` cannot occur inside a string (a quote there would be `\"`), and
/// `"last_seq":` does not match `"seq":` (its `seq` follows `_`, not a quote).
enum AnswerScanner {
    /// Every integer after `key` (e.g. `"seq":`), in order.
    static func integers(_ key: StaticString, in body: [UInt8]) -> [Int] {
        var out: [Int] = []
        forEach(key, in: body) { body, i in
            var j = i, value = 0, digits = 0
            while j < body.count, body[j] >= 48, body[j] <= 57 { value = value * 10 + Int(body[j] - 48); j += 1; digits += 1 }
            if digits > 0 { out.append(value) }
        }
        return out
    }

    /// Every string after `key` (e.g. `"client_id":`); `nil` for JSON null. Escapes are kept as sent.
    static func strings(_ key: StaticString, in body: [UInt8]) -> [String?] {
        var out: [String?] = []
        forEach(key, in: body) { body, i in
            guard i < body.count, body[i] == UInt8(ascii: "\"") else { out.append(nil); return }
            var j = i + 1
            while j < body.count, body[j] != UInt8(ascii: "\"") { j += body[j] == UInt8(ascii: "\\") ? 2 : 1 }
            out.append(String(decoding: body[(i + 1)..<Swift.min(j, body.count)], as: UTF8.self))
        }
        return out
    }

    /// Calls `found` with the index just after each occurrence of `key` (spaces after the colon skipped).
    static func forEach(_ key: StaticString, in body: [UInt8], _ found: ([UInt8], Int) -> Void) {
        let k = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        guard k.count > 0, body.count >= k.count else { return }
        var i = 0
        let first = k[0]
        while i <= body.count - k.count {
            if body[i] == first {
                var match = true
                for t in 1..<k.count where body[i + t] != k[t] { match = false; break }
                if match {
                    var j = i + k.count
                    while j < body.count, body[j] == UInt8(ascii: " ") { j += 1 }
                    found(body, j)
                    i = j
                    continue
                }
            }
            i += 1
        }
    }

    /// The send time a bench post carries in its client_id (`t<monotonic ns>-…`), if any.
    static func sendTime(fromClientID id: String?) -> UInt64? {
        guard let id, id.hasPrefix("t") else { return nil }
        return UInt64(id.dropFirst().prefix { $0 != "-" })
    }
}
