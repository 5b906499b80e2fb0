// TLS for server connections: OpenSSL's libssl on the connection's non-blocking socket, driven by the event loop.
// The loop sees only "would block on read / on write"; OpenSSL does the protocol (never hand-rolled).
import CTLS
import Glibc

/// A certificate chain and key, loaded once and shared by every connection (SSL_CTX is thread-safe once built).
public final class TLSServerContext: @unchecked Sendable {
    let context: OpaquePointer

    /// `certificateFile`: PEM, the server's certificate first, then intermediates; `keyFile`: its PEM private key.
    public init(certificateFile: String, keyFile: String) throws {
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw TLSSetupError.last("SSL_CTX_new") }
        self.context = context
        _ = konnect_ssl_ctx_min_tls12(context)
        // Writes are retried from the connection's output buffer, which may move; idle connections give their
        // TLS buffers back (a keep-alive connection waiting for its next request costs no 34 KiB of buffers).
        konnect_ssl_ctx_set_server_modes(context)
        guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
            throw TLSSetupError.last("certificate \(certificateFile)")
        }
        guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1 else {
            throw TLSSetupError.last("private key \(keyFile)")
        }
        guard SSL_CTX_check_private_key(context) == 1 else { throw TLSSetupError.last("key does not match the certificate") }
    }

    deinit { SSL_CTX_free(context) }
}

/// One connection's TLS state. Loop thread only.
public final class TLSSession {
    /// What a read or write did.
    public enum IO {
        case done(Int)        // bytes of plaintext read or written
        case wantRead         // wait until the socket is readable, then call again
        case wantWrite        // wait until the socket is writable, then call again
        case closed           // the peer sent close_notify (reads), or closed the socket
        case failed           // a protocol error, a bad handshake, a reset
    }

    private let ssl: OpaquePointer

    public init(context: TLSServerContext, fd: Int32) throws {
        guard let ssl = SSL_new(context.context) else { throw TLSSetupError.last("SSL_new") }
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        SSL_set_accept_state(ssl)
    }

    deinit { SSL_free(ssl) }

    /// Decrypted bytes into `buffer` (the handshake runs first, inside the first reads).
    public func read(into buffer: UnsafeMutableRawPointer, count: Int) -> IO {
        ERR_clear_error()
        let n = SSL_read(ssl, buffer, Int32(min(count, Int(Int32.max))))
        return n > 0 ? .done(Int(n)) : outcome(n)
    }

    /// Encrypts and sends up to `count` bytes; `.done(n)` with the plaintext bytes taken.
    public func write(_ bytes: UnsafeRawPointer, count: Int) -> IO {
        ERR_clear_error()
        let n = SSL_write(ssl, bytes, Int32(min(count, 1 << 20)))
        return n > 0 ? .done(Int(n)) : outcome(n)
    }

    /// Decrypted bytes OpenSSL holds that the socket will not signal again.
    public var pending: Int { Int(SSL_pending(ssl)) }

    /// Sends close_notify once, best effort (the socket is about to close; a full socket just skips it).
    public func shutdown() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
    }

    private func outcome(_ result: Int32) -> IO {
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL where ERR_peek_error() == 0: return .closed    // EOF or reset without close_notify
        default: return .failed
        }
    }
}

/// A certificate or key that could not be loaded, with OpenSSL's reason.
public struct TLSSetupError: Error, CustomStringConvertible {
    public var description: String

    static func last(_ what: String) -> TLSSetupError {
        TLSSetupError(description: "\(what): \(openSSLReason() ?? "failed")")
    }

    /// OpenSSL's text for the oldest error on this thread's queue (taking it off), nil when there is none.
    public static func openSSLReason() -> String? {
        let code = ERR_get_error()
        guard code != 0 else { return nil }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
