// FileType.sniff: a table of real headers, lying and truncated ones, and every prefix of each (never a crash).
import Chat
import XCTest

final class FileTypeTests: XCTestCase {
    static func png(_ w: UInt32, _ h: UInt32) -> [UInt8] {
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + be32(w) + be32(h)
            + [8, 6, 0, 0, 0, 0x12, 0x34, 0x56, 0x78] + Array(repeating: 0xAB, count: 40)
    }
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    static func jpeg(_ w: Int, _ h: Int, exif: Int = 0) -> [UInt8] {
        var b: [UInt8] = [0xFF, 0xD8]
        b += [0xFF, 0xE0, 0, 16] + Array("JFIF\0".utf8) + [1, 1, 0, 0, 1, 0, 1, 0, 0]          // APP0
        if exif > 0 { b += [0xFF, 0xE1, UInt8((exif + 2) >> 8), UInt8((exif + 2) & 0xFF)] + Array(repeating: 7, count: exif) }
        b += [0xFF, 0xDB, 0, 3, 0]                                                              // DQT (short)
        b += [0xFF, 0xFF, 0xC0, 0, 11, 8, UInt8(h >> 8), UInt8(h & 0xFF), UInt8(w >> 8), UInt8(w & 0xFF), 1, 1, 0x11, 0]
        return b + [0xFF, 0xDA, 0, 2] + Array(repeating: 0x55, count: 20)
    }
    static func gif(_ w: Int, _ h: Int) -> [UInt8] {
        Array("GIF89a".utf8) + [UInt8(w & 0xFF), UInt8(w >> 8), UInt8(h & 0xFF), UInt8(h >> 8), 0, 0, 0, 0x3B]
    }
    static func riff(_ chunk: String, _ payload: [UInt8]) -> [UInt8] {
        Array("RIFF".utf8) + [100, 0, 0, 0] + Array("WEBP".utf8) + Array(chunk.utf8) + [UInt8(payload.count), 0, 0, 0] + payload
    }
    static func webpLossy(_ w: Int, _ h: Int) -> [UInt8] {
        riff("VP8 ", [0x30, 0x01, 0x00, 0x9D, 0x01, 0x2A, UInt8(w & 0xFF), UInt8(w >> 8), UInt8(h & 0xFF), UInt8(h >> 8), 0, 0])
    }
    static func webpLossless(_ w: Int, _ h: Int) -> [UInt8] {
        let bits = (w - 1) | (h - 1) << 14
        return riff("VP8L", [0x2F, UInt8(bits & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 24), 0, 0, 0])
    }
    static func webpExtended(_ w: Int, _ h: Int) -> [UInt8] {
        let (a, c) = (w - 1, h - 1)
        return riff("VP8X", [0x10, 0, 0, 0, UInt8(a & 0xFF), UInt8(a >> 8 & 0xFF), UInt8(a >> 16), UInt8(c & 0xFF),
                             UInt8(c >> 8 & 0xFF), UInt8(c >> 16)])
    }

    func testTable() {
        let octet = FileType.octetStream
        let cases: [(String, [UInt8], FileType)] = [
            ("png", Self.png(640, 480), FileType(mediaType: "image/png", width: 640, height: 480)),
            ("png 1x1", Self.png(1, 1), FileType(mediaType: "image/png", width: 1, height: 1)),
            ("png zero width", Self.png(0, 480), octet),
            ("png over 2^31", Self.png(0x8000_0000, 1), octet),
            ("png truncated IHDR", Array(Self.png(640, 480).prefix(20)), octet),
            ("png first chunk not IHDR", Array(Self.png(640, 480).prefix(12)) + Array("IDAT".utf8) + Array(repeating: 1, count: 12), octet),
            ("jpeg", Self.jpeg(1024, 768), FileType(mediaType: "image/jpeg", width: 1024, height: 768)),
            ("jpeg after a 60 KiB APP1", Self.jpeg(3, 2, exif: 60_000), FileType(mediaType: "image/jpeg", width: 3, height: 2)),
            ("jpeg scan before frame", [0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 1, 2], octet),
            ("jpeg segment length 0", [0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 1, 2], octet),
            ("jpeg garbage after SOI", [0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 1, 2, 0x12, 0x34], octet),
            ("jpeg only SOI", [0xFF, 0xD8, 0xFF], octet),
            ("gif", Self.gif(320, 200), FileType(mediaType: "image/gif", width: 320, height: 200)),
            ("gif87a", Array("GIF87a".utf8) + [1, 0, 2, 0], FileType(mediaType: "image/gif", width: 1, height: 2)),
            ("gif truncated", Array("GIF89a".utf8) + [1, 0, 2], octet),
            ("webp lossy", Self.webpLossy(550, 368), FileType(mediaType: "image/webp", width: 550, height: 368)),
            ("webp lossless", Self.webpLossless(16383, 2), FileType(mediaType: "image/webp", width: 16383, height: 2)),
            ("webp extended", Self.webpExtended(70000, 9), FileType(mediaType: "image/webp", width: 70000, height: 9)),
            ("webp lossy bad start code", Self.riff("VP8 ", Array(repeating: 0, count: 12)), octet),
            ("webp lossless bad signature", Self.riff("VP8L", Array(repeating: 0, count: 12)), octet),
            ("webp unknown chunk", Self.riff("ALPH", Array(repeating: 0, count: 12)), octet),
            ("riff but not webp", Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVEfmt ".utf8) + Array(repeating: 0, count: 20), octet),
            ("text", Array("hello, world".utf8), octet),
            ("empty", [], octet),
            ("html that says png", Array("<html>image/png</html>".utf8), octet),
        ]
        for (name, bytes, expected) in cases {
            XCTAssertEqual(FileType.sniff(bytes), expected, name)
            XCTAssertEqual(FileType.sniff(bytes).isImage, expected.width != nil, name)
        }
    }

    /// Every truncation of every valid header is either the full answer (the bytes needed are there) or octet-stream.
    func testEveryPrefixIsSafe() {
        for bytes in [Self.png(7, 9), Self.jpeg(7, 9), Self.gif(7, 9), Self.webpLossy(7, 9), Self.webpLossless(7, 9),
                      Self.webpExtended(7, 9)] {
            let full = FileType.sniff(bytes)
            XCTAssertTrue(full.isImage)
            for n in 0..<bytes.count {
                let type = FileType.sniff(bytes.prefix(n))
                XCTAssertTrue(type == full || type == .octetStream, "\(full.mediaType) prefix \(n): \(type)")
            }
        }
    }

    /// Random bytes behind each signature: no crash, and an image only with positive sizes.
    func testRandomBytesAfterSignatures() {
        var rng = SystemRandomNumberGenerator()
        let signatures: [[UInt8]] = [Array(Self.png(1, 1).prefix(8)), [0xFF, 0xD8, 0xFF], Array("GIF89a".utf8),
                                     Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8".utf8)]
        for _ in 0..<2000 {
            let sig = signatures.randomElement(using: &rng)!
            let tail = (0..<Int.random(in: 0..<64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let type = FileType.sniff(sig + tail)
            if type.isImage { XCTAssertTrue(type.width! > 0 && type.height! > 0) }
        }
    }
}
