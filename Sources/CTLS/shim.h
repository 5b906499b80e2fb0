// OpenSSL's libssl for TLS (client and server) — never hand-rolled. Some of its API is macros Swift cannot call:
// the static inline shims below give them names.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/// SNI: the host name sent in the ClientHello (SSL_set_tlsext_host_name is a macro).
static inline int konnect_ssl_set_sni(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }

/// TLS 1.2 at least (SSL_CTX_set_min_proto_version is a macro).
static inline int konnect_ssl_ctx_min_tls12(SSL_CTX *ctx) { return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); }

/// SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER (SSL_CTX_set_mode is a macro): writes from
/// Swift arrays that may move between retries.
static inline void konnect_ssl_ctx_set_modes(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/// Server side: partial writes and moving write buffers as for the client, and SSL_MODE_RELEASE_BUFFERS so an
/// idle connection holds no read/write buffers.
static inline void konnect_ssl_ctx_set_server_modes(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
}
