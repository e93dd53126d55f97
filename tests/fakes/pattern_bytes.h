// Deterministic test data: `n` pseudo-random bytes, the same for the same
// seed (a linear congruential generator; not for anything but tests).
//
// Thread-safety: a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pailfs::testing {

std::string PatternBytes(size_t n, uint32_t seed);

}  // namespace pailfs::testing
