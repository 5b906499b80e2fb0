// HTTPS for the blocking client: OpenSSL's libssl over the client's non-blocking socket, waiting with poll.
// Certificates are checked against the system's CA store (or a given CA file) and the host name (RFC 6125, by
// OpenSSL's X509_check_host); `insecure` skips both, for tests only.
import CTLS
import Glibc
import Synchronization
import Transport

/// TLS settings of a client connection.
public struct TLSClientOptions: Sendable, Equatable {
    public var insecure = false          // no certificate or name check (`konnect --insecure`)
    public var caFile: String?           // trust these PEM certificates instead of the system store
    public init(insecure: Bool = false, caFile: String? = nil) {
        self.insecure = insecure
        self.caFile = caFile
    }
}

/// One TLS session on a connected socket. Not thread-safe (like HTTPClient).
final class TLSClientStream {
    private let ssl: OpaquePointer

    /// Handshakes on `fd` (connected, non-blocking) for `host`, by `deadline` (monotonic ns).
    init(fd: Int32, host: String, options: TLSClientOptions, deadline: UInt64) throws {
        let context = try TLSClientStream.context(options)
        guard let ssl = SSL_new(context) else { throw TLSError.last("SSL_new") }
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        let isLiteral = SocketAddress(ip: host, port: 0) != nil
        if !isLiteral { _ = konnect_ssl_set_sni(ssl, host) }      // RFC 6066 §3: no SNI for IP literals
        if !options.insecure {
            // The certificate must name this host (a DNS name, or an IP address SAN for a literal).
            let ok = isLiteral ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) : SSL_set1_host(ssl, host)
            guard ok == 1 else { SSL_free(ssl); throw TLSError.last("host name \(host)") }
        }
        try retry(deadline, "TLS handshake with \(host)") { SSL_connect(ssl) }
    }

    deinit { SSL_free(ssl) }

    /// Writes all of `bytes`.
    func writeAll(_ bytes: UnsafeRawBufferPointer, until deadline: UInt64) throws {
        var offset = 0
        while offset < bytes.count {
            let chunk = Int32(min(bytes.count - offset, 1 << 20))
            let n = try retry(deadline, "TLS write") { SSL_write(ssl, bytes.baseAddress! + offset, chunk) }
            offset += Int(n)
        }
    }

    /// Reads what is available (waiting for some) into `buffer`; 0 at the end of the stream.
    func readSome(into buffer: inout [UInt8], until deadline: UInt64) throws -> Int {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let n = try chunk.withUnsafeMutableBytes { raw in
            try retry(deadline, "TLS read", eofIsZero: true) { SSL_read(ssl, raw.baseAddress, Int32(raw.count)) }
        }
        buffer.append(contentsOf: chunk[0..<Int(n)])
        return Int(n)
    }

    /// Sends close_notify, best effort (the socket is closed by the caller).
    func shutdown() { _ = SSL_shutdown(ssl) }

    /// Runs `op` until it succeeds, polling the socket when OpenSSL wants to read or write.
    @discardableResult
    private func retry(_ deadline: UInt64, _ what: String, eofIsZero: Bool = false, _ op: () -> Int32) throws -> Int32 {
        let fd = SSL_get_fd(ssl)
        while true {
            ERR_clear_error()
            let r = op()
            if r > 0 { return r }
            let error = SSL_get_error(ssl, r)
            switch error {
            case SSL_ERROR_WANT_READ:
                guard Socket.wait(fd, events: Int16(POLLIN), until: deadline) else { throw TLSError("\(what) timed out") }
            case SSL_ERROR_WANT_WRITE:
                guard Socket.wait(fd, events: Int16(POLLOUT), until: deadline) else { throw TLSError("\(what) timed out") }
            case SSL_ERROR_ZERO_RETURN where eofIsZero:
                return 0
            case SSL_ERROR_SYSCALL where eofIsZero && ERR_peek_error() == 0:
                return 0                                     // the peer closed without close_notify
            default:
                let verify = SSL_get_verify_result(ssl)
                if verify != X509_V_OK {
                    throw TLSError("\(what): certificate not trusted: \(String(cString: X509_verify_cert_error_string(verify)))")
                }
                throw TLSError.last(what)
            }
        }
    }

    // MARK: contexts, one per setting (SSL_CTX is thread-safe once configured)

    private static let contexts = Mutex<[TLSClientOptions: OpaquePointer]>([:])

    private static func context(_ options: TLSClientOptions) throws -> OpaquePointer {
        try contexts.withLock { cache in
            if let known = cache[options] { return known }
            guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw TLSError.last("SSL_CTX_new") }
            _ = konnect_ssl_ctx_min_tls12(ctx)
            konnect_ssl_ctx_set_modes(ctx)
            if options.insecure {
                SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
            } else {
                SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
                let loaded = options.caFile.map { SSL_CTX_load_verify_locations(ctx, $0, nil) } ?? SSL_CTX_set_default_verify_paths(ctx)
                guard loaded == 1 else { SSL_CTX_free(ctx); throw TLSError.last("CA certificates \(options.caFile ?? "(system)")") }
            }
            cache[options] = ctx
            return ctx
        }
    }
}

extension TLSClientOptions: Hashable {}

/// A TLS failure, with OpenSSL's reason when it gave one.
struct TLSError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }

    static func last(_ what: String) -> TLSError {
        TLSSetupError.openSSLReason().map { TLSError("\(what): \($0)") } ?? TLSError("\(what) failed")
    }
}
