// libFuzzer harness for RequestParser and ChunkedDecoder: no crash, and incremental parsing agrees with whole.

/// Checks, for any input: parsing it whole equals parsing it as growing prefixes with one resumed parser (the
/// picohttpparser contract); after a complete head, the rest decoded as chunked whole equals byte-by-byte.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    var whole = RequestParser(maxHeadBytes: 1024, maxFields: 32)
    let wholeResult = whole.parse(bytes)

    var resumed = RequestParser(maxHeadBytes: 1024, maxFields: 32)
    var prefixResult = ParseResult.incomplete
    var n = 0
    while n < size {
        n += 1
        prefixResult = resumed.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
        if prefixResult != .incomplete { break }
    }
    precondition(prefixResult == wholeResult, "prefix \(prefixResult) != whole \(wholeResult)")

    if case .complete(let consumed) = wholeResult {
        precondition(consumed <= size)
        let head = whole.head
        precondition(head.methodStart < head.methodEnd && head.methodEnd <= consumed)
        precondition(head.targetStart < head.targetEnd && head.targetEnd <= consumed)
        for f in head.fields { precondition(f.nameStart < f.nameEnd && f.valueStart <= f.valueEnd && Int(f.valueEnd) <= consumed) }
        let rest = UnsafeRawBufferPointer(rebasing: bytes[consumed...])
        var a = ChunkedDecoder(), b = ChunkedDecoder()
        var bodyA: [UInt8] = [], bodyB: [UInt8] = []
        let resultA = a.decode(rest, limit: 4096, into: &bodyA)
        var resultB = ChunkedResult.incomplete(consumed: 0)
        var offset = 0
        while offset < rest.count {
            resultB = b.decode(UnsafeRawBufferPointer(rebasing: rest[offset..<offset + 1]), limit: 4096, into: &bodyB)
            if case .incomplete = resultB { offset += 1; continue }
            if case .complete(let c) = resultB { precondition(c == 1); offset += 1 }
            break
        }
        switch (resultA, resultB) {
        case (.complete(let c), .complete):
            precondition(c == offset && bodyA == bodyB, "chunked whole/bytewise disagree")
        case (.error(let x), .error(let y)):
            precondition(x == y)
        case (.incomplete(let c), .incomplete):
            precondition(c == rest.count && bodyA == bodyB)
        default:
            preconditionFailure("chunked whole \(resultA) vs bytewise \(resultB)")
        }
    }
    return 0
}
