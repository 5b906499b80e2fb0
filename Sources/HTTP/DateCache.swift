// The Date header value (RFC 9110 §6.6.1), formatted at most once per second per loop.
import Glibc
import Transport

/// The IMF-fixdate (RFC 9110 §5.6.7) of the current second, formatted once per second per loop.
final class DateCache {
    var second = -1
    var bytes = [UInt8](repeating: 0, count: 29)

    func append(to out: inout ByteBuffer) {
        let now = time(nil)
        if now != second { refresh(now) }
        out.append(bytes)
    }

    func refresh(_ now: Int) {
        second = now
        var t = now
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = Array("SunMonTueWedThuFriSat".utf8)
        let months = Array("JanFebMarAprMayJunJulAugSepOctNovDec".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(29)
        func two(_ v: Int32) { out.append(UInt8(48 + v / 10)); out.append(UInt8(48 + v % 10)) }
        let wd = Int(parts.tm_wday) * 3, mo = Int(parts.tm_mon) * 3
        out.append(contentsOf: days[wd..<wd + 3])
        out.append(contentsOf: Array(", ".utf8))
        two(parts.tm_mday)
        out.append(32)
        out.append(contentsOf: months[mo..<mo + 3])
        out.append(32)
        let year = parts.tm_year + 1900
        two(year / 100); two(year % 100)
        out.append(32)
        two(parts.tm_hour); out.append(58); two(parts.tm_min); out.append(58); two(parts.tm_sec)
        out.append(contentsOf: Array(" GMT".utf8))
        bytes = out
    }
}
