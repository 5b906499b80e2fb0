// The web client's files (web/), read once at start and served from memory with ETags and a strict CSP.
import Foundation
import HTTP

/// One file of the web root: its bytes and the headers it is always served with.
struct StaticFile: Sendable {
    var body: [UInt8]
    var contentType: String
    var etag: String                     // strong validator (RFC 9110 §8.8.3): a 64-bit FNV-1a of the bytes + length
}

/// Files directly under the web root (no subfolders, no dot-files). `index.html` is served at `/`.
final class StaticFiles: Sendable {
    let files: [String: StaticFile]
    var names: [String] { files.keys.sorted() }

    /// CSP for HTML: only our own scripts, styles and fetches; no framing, no inline code.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        + "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; "
        + "frame-ancestors 'none'"

    static let types: [String: String] = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
        "css": "text/css; charset=utf-8", "svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon",
        "webmanifest": "application/manifest+json", "json": "application/json", "txt": "text/plain; charset=utf-8",
        "woff2": "font/woff2", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp", "map": "application/json",
    ]

    init(root: String) {
        var files: [String: StaticFile] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let realRoot = StaticFiles.realPath(root)
        for name in names where !name.hasPrefix(".") {
            let ext = (name as NSString).pathExtension.lowercased()
            guard let type = StaticFiles.types[ext], StaticFiles.isPlainName(name), let realRoot,
                  StaticFiles.isRegularFile(root + "/" + name, inside: realRoot),
                  let data = FileManager.default.contents(atPath: root + "/" + name) else { continue }
            let body = [UInt8](data)
            files[name] = StaticFile(body: body, contentType: type, etag: StaticFiles.etag(body))
        }
        self.files = files
    }

    /// Issue 13 #11: a symlink may point anywhere (`web/x.txt -> /etc/passwd`); only a regular file whose real
    /// path is directly inside the root's real path is served.
    static func isRegularFile(_ path: String, inside realRoot: String) -> Bool {
        guard let real = realPath(path), (real as NSString).deletingLastPathComponent == realRoot else { return false }
        var info = stat()
        return stat(real, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// A name that is safe as one path segment as typed (no percent-encoding needed, no traversal).
    static func isPlainName(_ name: String) -> Bool {
        name.utf8.allSatisfy { b in
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
                || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
                || b == UInt8(ascii: "_")
        }
    }

    static func etag(_ body: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in body { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return "\"\(String(hash, radix: 16))-\(String(body.count, radix: 16))\""
    }

    func handler(for name: String) -> HTTPHandler {
        let file = files[name]
        return { request, responder in
            guard let file else {
                return responder.respond(.problem(status: 404, code: "not_found", detail: "web/\(name) is not installed"))
            }
            responder.respond(StaticFiles.response(file, ifNoneMatch: request.headers["If-None-Match"]))
        }
    }

    static func response(_ file: StaticFile, ifNoneMatch: String?) -> HTTPResponse {
        // `no-cache`: the browser keeps the file but revalidates each time (cheap: a 304 by ETag).
        var headers = HTTPHeaders([("Cache-Control", "no-cache"), ("ETag", file.etag),
                                   ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer")])
        if file.contentType.hasPrefix("text/html") {
            headers.add("Content-Security-Policy", contentSecurityPolicy)
        }
        if let ifNoneMatch, matches(ifNoneMatch, file.etag) {
            return HTTPResponse(status: 304, headers: headers)   // RFC 9110 §15.4.5: same validators, no body
        }
        headers.add("Content-Type", file.contentType)
        return HTTPResponse(status: 200, headers: headers, body: file.body)
    }

    /// RFC 9110 §13.1.2: If-None-Match uses weak comparison; `*` matches any current representation.
    static func matches(_ header: String, _ etag: String) -> Bool {
        for candidate in header.split(separator: ",") {
            var tag = candidate.trimmingCharacters(in: .whitespaces)
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            if tag == etag { return true }
        }
        return false
    }
}
