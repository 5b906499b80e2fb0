// ChatRoutes' shared pieces: reading the bearer token of an Authorization header (RFC 6750 §2.1).
import XCTest
@testable import API

final class ChatRoutesTests: XCTestCase {
    func testBearerToken() {
        let cases: [(String, String?)] = [
            ("Bearer abc", "abc"),
            ("bearer abc", "abc"),                 // the scheme is case-insensitive
            ("BEARER abc", "abc"),
            ("  Bearer \t abc \t ", "abc"),        // spaces and tabs around either part
            ("Bearer a b", "a b"),                 // inner spaces belong to the token (which then fails lookup)
            ("Bearer é", "é"),
            ("Bearer", nil),
            ("Bearer ", nil),
            ("Bearer  \t", nil),
            ("Bearer\tabc", nil),                  // the scheme ends with a space
            ("Bearerabc", nil),
            ("Basic YTpi", nil),
            ("Bearex abc", nil),
            ("", nil),
            ("Béarer abc", nil),
        ]
        for (header, expected) in cases {
            XCTAssertEqual(ChatRoutes.bearerToken(fromHeader: header), expected, header)
        }
    }
}
