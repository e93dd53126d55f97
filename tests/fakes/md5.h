// MD5 (RFC 1321) for the test fakes, which compute S3-style ETags without
// linking a crypto library. Not for security: MD5 is broken as a hash.
//
// Thread-safety: pure functions; callable from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace pailfs::testing {

using Md5Digest = std::array<uint8_t, 16>;

Md5Digest Md5(std::string_view data);
// Lower-case hex of a digest (32 characters).
std::string Md5ToHex(const Md5Digest& digest);
inline std::string Md5Hex(std::string_view data) { return Md5ToHex(Md5(data)); }

}  // namespace pailfs::testing
