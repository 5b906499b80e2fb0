// libFuzzer harness for MultipartParser: no crash, bounded buffering, and any split gives the same parts.

/// The first input byte picks a cut; the rest is the body (boundary "B"). Checks: parsing whole and in two pieces
/// (at the cut) and byte by byte agree on the parts (heads and joined data) or on failing; the held-back buffer
/// never exceeds the header limit plus a delimiter plus the piece just fed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultipart(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let cut = body.isEmpty ? 0 : Int(data[0]) % (body.count + 1)
    let whole = run([body[...]])
    precondition(run([body[..<cut], body[cut...]]) == whole, "split at \(cut) differs")
    precondition(run(body.map { [$0][...] }) == whole, "byte by byte differs")
    return 0
}

struct Outcome: Equatable {
    var parts: [(MultipartPartHead, [UInt8])] = []
    var failed = false
    static func == (a: Outcome, b: Outcome) -> Bool {
        a.failed == b.failed && a.parts.count == b.parts.count
            && zip(a.parts, b.parts).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}

func run(_ pieces: [ArraySlice<UInt8>]) -> Outcome {
    var parser = MultipartParser(boundary: "B", maxParts: 8, maxHeaderBytes: 128)
    var outcome = Outcome()
    do {
        for piece in pieces {
            try parser.feed(piece) { event in
                switch event {
                case .begin(let head): outcome.parts.append((head, []))
                case .data(let bytes): outcome.parts[outcome.parts.count - 1].1 += bytes
                case .end: break
                }
            }
            precondition(parser.buffer.count <= 128 + 8 + piece.count)
        }
        try parser.finish()
    } catch {
        // Parts reported before the error may differ with the split (data is reported as soon as it is certain).
        return Outcome(parts: [], failed: true)
    }
    return outcome
}
