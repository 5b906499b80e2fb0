// POST /files and GET /files/{id} (../shared/API.md "Files and images"): uploads, and downloads with Range.
import HTTP
import Chat

/// The file routes. `maxFileBytes` is `konnect serve --max-file-bytes`.
final class FileRoutes: Sendable {
    let chat: ChatService
    let routes: ChatRoutes
    let maxFileBytes: Int

    init(chat: ChatService, routes: ChatRoutes, maxFileBytes: Int) {
        self.chat = chat
        self.routes = routes
        self.maxFileBytes = maxFileBytes
    }

    /// A multipart body may carry this much besides the file (boundaries, part heads, small fields).
    static let multipartOverhead = 64 * 1024

    /// The bytes to whoever may read them (ChatService.openFile), whole or one range (RFC 9110 §14).
    var download: HTTPHandler {
        { [chat, routes] request, responder in
            routes.authenticated(request, responder) { user in
                chat.openFile(user: user, id: request.pathParameters["id"] ?? "") { result in
                    switch result {
                    case .failure(let error): responder.respond(APIResponse.problem(error))
                    case .success(let file): FileRoutes.send(file, request, responder, chat)
                    }
                }
            }
        }
    }

    static func send(_ file: FileInfo, _ request: HTTPRequest, _ responder: Responder, _ chat: ChatService) {
        let etag = "\"\(file.sha256)\""
        var headers = HTTPHeaders([
            ("Content-Type", file.type.mediaType),
            ("ETag", etag),
            ("Accept-Ranges", "bytes"),
            ("Cache-Control", "private, no-cache"),          // revalidated: access may be revoked
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy", "sandbox"),
            ("Content-Disposition", ContentDisposition.value(inline: file.type.isImage, name: file.name)),
        ])
        if let match = request.headers["If-None-Match"], ByteRange.matches(match, etag: etag) {
            return responder.respond(HTTPResponse(status: 304, headers: headers))
        }
        var range: Range<Int64> = 0..<file.size
        var status = 200
        if let header = request.headers["Range"], request.headers["If-Range"].map({ $0 == etag }) ?? true {
            switch ByteRange.parse(header, length: file.size) {
            case .ignore: break
            case .unsatisfiable:
                var h = HTTPHeaders([("Content-Range", "bytes */\(file.size)")])
                h.add("Accept-Ranges", "bytes")
                return responder.respond(.problem(status: 416, code: "range_not_satisfiable",
                                                  detail: "the file has \(file.size) bytes", headers: h))
            case .range(let r):
                range = r
                status = 206
                headers.add("Content-Range", "bytes \(r.lowerBound)-\(r.upperBound - 1)/\(file.size)")
            }
        }
        if range.count > Int64(FileChunks.size) {
            // Larger than a chunk: streamed, one chunk read from the store as the previous one was sent.
            var response = HTTPResponse(status: status, headers: headers)
            response.bodySource = FileBodySource(chat: chat, file: file, range: range)
            return responder.respond(response)
        }
        // HEAD reads the bytes too: the server derives Content-Length from the body it then drops.
        let (answerStatus, answerHeaders) = (status, headers)
        chat.readFile(file, range: range) { result in
            switch result {
            case .failure(let error): responder.respond(APIResponse.problem(error))
            case .success(let bytes): responder.respond(HTTPResponse(status: answerStatus, headers: answerHeaders, body: bytes))
            }
        }
    }
}

/// `Range: bytes=…` (RFC 9110 §14.1.2), one range only: several ranges, another unit or bad syntax are ignored
/// (the whole file is sent, as §14.2 allows).
enum ByteRange: Equatable {
    case ignore
    case unsatisfiable
    case range(Range<Int64>)

    static func parse(_ header: String, length: Int64) -> ByteRange {
        let value = header.trimmingSpaces
        guard value.utf8.count > 6, value.lowercased().hasPrefix("bytes=") else { return .ignore }
        let spec = String(value.dropFirst(6)).trimmingSpaces
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .ignore }
        let first = String(spec[..<dash]).trimmingSpaces, last = String(spec[spec.index(after: dash)...]).trimmingSpaces
        func number(_ s: String) -> Int64? {
            guard !s.isEmpty, s.utf8.count <= 18, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return Int64(s)
        }
        if first.isEmpty {                                     // suffix: the last N bytes
            guard let n = number(last) else { return .ignore }
            guard n > 0, length > 0 else { return .unsatisfiable }
            return .range(max(0, length - n)..<length)
        }
        guard let start = number(first) else { return .ignore }
        var end = length - 1
        if !last.isEmpty {
            guard let e = number(last) else { return .ignore }
            guard e >= start else { return .ignore }           // §14.1.1: invalid, so ignored
            end = min(e, length - 1)
        }
        guard start < length else { return .unsatisfiable }
        return .range(start..<end + 1)
    }

    /// If-None-Match (RFC 9110 §13.1.2): `*` or a list holding `etag` (weak comparison).
    static func matches(_ header: String, etag: String) -> Bool {
        header.split(separator: ",").contains { tag in
            var t = String(tag).trimmingSpaces
            if t.hasPrefix("W/") { t = String(t.dropFirst(2)) }
            return t == "*" || t == etag
        }
    }
}

/// `Content-Disposition` for a download (RFC 6266 §4): `inline` or `attachment`, an ASCII `filename` fallback and
/// the exact name in `filename*` (RFC 8187/5987: UTF-8, percent-encoded).
enum ContentDisposition {
    static func value(inline: Bool, name: String) -> String {
        let kind = inline ? "inline" : "attachment"
        guard !name.isEmpty else { return kind }
        var ascii = ""
        for s in name.unicodeScalars {
            if s.value < 0x20 || s.value >= 0x7F || s == "\"" || s == "\\" || s == "%" { ascii.append("_") } else { ascii.unicodeScalars.append(s) }
        }
        let hex = Array("0123456789ABCDEF".utf8)
        var encoded: [UInt8] = []
        for b in name.utf8 {
            // attr-char (RFC 8187 §3.2.1): ALPHA / DIGIT / "!#$&+-.^_`|~"
            let safe = (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || Array("!#$&+-.^_`|~".utf8).contains(b)
            if safe { encoded.append(b) } else { encoded += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 15)]] }
        }
        return "\(kind); filename=\"\(ascii)\"; filename*=UTF-8''\(String(decoding: encoded, as: UTF8.self))"
    }
}
