// RecordWriter / RecordReader: the byte layout of every record pailfs keeps
// in LMDB: little-endian fixed-width integers and length-prefixed strings.
// Reading is bounds-checked: each getter returns false on a short record.
//
// Thread-safety: plain values, used by one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "pailfs/object_store.h"

namespace pailfs::cache {

class RecordWriter {
 public:
  void U8(unsigned char v) { out_.push_back(static_cast<char>(v)); }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void Str(std::string_view s) {
    U64(s.size());
    out_.append(s);
  }
  void Time(TimePoint t) {
    U64(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count()));
  }
  // A string map (user metadata): its size, then name and value pairs.
  void Map(const std::map<std::string, std::string>& m) {
    U64(m.size());
    for (const auto& [name, value] : m) {
      Str(name);
      Str(value);
    }
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class RecordReader {
 public:
  explicit RecordReader(std::string_view in) : in_(in) {}
  bool U8(unsigned char* v) {
    if (in_.empty()) return false;
    *v = static_cast<unsigned char>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool U64(uint64_t* v) {
    if (in_.size() < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= uint64_t{static_cast<unsigned char>(in_[i])} << (8 * i);
    in_.remove_prefix(8);
    return true;
  }
  bool Str(std::string* s) {
    uint64_t n;
    if (!U64(&n) || n > in_.size()) return false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool Time(TimePoint* t) {
    uint64_t ns;
    if (!U64(&ns)) return false;
    *t = TimePoint(std::chrono::duration_cast<TimePoint::duration>(
        std::chrono::nanoseconds(static_cast<int64_t>(ns))));
    return true;
  }
  bool Map(std::map<std::string, std::string>* m) {
    uint64_t n;
    if (!U64(&n) || n > in_.size()) return false;  // each pair takes bytes
    for (uint64_t i = 0; i < n; ++i) {
      std::string name, value;
      if (!Str(&name) || !Str(&value)) return false;
      m->emplace(std::move(name), std::move(value));
    }
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace pailfs::cache
