#include "src/cache/codec.h"

#include "src/cache/record_io.h"

#include <chrono>
#include <cstdint>
#include <cstring>

namespace pailfs::cache {
namespace {

constexpr unsigned char kObjectFormat = 1;
constexpr unsigned char kListingFormat = 1;

void WriteListed(RecordWriter* w, const ObjectInfo& o) {
  w->Str(o.key);
  w->U64(o.size);
  w->Str(o.etag);
  w->Time(o.last_modified);
}

bool ReadListed(RecordReader* r, ObjectInfo* o) {
  return r->Str(&o->key) && r->U64(&o->size) && r->Str(&o->etag) && r->Time(&o->last_modified);
}

}  // namespace

std::string EncodeObject(const ObjectInfo& info) {
  RecordWriter w;
  w.U8(kObjectFormat);
  w.U64(info.size);
  w.Str(info.etag);
  w.Time(info.last_modified);
  w.Str(info.content_type);
  w.Str(info.storage_class);
  w.Map(info.user_metadata);
  return w.Take();
}

std::optional<ObjectInfo> DecodeObject(std::string_view key, std::string_view data) {
  RecordReader r(data);
  ObjectInfo o;
  o.key = std::string(key);
  unsigned char format;
  if (!r.U8(&format) || format != kObjectFormat || !r.U64(&o.size) || !r.Str(&o.etag) ||
      !r.Time(&o.last_modified) || !r.Str(&o.content_type) || !r.Str(&o.storage_class) ||
      !r.Map(&o.user_metadata) || !r.done()) {
    return std::nullopt;
  }
  return o;
}

std::string EncodeListing(const CachedListing& listing) {
  RecordWriter w;
  w.U8(kListingFormat);
  w.Time(listing.taken);
  w.U64(listing.objects.size());
  for (const ObjectInfo& o : listing.objects) WriteListed(&w, o);
  w.U64(listing.prefixes.size());
  for (const std::string& p : listing.prefixes) w.Str(p);
  return w.Take();
}

std::optional<CachedListing> DecodeListing(std::string_view data) {
  RecordReader r(data);
  CachedListing listing;
  unsigned char format;
  uint64_t n;
  if (!r.U8(&format) || format != kListingFormat || !r.Time(&listing.taken) || !r.U64(&n)) {
    return std::nullopt;
  }
  if (n > data.size()) return std::nullopt;  // each entry takes bytes
  listing.objects.resize(n);
  for (ObjectInfo& o : listing.objects) {
    if (!ReadListed(&r, &o)) return std::nullopt;
  }
  if (!r.U64(&n) || n > data.size()) return std::nullopt;
  listing.prefixes.resize(n);
  for (std::string& p : listing.prefixes) {
    if (!r.Str(&p)) return std::nullopt;
  }
  if (!r.done()) return std::nullopt;
  return listing;
}

}  // namespace pailfs::cache
