// Hashing and encoding helpers declared in sigv4.h, on OpenSSL's one-shot
// EVP/HMAC calls. No locale-dependent code: hex digits come from a table.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <string_view>

#include "src/s3/sigv4.h"

namespace pailfs::s3 {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// One-shot digest into `out`; returns the digest length. Digest failure
// means OpenSSL is unusable (no default provider): nothing sane can follow.
unsigned Digest(const EVP_MD* md, std::string_view data, unsigned char* out) {
  unsigned len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) std::abort();
  return len;
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kHexDigits[b >> 4];
    out[2 * i + 1] = kHexDigits[b & 0x0f];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  const unsigned len = Digest(EVP_sha256(), data, md);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  // HMAC() takes the key length as int; SigV4 keys are 32 bytes or a secret
  // access key, far below INT_MAX.
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), md,
           &len) == nullptr) {
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  if (bytes.empty()) return out;
  // EVP_EncodeBlock writes a trailing NUL, so encode into a buffer one
  // longer, then drop it. Input lengths are int in this API; encode in
  // chunks of a multiple of 3 bytes to stay in range for any size.
  constexpr size_t kChunk = size_t{3} << 20;
  std::string buf;
  size_t in = 0, pos = 0;
  while (in < bytes.size()) {
    const size_t n = std::min(kChunk, bytes.size() - in);
    buf.resize(4 * ((n + 2) / 3) + 1);
    const int written =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(buf.data()),
                        reinterpret_cast<const unsigned char*>(bytes.data() + in), static_cast<int>(n));
    out.replace(pos, static_cast<size_t>(written), buf.data(), static_cast<size_t>(written));
    pos += static_cast<size_t>(written);
    in += n;
  }
  return out;
}

std::string Md5Base64(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  const unsigned len = Digest(EVP_md5(), data, md);
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

}  // namespace pailfs::s3
