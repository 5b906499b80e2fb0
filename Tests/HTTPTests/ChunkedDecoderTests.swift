// ChunkedDecoder (RFC 9112 §7.1): fed whole and one byte at a time, with extensions, trailers and each rejection.
import XCTest
@testable import HTTP

final class ChunkedDecoderTests: XCTestCase {
    /// Feeds `text` whole; returns the result and the body.
    func whole(_ text: String, limit: Int = 1 << 20) -> (ChunkedResult, [UInt8]) {
        var decoder = ChunkedDecoder()
        var body: [UInt8] = []
        let result = Array(text.utf8).withUnsafeBytes { decoder.decode($0, limit: limit, into: &body) }
        return (result, body)
    }

    /// Feeds `text` one byte per call; returns the first non-incomplete result (or incomplete) and the body.
    func bytewise(_ text: String, limit: Int = 1 << 20) -> (ChunkedResult, [UInt8], Int) {
        var decoder = ChunkedDecoder()
        var body: [UInt8] = []
        let bytes = Array(text.utf8)
        for i in 0..<bytes.count {
            let r = bytes[i...i].withUnsafeBytes { decoder.decode($0, limit: limit, into: &body) }
            switch r {
            case .incomplete(let c): XCTAssertEqual(c, 1)
            case .complete: return (r, body, i + 1)
            case .error: return (r, body, i + 1)
            }
        }
        return (.incomplete(consumed: bytes.count), body, bytes.count)
    }

    func testValidBodies() {
        let cases: [(input: String, body: String, comment: String)] = [
            ("5\r\nhello\r\n0\r\n\r\n", "hello", "one chunk"),
            ("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", "two chunks"),
            ("A\r\n0123456789\r\n0\r\n\r\n", "0123456789", "uppercase hex"),
            ("5;name=value;x=\"q s\"\r\nhello\r\n0\r\n\r\n", "hello", "chunk extensions (§7.1.1) are ignored"),
            ("5 ;ext\r\nhello\r\n0\r\n\r\n", "hello", "BWS before the extension"),
            ("5 ; a = \"x\\\"y;z\" ;b\r\nhello\r\n0\r\n\r\n", "hello", "BWS around ';' and '=', a quoted-pair"),
            ("5;a=b\t;c\r\nhello\r\n0\r\n\r\n", "hello", "token value, BWS, a second extension"),
            ("5\r\nhello\r\n0\r\nX:\r\n\r\n", "hello", "an empty trailer value"),
            ("5\r\nhello\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n", "hello", "trailer fields (§7.1.2) are discarded"),
            ("0\r\n\r\n", "", "empty body"),
            ("000005\r\nhello\r\n0\r\n\r\n", "hello", "leading zeros"),
        ]
        for c in cases {
            let (r1, b1) = whole(c.input + "NEXT")
            XCTAssertEqual(r1, .complete(consumed: c.input.utf8.count), c.comment)
            XCTAssertEqual(String(decoding: b1, as: UTF8.self), c.body, c.comment)
            let (r2, b2, used) = bytewise(c.input)
            XCTAssertEqual(r2, .complete(consumed: 1), c.comment)
            XCTAssertEqual(used, c.input.utf8.count, c.comment)
            XCTAssertEqual(String(decoding: b2, as: UTF8.self), c.body, c.comment)
        }
    }

    func testEveryPrefixIsIncomplete() {
        let text = "5;a=b\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n"
        let bytes = Array(text.utf8)
        for n in 0..<bytes.count {
            var decoder = ChunkedDecoder()
            var body: [UInt8] = []
            XCTAssertEqual(bytes[0..<n].withUnsafeBytes { decoder.decode($0, limit: 1000, into: &body) },
                           .incomplete(consumed: n), "prefix \(n)")
        }
    }

    func testRejections() {
        let cases: [(input: String, status: Int, comment: String)] = [
            ("\r\nhello\r\n0\r\n\r\n", 400, "missing size"),
            ("g\r\nhello\r\n0\r\n\r\n", 400, "non-hex size"),
            ("5\nhello\r\n0\r\n\r\n", 400, "bare LF after size"),
            ("5\r\nhelloX\r\n0\r\n\r\n", 400, "data longer than its size"),
            ("5\r\nhello\n0\r\n\r\n", 400, "bare LF after data"),
            ("1000000000000000\r\n", 400, "size overflow"),
            ("5;\u{1}\r\nhello\r\n0\r\n\r\n", 400, "control byte in extension"),
            ("0\r\n X: 1\r\n\r\n", 400, "obs-fold in the trailer"),
            ("0\r\nX: 1\n\r\n", 400, "bare LF in the trailer"),
            ("0\r\n\r\r", 400, "bad final CRLF"),
            // Issue 13 item 8: RFC 9112 §7.1 chunk-size [ chunk-ext ] CRLF, chunk-ext = *( BWS ";" BWS name [ BWS
            // "=" BWS value ] ), value = token / quoted-string; trailer lines are field lines (name ":").
            ("1 junk\r\nx\r\n0\r\n\r\n", 400, "text after the size that is not an extension"),
            ("2;\r\nab\r\n0\r\n\r\n", 400, "';' without an extension name"),
            ("1;a=\"b\r\nx\r\n0\r\n\r\n", 400, "unbalanced quote in an extension value"),
            ("1;a=b\"c\"\r\nx\r\n0\r\n\r\n", 400, "quote inside a token value"),
            ("1 \r\nx\r\n0\r\n\r\n", 400, "trailing space after the size"),
            ("1;a \r\nx\r\n0\r\n\r\n", 400, "trailing space after an extension name"),
            ("1;a=\r\nx\r\n0\r\n\r\n", 400, "'=' without a value"),
            ("1;=b\r\nx\r\n0\r\n\r\n", 400, "a value without a name"),
            ("0\r\nNoColon\r\n\r\n", 400, "a trailer line without a colon"),
            ("0\r\nBad Name: 1\r\n\r\n", 400, "a space inside a trailer field name"),
        ]
        for c in cases {
            XCTAssertEqual(whole(c.input).0, .error(status: c.status), c.comment)
            XCTAssertEqual(bytewise(c.input).0, .error(status: c.status), "bytewise: " + c.comment)
        }
    }

    /// 413 as soon as a chunk-size says the body will pass the limit: before its data is read.
    func testLimitCheckedAsTheBodyGrows() {
        XCTAssertEqual(whole("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", limit: 8).0, .error(status: 413))
        let (r, body, used) = bytewise("5\r\nhello\r\n6\r\n", limit: 8)
        XCTAssertEqual(r, .error(status: 413))
        XCTAssertEqual(body, Array("hello".utf8))
        XCTAssertEqual(used, 12, "rejected as the second chunk-size ends, before its data")
        XCTAssertEqual(whole("8\r\n12345678\r\n0\r\n\r\n", limit: 8).0, .complete(consumed: 18), "exactly the limit is fine")
    }
}
