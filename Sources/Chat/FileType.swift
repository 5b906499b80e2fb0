// What a file is, read from its first bytes (issue 15): PNG, JPEG, GIF, WebP with their pixel sizes; else octet-stream.

/// A file's media type and, for images, its size in pixels. Types come from the bytes, never from the request.
public struct FileType: Sendable, Hashable {
    public var mediaType: String         // image/png, image/jpeg, image/gif, image/webp or application/octet-stream
    public var width: Int?               // pixels; set exactly when the type is an image
    public var height: Int?

    public init(mediaType: String, width: Int?, height: Int?) {
        self.mediaType = mediaType
        self.width = width
        self.height = height
    }

    public static let octetStream = FileType(mediaType: "application/octet-stream", width: nil, height: nil)
    public var isImage: Bool { width != nil }

    /// The name of a file uploaded without one (no `?name=`, an empty one, or a bare path): `image.png`, …, `file`.
    /// Downloads then still get a filename, and lists something to show.
    public var defaultFileName: String {
        switch mediaType {
        case "image/png": return "image.png"
        case "image/jpeg": return "image.jpg"
        case "image/gif": return "image.gif"
        case "image/webp": return "image.webp"
        default: return "file"
        }
    }

    /// How many leading bytes `sniff` may look at: a JPEG's frame header can follow large APP segments (EXIF,
    /// ICC profiles of up to 64 KiB each); past this much a JPEG is called octet-stream.
    public static let sniffLength = 256 * 1024

    /// Recognises the bytes by signature and reads width and height from the image header. A truncated or corrupt
    /// header (or a zero dimension) is `octetStream`: never a crash, never a guess.
    public static func sniff(_ bytes: some Collection<UInt8>) -> FileType {
        let b = Array(bytes.prefix(sniffLength))
        let size: (String, Int, Int)?
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            size = png(b).map { ("image/png", $0.0, $0.1) }
        } else if b.starts(with: [0xFF, 0xD8, 0xFF]) {
            size = jpeg(b).map { ("image/jpeg", $0.0, $0.1) }
        } else if b.starts(with: Array("GIF87a".utf8)) || b.starts(with: Array("GIF89a".utf8)) {
            size = b.count >= 10 ? ("image/gif", le16(b, 6), le16(b, 8)) : nil
        } else if b.count >= 12, b.starts(with: Array("RIFF".utf8)), Array(b[8..<12]) == Array("WEBP".utf8) {
            size = webp(b).map { ("image/webp", $0.0, $0.1) }
        } else {
            size = nil
        }
        guard let (type, width, height) = size, width > 0, height > 0 else { return .octetStream }
        return FileType(mediaType: type, width: width, height: height)
    }

    static func le16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
    static func le24(_ b: [UInt8], _ i: Int) -> Int { le16(b, i) | Int(b[i + 2]) << 16 }
    static func be16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }
    static func be32(_ b: [UInt8], _ i: Int) -> Int { be16(b, i) << 16 | be16(b, i + 2) }

    /// PNG (RFC 2083 / ISO 15948): the first chunk must be IHDR, 13 bytes, width and height big-endian.
    static func png(_ b: [UInt8]) -> (Int, Int)? {
        guard b.count >= 24, be32(b, 8) == 13, Array(b[12..<16]) == Array("IHDR".utf8) else { return nil }
        let w = be32(b, 16), h = be32(b, 20)
        guard w <= Int(Int32.max), h <= Int(Int32.max) else { return nil }   // §11.2.2: at most 2^31 - 1
        return (w, h)
    }

    /// JPEG (ITU T.81 §B.1): walk the marker segments up to a start-of-frame (SOF0–SOF15 but DHT C4, JPG C8,
    /// DAC CC), whose payload is precision, height, width. Start of scan (DA) before a frame: corrupt.
    static func jpeg(_ b: [UInt8]) -> (Int, Int)? {
        var i = 2
        while i + 1 < b.count {
            guard b[i] == 0xFF else { return nil }
            i += 1
            while i < b.count && b[i] == 0xFF { i += 1 }   // fill bytes (§B.1.1.2)
            guard i < b.count else { return nil }
            let marker = b[i]
            i += 1
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { continue }   // TEM, RSTn: no length
            if marker == 0xD8 || marker == 0xD9 || marker == 0xDA || marker == 0x00 { return nil }
            guard i + 2 <= b.count else { return nil }
            let length = be16(b, i)
            guard length >= 2 else { return nil }
            if (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC {
                guard length >= 7, i + 7 <= b.count else { return nil }
                return (be16(b, i + 5), be16(b, i + 3))
            }
            i += length
        }
        return nil
    }

    /// WebP (RFC 9649): RIFF, WEBP, then the first chunk — VP8 (lossy: key frame start code, 14-bit sizes),
    /// VP8L (lossless: signature 0x2F, 14-bit sizes minus one) or VP8X (extended: 24-bit canvas sizes minus one).
    static func webp(_ b: [UInt8]) -> (Int, Int)? {
        guard b.count >= 16 else { return nil }
        switch String(decoding: b[12..<16], as: UTF8.self) {
        case "VP8 ":
            guard b.count >= 30, b[23] == 0x9D, b[24] == 0x01, b[25] == 0x2A else { return nil }
            return (le16(b, 26) & 0x3FFF, le16(b, 28) & 0x3FFF)
        case "VP8L":
            guard b.count >= 25, b[20] == 0x2F else { return nil }
            let bits = Int(b[21]) | Int(b[22]) << 8 | Int(b[23]) << 16 | Int(b[24]) << 24
            return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        case "VP8X":
            guard b.count >= 30 else { return nil }
            return (le24(b, 24) + 1, le24(b, 27) + 1)
        default:
            return nil
        }
    }
}
