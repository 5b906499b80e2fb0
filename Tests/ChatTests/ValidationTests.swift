// The contract's input rules as a table: each value, the code it earns (nil = accepted).
import Chat
import XCTest

final class ValidationTests: XCTestCase {
    func testUsernames() {
        let cases: [(String?, String?)] = [
            ("a", nil), ("Az09_.-", nil), (String(repeating: "x", count: 32), nil),
            (nil, "invalid_username"), ("", "invalid_username"), (String(repeating: "x", count: 33), "invalid_username"),
            ("white space", "invalid_username"), ("ümlaut", "invalid_username"), ("a/b", "invalid_username"),
        ]
        for (input, expected) in cases { XCTAssertEqual(Validation.username(input)?.code, expected, "\(String(describing: input))") }
        XCTAssertEqual(Validation.usernameKey("MiXeD_Case.1"), "mixed_case.1")
    }

    func testPasswordsCountBytes() {
        let cases: [(String?, String?)] = [
            ("12345678", nil), (String(repeating: "é", count: 128), nil),    // 256 bytes
            ("1234567", "invalid_password"), (String(repeating: "é", count: 4), nil),    // 8 bytes, 4 characters
            (String(repeating: "é", count: 3), "invalid_password"),         // 6 bytes
            (String(repeating: "a", count: 257), "invalid_password"), (nil, "invalid_password"),
            ("with\u{0}nul byte", "invalid_password"),
        ]
        for (input, expected) in cases { XCTAssertEqual(Validation.password(input)?.code, expected, "\(String(describing: input))") }
    }

    func testRoomNames() {
        let cases: [(String?, String?)] = [
            ("general", nil), ("a-b_c9", nil), (String(repeating: "r", count: 64), nil),
            ("", "invalid_room_name"), (String(repeating: "r", count: 65), "invalid_room_name"),
            ("Upper", "invalid_room_name"), ("dot.ted", "invalid_room_name"), (nil, "invalid_room_name"),
        ]
        for (input, expected) in cases { XCTAssertEqual(Validation.roomName(input)?.code, expected, "\(String(describing: input))") }
    }

    func testTexts() {
        let cases: [(String?, String?)] = [
            ("hi", nil), ("tab\tlf\ncr\r", nil), (" x ", nil), ("emoji 🎉", nil),
            (String(repeating: "🎉", count: 4000), nil),                         // 4000 scalars, 16000 bytes
            ("e\u{301}", nil),                                                   // 2 scalars, 1 character
            (nil, "invalid_text"), ("", "empty_text"), ("   ", "empty_text"), ("\n\t\r", "empty_text"),
            ("\u{3000}\u{A0}", "empty_text"),                                    // Unicode white space only
            (String(repeating: "a", count: 4001), "text_too_long"),
            (String(repeating: "e\u{301}", count: 2001), "text_too_long"),      // 4002 scalars
            ("nul\u{0}", "invalid_text"), ("esc\u{1B}", "invalid_text"), ("del\u{7F}", "invalid_text"),
            ("c1\u{85}", "invalid_text"),
        ]
        for (input, expected) in cases { XCTAssertEqual(Validation.text(input)?.code, expected, "\(String(describing: input))") }
    }

    /// The ASCII shortcut in `Validation.text` must answer as the Unicode properties do, for every ASCII scalar.
    func testASCIITextAgreesWithUnicodeProperties() {
        for v in UInt8(0)...UInt8(0x7F) {
            let scalar = Unicode.Scalar(v)
            let control = scalar.properties.generalCategory == .control && ![0x09, 0x0A, 0x0D].contains(v)
            let expectedAlone = control ? "invalid_text" : scalar.properties.isWhitespace ? "empty_text" : nil
            XCTAssertEqual(Validation.text(String(scalar))?.code, expectedAlone, "U+\(v) alone")
            XCTAssertEqual(Validation.text("a" + String(scalar))?.code, control ? "invalid_text" : nil, "U+\(v) after a")
        }
    }

    func testClientIDs() {
        let cases: [(String?, String?)] = [
            (nil, nil), ("a", nil), (" ~!", nil), (String(repeating: "k", count: 64), nil),
            ("", "invalid_parameter"), (String(repeating: "k", count: 65), "invalid_parameter"),
            ("tab\t", "invalid_parameter"), ("é", "invalid_parameter"), ("del\u{7F}", "invalid_parameter"),
        ]
        for (input, expected) in cases { XCTAssertEqual(Validation.clientID(input)?.code, expected, "\(String(describing: input))") }
    }
}
