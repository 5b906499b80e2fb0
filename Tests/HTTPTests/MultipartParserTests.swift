// MultipartParser: a table of bodies (RFC 7578 shapes, names, errors), each also fed split at every byte offset.
@testable import HTTP
import XCTest

final class MultipartParserTests: XCTestCase {
    struct Part: Equatable {
        var head: MultipartPartHead
        var data: [UInt8]
    }

    /// Feeds `body` in the given pieces; the parts (data joined) or the error.
    static func parse(_ pieces: [ArraySlice<UInt8>], boundary: String = "XyZ", maxParts: Int = 8,
                      maxHeaderBytes: Int = 256) -> Result<[Part], MultipartError> {
        var parser = MultipartParser(boundary: boundary, maxParts: maxParts, maxHeaderBytes: maxHeaderBytes)
        var parts: [Part] = []
        var open = false
        do {
            for piece in pieces {
                try parser.feed(piece) { event in
                    switch event {
                    case .begin(let head): XCTAssertFalse(open); open = true; parts.append(Part(head: head, data: []))
                    case .data(let bytes): XCTAssertTrue(open); XCTAssertFalse(bytes.isEmpty); parts[parts.count - 1].data += bytes
                    case .end: XCTAssertTrue(open); open = false
                    }
                }
            }
            try parser.finish()
        } catch let error as MultipartError {
            return .failure(error)
        } catch {
            XCTFail("\(error)")
        }
        return .success(parts)
    }

