// Session tokens: 32 random bytes shown once as base64url; the store keeps only their SHA-256.
import CCrypto

/// Makes and hashes bearer tokens (../shared/API.md Accounts: random ≥ 128 bits, stored only as hashes).
public enum SessionToken {
    /// A fresh token: 32 bytes from OpenSSL's CSPRNG, base64url without padding (43 characters).
    public static func generate() -> String? {
        var bytes = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&bytes, Int32(bytes.count)) == 1 else { return nil }
        return base64url(bytes)
    }

    /// SHA-256 fetched once: OpenSSL 3's one-shot `SHA256()` looks the algorithm up in the provider registry on
    /// every call (EVP_Q_digest), which cost more than the hashing itself on the per-request token check.
    /// A fetched EVP_MD is immutable and may be shared by all threads.
    nonisolated(unsafe) private static let sha256: OpaquePointer? = EVP_MD_fetch(nil, "SHA2-256", nil)

    /// SHA-256 of the token's bytes as the client sends them: what the store keeps and looks up.
    public static func hash(_ token: String) -> [UInt8] {
        var token = token
        return token.withUTF8 { input in
            [UInt8](unsafeUninitializedCapacity: Int(SHA256_DIGEST_LENGTH)) { digest, count in
                if let md = sha256, EVP_Digest(input.baseAddress, input.count, digest.baseAddress, nil, md, nil) == 1 {
                    count = Int(SHA256_DIGEST_LENGTH)
                } else {
                    _ = SHA256(input.baseAddress, input.count, digest.baseAddress)   // same digest, slower path
                    count = Int(SHA256_DIGEST_LENGTH)
                }
            }
        }
    }

    /// RFC 4648 §5 alphabet, no padding.
    static func base64url(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out = [UInt8]()
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            if i + 1 < bytes.count { out.append(alphabet[Int(n >> 6 & 63)]) }
            if i + 2 < bytes.count { out.append(alphabet[Int(n & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
