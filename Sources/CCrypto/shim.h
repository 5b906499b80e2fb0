// OpenSSL's libcrypto (SHA-256, HMAC, CSPRNG) and libcrypt (yescrypt). Never hand-roll cryptography.
#include <openssl/sha.h>
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <crypt.h>
