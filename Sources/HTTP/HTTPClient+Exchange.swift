// HTTPClient's wire work: serialize a request, read the status line, fields and body (length, chunked, or close).
import Transport

/// The connection closed before any byte of the answer: on a reused connection the request may be retried.
struct ReusedConnectionClosed: Error { var description: String }

extension HTTPClient {
    func exchange(_ request: HTTPRequest) throws -> HTTPResponse {
        let deadline = monotonicNanos() &+ nanos(timeout)
        if fd < 0 {
            do {
                fd = try Socket.connect(host: host, port: port, timeout: timeout)
                if let tls { stream = try TLSClientStream(fd: fd, host: host, options: tls, deadline: deadline) }
            } catch {
                close()
                throw HTTPClientError("\(error)")
            }
            buffer.removeAll()
        }
        var out: [UInt8] = []
        out.reserveCapacity(256 + request.body.count)
        out.append(contentsOf: Array("\(request.method) \(request.target) HTTP/1.1\r\n".utf8))
        if request.headers["Host"] == nil {
            let hostText = host.contains(":") ? "[\(host)]" : host
            let defaultPort = port == (tls == nil ? 80 : 443)
            out.append(contentsOf: Array("Host: \(hostText)\(defaultPort ? "" : ":\(port)")\r\n".utf8))
        }
        for field in request.headers where field.name.lowercased() != "content-length" {
            out.append(contentsOf: Array("\(field.name): \(field.value)\r\n".utf8))
        }
        if !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method) {
            out.append(contentsOf: Array("Content-Length: \(request.body.count)\r\n".utf8))
        }
        out.append(contentsOf: [13, 10])
        out.append(contentsOf: request.body)
        do {
            try out.withUnsafeBytes { try writeAll($0, until: deadline) }
        } catch {
            throw ReusedConnectionClosed(description: "\(error)")
        }
        do {
            return try readResponse(isHead: request.method == "HEAD", deadline: deadline)
        } catch let e as ReusedConnectionClosed {
            throw e
        } catch {
            close()
            throw HTTPClientError("\(error)")
        }
    }

    /// Reads one final response (skipping 1xx interim ones).
    func readResponse(isHead: Bool, deadline: UInt64) throws -> HTTPResponse {
        var sawBytes = false
        while true {
            guard let headEnd = try fill(until: { HTTPClient.findHeadEnd($0) }, deadline: deadline, sawBytes: &sawBytes) else {
                close()
                if !sawBytes { throw ReusedConnectionClosed(description: "connection closed before a response") }
                throw HTTPClientError("connection closed inside a response head")
            }
            let headText = String(decoding: buffer[0..<headEnd], as: UTF8.self)
            buffer.removeFirst(headEnd)
            var lines = headText.split(separator: "\r\n", omittingEmptySubsequences: true)
            guard !lines.isEmpty else { throw HTTPClientError("empty response head") }
            let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
            guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
                throw HTTPClientError("bad status line")
            }
            var headers = HTTPHeaders()
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { throw HTTPClientError("bad header line") }
                headers.add(String(line[..<colon]), String(line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })))
            }
            if status < 200 { continue }     // 100 Continue and friends
            let body = try readBody(status: status, headers: headers, isHead: isHead, deadline: deadline)
            let closing = headers["Connection"]?.lowercased().contains("close") ?? false
            if closing || statusLine[0] == "HTTP/1.0" { close() }
            return HTTPResponse(status: status, headers: headers, body: body)
        }
    }

    func readBody(status: Int, headers: HTTPHeaders, isHead: Bool, deadline: UInt64) throws -> [UInt8] {
        if isHead || status == 204 || status == 304 { return [] }
        var ignored = true
        if headers["Transfer-Encoding"]?.lowercased().contains("chunked") ?? false {
            var decoder = ChunkedDecoder()
            var body: [UInt8] = []
            while true {
                let result = buffer.withUnsafeBytes { decoder.decode($0, limit: Int.max / 2, into: &body) }
                switch result {
                case .complete(let n): buffer.removeFirst(n); return body
                case .incomplete(let n): buffer.removeFirst(n)
                case .error: close(); throw HTTPClientError("bad chunked response body")
                }
                guard try fill(until: { $0.isEmpty ? nil : 0 }, deadline: deadline, sawBytes: &ignored) != nil else {
                    throw HTTPClientError("connection closed inside a chunked body")
                }
            }
        }
        if let text = headers["Content-Length"] {
            guard let length = Int(text), length >= 0 else { throw HTTPClientError("bad Content-Length") }
            guard try fill(until: { $0.count >= length ? length : nil }, deadline: deadline, sawBytes: &ignored) != nil else {
                throw HTTPClientError("connection closed inside a body")
            }
            let body = Array(buffer[0..<length])
            buffer.removeFirst(length)
            return body
        }
        // No length: the body runs to the end of the connection (RFC 9112 §6.3 rule 8).
        while try readSome(until: deadline) > 0 {}
        let body = buffer
        close()
        return body
    }

    /// Reads until `ready(buffer)` returns non-nil (returned) or the connection ends (nil).
    func fill(until ready: ([UInt8]) -> Int?, deadline: UInt64, sawBytes: inout Bool) throws -> Int? {
        while true {
            if let r = ready(buffer) { return r }
            if !buffer.isEmpty { sawBytes = true }
            let n: Int
            do { n = try readSome(until: deadline) } catch let e as SystemError where e.errno == 104 {
                n = 0   // ECONNRESET counts as closed
            }
            if n == 0 { return nil }
            sawBytes = true
        }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer, until deadline: UInt64) throws {
        if let stream { try stream.writeAll(bytes, until: deadline) } else { try Socket.writeAll(fd, bytes, until: deadline) }
    }

    private func readSome(until deadline: UInt64) throws -> Int {
        if let stream { return try stream.readSome(into: &buffer, until: deadline) }
        return try Socket.readSome(fd, into: &buffer, until: deadline)
    }

    static func findHeadEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 3..<b.count where b[i] == 10 && b[i - 1] == 13 && b[i - 2] == 10 && b[i - 3] == 13 { return i + 1 }
        return nil
    }
}
