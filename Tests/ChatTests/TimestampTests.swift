// Timestamp ↔ RFC 3339 with milliseconds, as the contract writes times.
import Chat
import XCTest

final class TimestampTests: XCTestCase {
    func testFormats() {
        let cases: [(Int64, String)] = [
            (0, "1970-01-01T00:00:00.000Z"), (1_795_608_000_123, "2026-11-25T12:00:00.123Z"),
            (951_782_400_007, "2000-02-29T00:00:00.007Z"), (-1, "1969-12-31T23:59:59.999Z"),
        ]
        for (ms, text) in cases {
            XCTAssertEqual(Timestamp(milliseconds: ms).rfc3339, text)
            XCTAssertEqual(Timestamp(rfc3339: text)?.milliseconds, ms)
        }
    }

    func testParsesVariantsAndRejectsJunk() {
        XCTAssertEqual(Timestamp(rfc3339: "2026-11-25T13:00:00.123+01:00")?.rfc3339, "2026-11-25T12:00:00.123Z")
        XCTAssertEqual(Timestamp(rfc3339: "2026-11-25t12:00:00z")?.rfc3339, "2026-11-25T12:00:00.000Z")
        XCTAssertEqual(Timestamp(rfc3339: "2026-11-25T12:00:00.1234567Z")?.rfc3339, "2026-11-25T12:00:00.123Z")
        XCTAssertEqual(Timestamp(rfc3339: "2026-11-25T12:00:00.5Z")?.milliseconds, 1_795_608_000_500)
        for junk in ["", "2026-11-25", "2026-13-25T12:00:00Z", "2026-11-25T12:00:00", "2026-11-25T12:00:00.Z",
                     "2026-11-25T12:00:00Zjunk", "2026-11-25T25:00:00Z"] {
            XCTAssertNil(Timestamp(rfc3339: junk), junk)
        }
    }

    func testNowIsCurrent() {
        let now = Timestamp.now()
        XCTAssertGreaterThan(now.milliseconds, 1_795_000_000_000)       // after the project started
        XCTAssertTrue(now.rfc3339.hasSuffix("Z"))
    }
}
