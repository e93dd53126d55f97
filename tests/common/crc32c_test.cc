#include "src/common/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace pailfs {
namespace {

TEST(Crc32cTest, KnownValues) {
  // The check value of CRC-32C and the iSCSI test vectors (RFC 3720 B.4).
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
}

TEST(Crc32cTest, HardwareAndPortableAgreeAtEveryLengthAndAlignment) {
  std::mt19937 rng(7);
  std::string buf(3 * 4096 * 2 + 100, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  const auto* p = reinterpret_cast<const unsigned char*>(buf.data());
  for (size_t align = 0; align < 8; ++align) {
    for (size_t n : {0, 1, 7, 8, 9, 15, 16, 63, 64, 65, 1000, 4096, 3 * 4096 - 1, 3 * 4096,
                     3 * 4096 + 9, 6 * 4096, 6 * 4096 + 77}) {
      const uint32_t sw = crc32c_internal::Portable(p + align, n, 0);
      EXPECT_EQ(crc32c_internal::Hardware(p + align, n, 0), sw) << align << " " << n;
      EXPECT_EQ(Crc32c(std::string_view(buf).substr(align, n)), sw);
    }
  }
}

TEST(Crc32cTest, ContinuesOverPieces) {
  const std::string all = "The quick brown fox jumps over the lazy dog";
  for (size_t cut = 0; cut <= all.size(); ++cut) {
    EXPECT_EQ(Crc32c(std::string_view(all).substr(cut), Crc32c(std::string_view(all).substr(0, cut))),
              Crc32c(all));
  }
  EXPECT_EQ(Crc32c(all), 0x22620404u);
}

}  // namespace
}  // namespace pailfs