    static func crlf(_ text: String) -> [UInt8] { Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8) }

    static let binary: [UInt8] = (0...255).map(UInt8.init) + Array("\r\n--XYZ-not-quite\r\n-XyZ-\r\r\n--Xy".utf8) + [0, 0, 13]

    static var cases: [(String, [UInt8], Result<[Part], MultipartError>)] {
        let file = crlf("--XyZ\nContent-Disposition: form-data; name=\"file\"; filename=\"cat.png\"\nContent-Type: image/png\n\n")
            + binary + crlf("\n--XyZ\nContent-Disposition: form-data; name=text\n\nlook\n--XyZ--\n")
        return [
            ("two parts, binary content", file, .success([
                Part(head: MultipartPartHead(name: "file", filename: "cat.png", contentType: "image/png"), data: binary),
                Part(head: MultipartPartHead(name: "text"), data: Array("look".utf8))])),
            ("preamble and epilogue", crlf("ignored preamble\n--XyZ\nContent-Disposition: form-data; name=\"a\"\n\n1\n--XyZ--\nepilogue"),
             .success([Part(head: MultipartPartHead(name: "a"), data: Array("1".utf8))])),
            ("padding after boundary, empty content", crlf("--XyZ  \t\nContent-Disposition: form-data; name=\"a\"\n\n\n--XyZ--"),
             .success([Part(head: MultipartPartHead(name: "a"), data: [])])),
            ("filename* wins (RFC 5987)", crlf("--XyZ\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''caf%C3%A9%20%E2%82%AC.txt; filename=\"cafe.txt\"\n\nx\n--XyZ--"),
             .success([Part(head: MultipartPartHead(name: "f", filename: "café €.txt"), data: [0x78])])),
            ("quoted name with escapes and ;", crlf("--XyZ\ncontent-disposition:form-data;name=\"a\\\"b;c\";filename=\"x\\\\y.bin\"\n\nz\n--XyZ--"),
             .success([Part(head: MultipartPartHead(name: "a\"b;c", filename: "x\\y.bin"), data: [0x7A])])),
            ("raw UTF-8 filename", Array("--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"猫.png\"\r\n\r\nq\r\n--XyZ--".utf8),
             .success([Part(head: MultipartPartHead(name: "f", filename: "猫.png"), data: [0x71])])),
            ("no parts", crlf("--XyZ--\n"), .success([])),
            ("no boundary at all", Array("hello".utf8), .failure(.malformed("no boundary in the body"))),
            ("truncated", crlf("--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nabc"),
             .failure(.malformed("the body ends before the closing boundary"))),
            ("junk after boundary", crlf("--XyZjunk\nContent-Disposition: form-data; name=\"a\"\n\n\n--XyZ--"),
             .failure(.malformed("a boundary must be followed by CRLF or \"--\""))),
            ("no disposition", crlf("--XyZ\nContent-Type: text/plain\n\nx\n--XyZ--"),
             .failure(.malformed("a part has no Content-Disposition"))),
            ("not form-data", crlf("--XyZ\nContent-Disposition: attachment; name=a\n\nx\n--XyZ--"),
             .failure(.malformed("a part's Content-Disposition must be form-data"))),
            ("folded header", crlf("--XyZ\nContent-Disposition: form-data;\n name=a\n\nx\n--XyZ--"),
             .failure(.malformed("folded part header lines are not allowed"))),
            ("header too large", crlf("--XyZ\nContent-Disposition: form-data; name=\"" + String(repeating: "a", count: 300) + "\"\n\nx\n--XyZ--"),
             .failure(.headerTooLarge)),
            ("too many parts", crlf(String(repeating: "--XyZ\nContent-Disposition: form-data; name=a\n\n1\n", count: 9) + "--XyZ--"),
             .failure(.tooManyParts)),
        ]
    }

    func testTableWholeAndSplitAtEveryOffset() {
        for (name, body, expected) in Self.cases {
            XCTAssertEqual(Self.parse([body[...]]), expected, "\(name) whole")
            for cut in 0...body.count {
                XCTAssertEqual(Self.parse([body[..<cut], body[cut...]]), expected, "\(name) cut at \(cut)")
            }
            XCTAssertEqual(Self.parse(body.map { [$0][...] }), expected, "\(name) byte by byte")
        }
    }

    /// Random binary contents (every byte value, CRs and partial boundaries likely) in random pieces.
    func testRandomContentsRandomPieces() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let alphabet: [UInt8] = [13, 10, 0x2D, 0x58, 0x79, 0x5A, 0, 255]
            let contents = (0..<3).map { _ in
                (0..<Int.random(in: 0..<300, using: &rng)).map { _ in
                    Bool.random(using: &rng) ? alphabet.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
                }
            }
            var body: [UInt8] = []
            for (i, c) in contents.enumerated() {
                body += Self.crlf("--XyZ\nContent-Disposition: form-data; name=\"p\(i)\"\n\n") + c + [13, 10]
            }
            body += Self.crlf("--XyZ--\n")
            var pieces: [ArraySlice<UInt8>] = []
            var at = 0
            while at < body.count {
                let n = Int.random(in: 1...64, using: &rng)
                pieces.append(body[at..<min(body.count, at + n)])
                at += n
            }
            let expected = contents.enumerated().map { Part(head: MultipartPartHead(name: "p\($0.offset)"), data: $0.element) }
            XCTAssertEqual(Self.parse(pieces), .success(expected))
        }
    }

    /// Held-back bytes stay bounded however large the part: a 1 MiB part fed in 4 KiB pieces.
    func testBufferStaysBounded() throws {
        var parser = MultipartParser(boundary: "XyZ")
        var total = 0
        try parser.feed(Self.crlf("--XyZ\nContent-Disposition: form-data; name=file; filename=a\n\n")) { _ in }
        for _ in 0..<256 {
            try parser.feed([UInt8](repeating: 13, count: 4096)) { if case .data(let d) = $0 { total += d.count } }
            XCTAssertLessThanOrEqual(parser.buffer.count, 8)
        }
        try parser.feed(Self.crlf("\n--XyZ--")) { if case .data(let d) = $0 { total += d.count } }
        try parser.finish()
        XCTAssertEqual(total, 1 << 20)
    }

    func testBoundaryFromContentType() {
        let cases: [(String, String?)] = [
            ("multipart/form-data; boundary=----WebKitFormBoundaryabc", "----WebKitFormBoundaryabc"),
            ("Multipart/Form-Data ; Boundary=\"a b:c\"", "a b:c"),
            ("multipart/form-data; charset=utf-8; boundary=x", "x"),
            ("multipart/form-data", nil),
            ("multipart/form-data; boundary=", nil),
            ("multipart/form-data; boundary=" + String(repeating: "b", count: 71), nil),
            ("multipart/mixed; boundary=x", nil),
            ("application/json", nil),
        ]
        for (value, expected) in cases { XCTAssertEqual(MultipartParser.boundary(contentType: value), expected, value) }
    }
}
