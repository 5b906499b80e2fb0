// HTTPHeaders: lookups ignore ASCII case only (RFC 9110 §5.1), keep order, and set/remove every spelling.
import HTTP
import XCTest

final class HTTPHeadersTests: XCTestCase {
    func testLookupIgnoresASCIICaseOnly() {
        var headers = HTTPHeaders([("Authorization", "Bearer x"), ("X-Tag", "1"), ("x-tag", "2"), ("X-Ünï", "u")])
        XCTAssertEqual(headers["authorization"], "Bearer x")
        XCTAssertEqual(headers["AUTHORIZATION"], "Bearer x")
        XCTAssertNil(headers["Authorizatio"])
        XCTAssertNil(headers["Authorization "])
        XCTAssertNil(headers["Buthorization"])
        XCTAssertNil(HTTPHeaders([("X-Ta`", "1")])["X-Ta@"], "'@' | 0x20 is '`', but neither is a letter")
        XCTAssertEqual(headers.values("X-TAG"), ["1", "2"])
        XCTAssertEqual(headers["X-Ünï"], "u")
        XCTAssertNil(headers["x-üNÏ"], "non-ASCII bytes compare exactly")
        headers.set("x-TAG", "3")
        XCTAssertEqual(headers.values("x-tag"), ["3"])
        headers.remove("AUTHORIZATION")
        XCTAssertNil(headers["Authorization"])
        XCTAssertEqual(headers.fields.map(\.name), ["X-Ünï", "x-TAG"])
    }
}
