// Binary encoding of cache records: little-endian fixed-width integers and
// length-prefixed strings, with a leading format version byte. Decoding is
// bounds-checked: a short or garbled record decodes as nullopt (a miss).
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "pailfs/meta_cache.h"

namespace pailfs::cache {

std::string EncodeObject(const ObjectInfo& info);
std::optional<ObjectInfo> DecodeObject(std::string_view key, std::string_view data);

std::string EncodeListing(const CachedListing& listing);
std::optional<CachedListing> DecodeListing(std::string_view data);

}  // namespace pailfs::cache
