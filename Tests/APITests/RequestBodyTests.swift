// Body parsing by content type: JSON, form, text/plain; wrong types and invalid UTF-8 stay visible as `.invalid`.
import XCTest
@testable import API
import HTTP

final class RequestBodyTests: XCTestCase {
    func request(_ type: String?, _ body: [UInt8]) -> HTTPRequest {
        var headers = HTTPHeaders()
        if let type { headers.add("Content-Type", type) }
        return HTTPRequest(method: "POST", target: "/messages", headers: headers, body: body)
    }

    func parse(_ type: String?, _ body: String, text: Bool = true) -> Result<RequestBody, Refusal> {
        RequestBody.parse(request(type, Array(body.utf8)), plainTextField: text ? "text" : nil)
    }

    func code(_ result: Result<RequestBody, Refusal>) -> String? {
        guard case .failure(let refusal) = result,
              let json = try? JSONSerialization.jsonObject(with: Data(refusal.response.body)) as? [String: Any] else { return nil }
        return json["code"] as? String
    }

    func testJSONFields() throws {
        let body = try parse("application/json; charset=UTF-8", #"{"text":"hi \u00e9","room":null,"n":5,"b":true,"a":[],"o":{}}"#).get()
        XCTAssertEqual(body["text"], .string("hi é"))
        XCTAssertEqual(body["room"], .absent)
        XCTAssertEqual(body["missing"], .absent)
        for name in ["n", "b", "a", "o"] { XCTAssertEqual(body[name], .invalid, name) }
        XCTAssertEqual(try parse("application/json", #"{"text":"5"}"#).get()["text"], .string("5"))
        // U+FEFF inside a string is kept (JSONSerialization would drop it and store another text).
        XCTAssertEqual(try parse("application/json", "{\"text\":\"\u{FEFF}a\\n\u{FEFF}b\"}").get()["text"], .string("\u{FEFF}a\n\u{FEFF}b"))
    }

    func testBadJSONIsInvalidJSON() {
        for body in ["{", "[]", "\"x\"", "5", "{\"text\":}", "{\"text\":\"a\"} x", "NaN", "{\"text\":NaN}",
                     // Stricter than JSONDecoder was: a repeated name (RFC 7493 §2.3), a trailing comma, a bad escape.
                     "{\"text\":\"a\",\"text\":\"b\"}", "{\"text\":\"a\",}", "{\"text\":\"\\x\"}"] {
            XCTAssertEqual(code(parse("application/json", body)), "invalid_json", body)
        }
        let invalidUTF8: [UInt8] = Array(#"{"text":""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8)
        XCTAssertEqual(code(RequestBody.parse(request("application/json", invalidUTF8))), "invalid_json")
    }

    /// Issue 12 / contract v2: an empty JSON body is invalid_json; a form that is really JSON says how to send JSON;
    /// a JSON field that is not a string says so, a form field that is not UTF-8 says that.
    func testAnswersThatReadWellWithCurl() throws {
        XCTAssertEqual(code(parse("application/json", "")), "invalid_json")
        for body in [#"{"text":"hi"}"#, " { \"text\" : \"hi\" }\n", "{}"] {
            let result = parse("application/x-www-form-urlencoded", body)
            XCTAssertEqual(code(result), "invalid_json", body)
            guard case .failure(let refusal) = result else { continue }
            let detail = String(decoding: refusal.response.body, as: UTF8.self)
            XCTAssertTrue(detail.contains("came as a form") && detail.contains("Content-Type: application/json"), detail)
        }
        XCTAssertEqual(try parse("application/x-www-form-urlencoded", "{text}=x").get()["{text}"], .string("x"), "not JSON-like")
        XCTAssertEqual(try parse("application/json", #"{"text":42}"#).get().invalidDetail("text"),
                       "text must be a JSON string (not a number, boolean, array or object)")
        XCTAssertTrue(try parse("application/x-www-form-urlencoded", "text=%FF").get().invalidDetail("text").contains("UTF-8"))
    }

    func testForm() throws {
        let body = try parse("application/x-www-form-urlencoded", "text=hello+world%21&room=general&text=second&x=%FF").get()
        XCTAssertEqual(body["text"], .string("hello world!"))      // the first occurrence wins
        XCTAssertEqual(body["room"], .string("general"))
        XCTAssertEqual(body["x"], .invalid)                        // invalid UTF-8 is refused, not replaced
        XCTAssertEqual(try parse("application/x-www-form-urlencoded", "text=100%").get()["text"], .string("100%"))
    }

    func testPlainText() throws {
        XCTAssertEqual(try parse("text/plain", "a=b&c\n").get()["text"], .string("a=b&c\n"))
        XCTAssertEqual(try RequestBody.parse(request("text/plain", [0x61, 0xC3]), plainTextField: "text").get()["text"], .invalid)
        XCTAssertEqual(code(parse("text/plain", "hi", text: false)), "unsupported_media_type")
        XCTAssertEqual(code(parse("text/plain; charset=latin1", "hi")), "unsupported_media_type")
    }

    func testMediaType() {
        let cases: [(String, String, String?)] = [
            ("application/json", "application/json", nil),
            ("Application/Json", "application/json", nil),
            ("application/json\t", "application/json", nil),
            ("\"application/json\"", "\"application/json\"", nil),
            (" Application/JSON ; Charset = \"UTF-8\" ", "application/json", "utf-8"),
            ("text/plain;charset=utf8;x=y", "text/plain", "utf8"),
            ("application/json;\tcharset=latin1", "application/json", "latin1"),
            ("application/json; x=\"a;b\"; charset=UTF-8", "application/json", "utf-8"),
            ("multipart/form-data; boundary=x", "multipart/form-data", nil),
            ("application/json; charset", "application/json", nil),
            ("application/json; charset=\"\"", "application/json", ""),
            ("application/json\u{A0}", "application/json\u{A0}", nil),     // only SP and HTAB are OWS
            ("", "", nil),
        ]
        for (value, type, charset) in cases {
            let parsed = MediaType.parse(value)
            XCTAssertEqual(parsed.type, type, value)
            XCTAssertEqual(parsed.charset, charset, value)
        }
    }

    func testOtherTypesAre415() {
        for type in ["text/xml", "multipart/form-data; boundary=x", "application/jsonx", "", nil] as [String?] {
            XCTAssertEqual(code(parse(type, "text=hi")), "unsupported_media_type", type ?? "nil")
        }
        // No body and no type: nothing to parse, every field absent.
        XCTAssertEqual(try? parse(nil, "").get()["text"], .absent)
    }
}
