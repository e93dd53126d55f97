#include "src/common/crc32c.h"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace pailfs {
namespace crc32c_internal {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli polynomial

using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (size_t s = 1; s < 8; ++s) {
    for (uint32_t i = 0; i < 256; ++i) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
  return t;
}

constexpr Tables kTables = MakeTables();

}  // namespace

uint32_t Portable(const unsigned char* p, size_t n, uint32_t crc) {
  crc = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
    w ^= crc;
    crc = kTables[7][w & 0xFF] ^ kTables[6][(w >> 8) & 0xFF] ^ kTables[5][(w >> 16) & 0xFF] ^
          kTables[4][(w >> 24) & 0xFF] ^ kTables[3][(w >> 32) & 0xFF] ^
          kTables[2][(w >> 40) & 0xFF] ^ kTables[1][(w >> 48) & 0xFF] ^ kTables[0][w >> 56];
  }
  for (; n > 0; --n, ++p) crc = (crc >> 8) ^ kTables[0][(crc ^ *p) & 0xFF];
  return ~crc;
}

#if defined(__x86_64__)
namespace {

// The hardware loop runs three independent chains over three stretches of
// kStretch bytes (the instruction's latency is three cycles, its throughput
// one per cycle), then joins them: the state after A then B is the state
// after A moved past len(B) zero bytes, xor B's state from zero. Moving a
// state past kStretch zero bytes is linear, so it is four table lookups.
constexpr size_t kStretch = 4096;

// The raw (not inverted) state `c` after `n` zero bytes.
uint32_t PastZeros(uint32_t c, size_t n) {
  for (; n > 0; --n) c = (c >> 8) ^ kTables[0][c & 0xFF];
  return c;
}

struct ShiftTables {
  std::array<std::array<uint32_t, 256>, 4> t{};
  ShiftTables() {
    std::array<uint32_t, 32> column{};
    for (int bit = 0; bit < 32; ++bit) column[bit] = PastZeros(1u << bit, kStretch);
    for (int k = 0; k < 4; ++k) {
      for (uint32_t b = 0; b < 256; ++b) {
        uint32_t v = 0;
        for (int bit = 0; bit < 8; ++bit) {
          if (b & (1u << bit)) v ^= column[8 * k + bit];
        }
        t[k][b] = v;
      }
    }
  }
  uint32_t Shift(uint32_t c) const {
    return t[0][c & 0xFF] ^ t[1][(c >> 8) & 0xFF] ^ t[2][(c >> 16) & 0xFF] ^ t[3][c >> 24];
  }
};

}  // namespace

bool HaveHardware() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}

__attribute__((target("sse4.2"))) uint32_t Hardware(const unsigned char* p, size_t n,
                                                     uint32_t crc) {
  static const ShiftTables shift;
  uint64_t c = ~crc;
  auto word = [](const unsigned char* q) {
    uint64_t w;
    std::memcpy(&w, q, 8);
    return w;
  };
  for (; n >= 3 * kStretch; n -= 3 * kStretch, p += 3 * kStretch) {
    uint64_t c1 = 0, c2 = 0;
    for (size_t i = 0; i < kStretch; i += 8) {
      c = _mm_crc32_u64(c, word(p + i));
      c1 = _mm_crc32_u64(c1, word(p + kStretch + i));
      c2 = _mm_crc32_u64(c2, word(p + 2 * kStretch + i));
    }
    c = shift.Shift(static_cast<uint32_t>(c)) ^ static_cast<uint32_t>(c1);
    c = shift.Shift(static_cast<uint32_t>(c)) ^ static_cast<uint32_t>(c2);
  }
  for (; n >= 8; n -= 8, p += 8) c = _mm_crc32_u64(c, word(p));
  auto c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = _mm_crc32_u8(c32, *p);
  return ~c32;
}
#else
bool HaveHardware() { return false; }
uint32_t Hardware(const unsigned char* p, size_t n, uint32_t crc) { return Portable(p, n, crc); }
#endif

}  // namespace crc32c_internal

uint32_t Crc32c(std::string_view data, uint32_t crc) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  return crc32c_internal::HaveHardware() ? crc32c_internal::Hardware(p, data.size(), crc)
                                         : crc32c_internal::Portable(p, data.size(), crc);
}

}  // namespace pailfs
