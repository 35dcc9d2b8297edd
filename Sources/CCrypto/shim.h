#ifndef CHECKPOINTKIT_CCRYPTO_SHIM_H
#define CHECKPOINTKIT_CCRYPTO_SHIM_H

// OpenSSL's libcrypto, used only for SHA-256 (EVP digest API, which uses the
// CPU's SHA extensions where present).
#include <openssl/evp.h>

#endif
