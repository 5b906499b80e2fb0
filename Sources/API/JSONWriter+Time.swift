// RFC 3339 timestamps written straight into the JSON buffer: pages carry one per message, so no String building.
import Chat

extension JSONWriter {
    /// `"2026-11-25T12:00:00.123Z"` (contract "Conventions"), identical to `Timestamp.rfc3339`.
    mutating func time(_ t: Timestamp) {
        let ms = t.milliseconds
        let days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000     // floor division
        let msOfDay = ms - days * 86_400_000
        let (year, month, day) = JSONWriter.civil(fromDays: days)
        guard (0...9999).contains(year) else { return string(t.rfc3339) }
        beginRawValue()
        bytes.append(UInt8(ascii: "\""))
        appendDigits(Int(year), 4); bytes.append(UInt8(ascii: "-"))
        appendDigits(Int(month), 2); bytes.append(UInt8(ascii: "-"))
        appendDigits(Int(day), 2); bytes.append(UInt8(ascii: "T"))
        appendDigits(Int(msOfDay / 3_600_000), 2); bytes.append(UInt8(ascii: ":"))
        appendDigits(Int(msOfDay / 60_000 % 60), 2); bytes.append(UInt8(ascii: ":"))
        appendDigits(Int(msOfDay / 1000 % 60), 2); bytes.append(UInt8(ascii: "."))
        appendDigits(Int(msOfDay % 1000), 3)
        bytes.append(contentsOf: [UInt8(ascii: "Z"), UInt8(ascii: "\"")])
    }

    private mutating func appendDigits(_ value: Int, _ width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var v = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(v / divisor))
            v %= divisor
            divisor /= 10
        }
    }

    /// Days since 1970-01-01 → proleptic Gregorian (year, month, day); H. Hinnant's `civil_from_days`.
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
