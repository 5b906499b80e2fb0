// JSONObjectReader: a table of bodies and their fields or refusal, every escape, nesting, and agreement with JSONDecoder.
import XCTest
@testable import API

final class JSONObjectReaderTests: XCTestCase {
    /// nil: refused (invalid_json).
    func read(_ body: String) -> [String: FieldValue]? { JSONObjectReader.read(Array(body.utf8)) }

    func testValidBodies() {
        let cases: [(String, [String: FieldValue], String)] = [
            (#"{}"#, [:], "empty object"),
            (" \t\r\n{ \t\r\n} \t\r\n", [:], "the four whitespace bytes around and inside"),
            (#"{"text":"hi"}"#, ["text": .string("hi")], "one string"),
            (#"{ "a" : "1" , "b" : "2" }"#, ["a": .string("1"), "b": .string("2")], "spaces between tokens"),
            (#"{"a":""}"#, ["a": .string("")], "empty string"),
            (#"{"":"x"}"#, ["": .string("x")], "empty name"),
            (#"{"a":null}"#, ["a": .absent], "null is absent"),
            (#"{"a":true,"b":false}"#, ["a": .invalid, "b": .invalid], "booleans are not strings"),
            (#"{"a":0,"b":-0,"c":12.5e-3,"d":1E+2,"e":-7}"#,
             ["a": .invalid, "b": .invalid, "c": .invalid, "d": .invalid, "e": .invalid], "numbers"),
            ("{\"a\":1" + String(repeating: "9", count: 5000) + "e99999}", ["a": .invalid], "a huge number"),
            (#"{"a":[],"b":{},"c":[1,"x",null,true,{"d":[{}]}]}"#, ["a": .list([]), "b": .invalid, "c": .invalid], "containers"),
            (#"{"f":["x", "\u00e9" ,""],"g":["x",1],"h":["\ud800"]}"#, ["f": .list(["x", "é", ""]), "g": .invalid, "h": .invalid],
             "arrays of strings are lists; any other element makes the array invalid"),
            (#"{"a":["\ud800"],"b":{"\udc00":1}}"#, ["a": .invalid, "b": .invalid], "lone surrogates deep inside are only checked"),
            ("{\"t\":\"é ✓ 😀 \u{FEFF}\"}", ["t": .string("é ✓ 😀 \u{FEFF}")], "raw UTF-8 and U+FEFF kept"),
            (#"{"t":"\"\\\/\b\f\n\r\t"}"#, ["t": .string("\"\\/\u{8}\u{C}\n\r\t")], "every short escape"),
            ("\u{FEFF}{\"a\":\"b\"}", ["a": .string("b")], "a leading byte order mark is ignored (RFC 8259 §8.1)"),
            (#"{"t":"\u0041\u00e9\u00E9\u2713\uFEFF\u0000"}"#, ["t": .string("Aéé✓\u{FEFF}\u{0}")], "\\u escapes, both cases"),
            (#"{"t":"\ud83d\ude00 \uD83D\uDE00"}"#, ["t": .string("😀 😀")], "surrogate pairs"),
            (#"{"t":"a\ud800"}"#, ["t": .invalid], "lone high surrogate at the end"),
            (#"{"t":"\ud800x"}"#, ["t": .invalid], "high surrogate, then a plain character"),
            (#"{"t":"\ud800\u0041"}"#, ["t": .invalid], "high surrogate, then another escape"),
            (#"{"t":"\ud800\ud800\udc00"}"#, ["t": .invalid], "two highs, the second paired"),
            (#"{"t":"\udc00"}"#, ["t": .invalid], "lone low surrogate"),
            (#"{"t":"\ude00\ud83d"}"#, ["t": .invalid], "a pair in the wrong order"),
            (#"{"\u0074ext":"x"}"#, ["text": .string("x")], "escaped name"),
            ("{\"t\":\"é\\n\"}", ["t": .string("é\n")], "raw UTF-8 before an escape"),
        ]
        for (body, expected, note) in cases {
            XCTAssertEqual(read(body), expected, note)
        }
    }

    func testInvalidBodies() {
        let cases: [(String, String)] = [
            ("", "empty"), ("   ", "only whitespace"), ("[]", "an array"), (#""x""#, "a string"), ("5", "a number"),
            ("null", "null"), ("{", "unclosed"), ("{\"a\"", "no colon"), (#"{"a":}"#, "no value"),
            (#"{"a":"x",}"#, "trailing comma"), (#"{,}"#, "lone comma"), (#"{"a":"x""b":"y"}"#, "missing comma"),
            (#"{"a" "x"}"#, "missing colon"), (#"{a:"x"}"#, "bare name"), (#"{'a':'x'}"#, "single quotes"),
            (#"{1:"x"}"#, "number as name"), (#"{"a":"x"} x"#, "trailing garbage"), (#"{"a":"x"}{}"#, "two objects"),
            (#"{"a":"x"}}"#, "extra brace"), ("{\"a\":\"x\"}\u{0}", "trailing NUL"), ("\u{FEFF}\u{FEFF}{}", "two byte order marks"),
            ("{\u{FEFF}}", "byte order mark inside"),
            ("\u{A0}{}", "non-breaking space is not whitespace"), ("{\u{0B}}", "vertical tab is not whitespace"),
            (#"{"a":"x"#, "unterminated string"), (#"{"a":"x\"}"#, "escaped closing quote"),
            ("{\"a\":\"\t\"}", "raw TAB in a string"), ("{\"a\":\"\n\"}", "raw LF in a string"),
            (#"{"a":"\x"}"#, "unknown escape"), (#"{"a":"\'"}"#, "escaped single quote"), (#"{"a":"\u12"}"#, "short \\u"),
            (#"{"a":"\u12G4"}"#, "non-hex \\u"), (#"{"a":"\"#, "backslash at the end"), (#"{"a":"\ud800\u"}"#, "cut pair"),
            (#"{"\ud800":"x"}"#, "lone surrogate in a name"),
            (#"{"a":NaN}"#, "NaN"), (#"{"a":Infinity}"#, "Infinity"), (#"{"a":+1}"#, "plus sign"),
            (#"{"a":01}"#, "leading zero"), (#"{"a":1.}"#, "no fraction digits"), (#"{"a":.5}"#, "no integer part"),
            (#"{"a":1e}"#, "no exponent digits"), (#"{"a":1e+}"#, "signed, no exponent digits"), (#"{"a":-}"#, "only minus"),
            (#"{"a":0x10}"#, "hex number"), (#"{"a":tru}"#, "cut literal"), (#"{"a":True}"#, "capital literal"),
            (#"{"a":nul}"#, "cut null"), (#"{"a":nulll}"#, "long null"), (#"{"a":[1,]}"#, "trailing comma in array"),
            (#"{"a":[1 2]}"#, "missing comma in array"), (#"{"a":{"b"}}"#, "member without value"), (#"{"a":[}"#, "unclosed array"),
            (#"{"a":{1:2}}"#, "nested number name"), (#"{"a":"x","a":"y"}"#, "duplicate name (RFC 7493 §2.3)"),
            (#"{"a":null,"a":null}"#, "duplicate name, both null"), (#"{"text":"x","\u0074ext":"x"}"#, "duplicate after unescaping"),
            (#"// c"# + "\n{}", "comment"),
        ]
        for (body, note) in cases {
            XCTAssertNil(read(body), note)
        }
    }

    func testInvalidUTF8IsRefused() {
        let bad: [[UInt8]] = [[0xFF], [0xC3], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80] /* encoded surrogate */,
                              [0xC0, 0xAF] /* overlong */, [0xF4, 0x90, 0x80, 0x80] /* past U+10FFFF */, [0x80]]
        for bytes in bad {
            XCTAssertNil(JSONObjectReader.read(Array(#"{"t":""#.utf8) + bytes + Array(#""}"#.utf8)), "value \(bytes)")
            XCTAssertNil(JSONObjectReader.read(Array(#"{"t":"\n"#.utf8) + bytes + Array(#""}"#.utf8)), "after escape \(bytes)")
            XCTAssertNil(JSONObjectReader.read(Array(#"{""#.utf8) + bytes + Array(#"":"x"}"#.utf8)), "name \(bytes)")
            XCTAssertNil(JSONObjectReader.read(Array(#"{"t":[""#.utf8) + bytes + Array(#""]}"#.utf8)), "nested \(bytes)")
            XCTAssertNil(JSONObjectReader.read(Array(#"{"t":"x"}"#.utf8) + bytes), "trailing \(bytes)")
        }
        // A raw lead byte cut by an escape stays invalid even though the escape adds a continuation-like sequence.
        XCTAssertNil(JSONObjectReader.read(Array(#"{"t":""#.utf8) + [0xC3] + Array(#"\u00a9"}"#.utf8)))
    }

    func testNestingIsBounded() {
        func nested(_ depth: Int) -> String {
            // depth counts the body object: depth 2 is {"a":[]}.
            #"{"a":"# + String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1) + "}"
        }
        XCTAssertEqual(read(nested(JSONObjectReader.maxDepth)), ["a": .invalid])
        XCTAssertNil(read(nested(JSONObjectReader.maxDepth + 1)))
        XCTAssertNil(read(nested(100_000)))                   // no stack overflow
        XCTAssertNil(read(String(repeating: "[", count: 100_000)))
        XCTAssertNil(read(#"{"a":"# + String(repeating: #"{"b":"#, count: 100_000)))
    }

    func testEveryPrefixOfAValidBodyIsRefused() {
        let body = #"{"text":"h\u00e9 \ud83d\ude00","room":null,"n":[-1.5e3,true,{"x":false}]}"#
        XCTAssertNotNil(read(body))
        let bytes = Array(body.utf8)
        for n in 0..<bytes.count {
            XCTAssertNil(JSONObjectReader.read(Array(bytes[..<n])), "prefix of \(n) bytes")
        }
    }
}

/// What RequestBody did before JSONObjectReader: Foundation's JSONDecoder (kept here as the reference).
struct DecoderReference {
    struct Field: Decodable {
        var value: FieldValue
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { value = .absent }
            else if let string = try? container.decode(String.self) { value = .string(string) }
            else { value = .invalid }
        }
    }

    static func read(_ body: [UInt8]) -> [String: FieldValue]? {
        guard String(validating: body, as: UTF8.self) != nil else { return nil }
        return (try? JSONDecoder().decode([String: Field].self, from: Data(body)))?.mapValues(\.value)
    }
}

extension JSONObjectReaderTests {
    /// Byte edits of realistic bodies must be judged as JSONDecoder judged them, except where this reader is stricter
    /// on purpose: a repeated name, a trailing comma, and a value string that is not well-formed.
    func testAgreesWithJSONDecoderOnMutatedBodies() {
        let seeds = [#"{"room":"general","text":"hello \u00e9 \ud83d\ude00 \"q\" \\ \/","client_id":"c-1"}"#,
                     #"{ "text" : "a\nb\tc" , "n" : [ 1.5e-3 , -0 , true , false , null , { "k" : "v" } ] , "z" : null }"#,
                     "{\"text\":\"é ✓ 😀 \u{FEFF}\",\"x\":{}}"]
        let alphabet = Array(#"{}[]:,"\/ubfnrt0123456789+-.eEaxlsDd \#t"#.utf8) + [0x0A, 0x00, 0x7F, 0x80, 0xC3, 0xED, 0xFF]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        var checked = 0
        for seed in seeds {
            let original = Array(seed.utf8)
            for _ in 0..<4000 {
                var body = original
                for _ in 0...random(3) {
                    let at = random(body.count)
                    switch random(3) {
                    case 0: body[at] = alphabet[random(alphabet.count)]
                    case 1: body.insert(alphabet[random(alphabet.count)], at: at)
                    default: body.remove(at: at)
                    }
                    if body.isEmpty { break }
                }
                let mine = JSONObjectReader.read(body), reference = DecoderReference.read(body)
                // JSONDecoder decodes a member's string only when asked, so a bad escape or raw control character
                // in a value made the field invalid; RFC 8259 §7 makes the body invalid (JSONSerialization agrees).
                if mine == nil, reference != nil,
                   Self.repeatsAString(body) || Self.hasTrailingComma(body)
                    || (try? JSONSerialization.jsonObject(with: Data(body))) == nil { continue }
                XCTAssertEqual(mine, reference, String(decoding: body, as: UTF8.self))
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 11_000)
    }

    /// Foundation accepts `[1,]` and `{"a":1,}`; RFC 8259 §4–5 do not (over-approximated: ignores strings).
    static func hasTrailingComma(_ body: [UInt8]) -> Bool {
        let tokens = body.filter { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        return zip(tokens, tokens.dropFirst()).contains { $0 == UInt8(ascii: ",") && ($1 == .closeBrace || $1 == .closeBracket) }
    }

    /// Over-approximates "has a repeated member name": some quoted token occurs twice.
    static func repeatsAString(_ body: [UInt8]) -> Bool {
        let parts = body.split(separator: UInt8(ascii: "\""), omittingEmptySubsequences: false)
        var seen = Set<[UInt8]>()
        for (i, part) in parts.enumerated() where i % 2 == 1 {
            if !seen.insert(Array(part)).inserted { return true }
        }
        return false
    }
}
