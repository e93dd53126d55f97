// Helpers of the model-based mount test (model_test.cc), header only: a
// seeded generator, the outcome of one system call in comparable form, and
// snapshots of a whole tree (paths, types, sizes, contents).
//
// Thread-safety: none needed; one test thread uses these.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace pailfs::testing::model {

// splitmix64: small, fast and the same everywhere. The seed is mixed
// first: seeds 1, 2, 3 must not start a step apart on the same stream (the
// model's variable consumption would then let their operation sequences
// fall into step with each other).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(Mix(seed ^ 0x5DEECE66Dull)) {}
  uint64_t Next() { return Mix(state_ += 0x9E3779B97F4A7C15ull); }
  // Uniform in [0, n); n == 0 gives 0.
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  bool Chance(int percent) { return Below(100) < static_cast<uint64_t>(percent); }

 private:
  static uint64_t Mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

// `n` pseudo-random bytes from `seed`.
inline std::string Bytes(size_t n, uint64_t seed) {
  Rng r(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = r.Next();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return out;
}

inline std::string ErrnoName(int err) {
  const char* name = ::strerrorname_np(err);
  return name != nullptr ? name : "errno " + std::to_string(err);
}

// FNV-1a, to name contents in messages.
inline uint64_t Fnv(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Where two byte strings first differ, for messages.
inline std::string FirstDifference(const std::string& a, const std::string& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  std::ostringstream out;
  out << "first difference at byte " << i << " (local " << a.size() << " bytes, mount "
      << b.size() << " bytes)";
  if (i < a.size() && i < b.size()) {
    out << ": local 0x" << std::hex << (a[i] & 0xff) << ", mount 0x" << (b[i] & 0xff);
  }
  return out.str();
}

// One system call's result: the return value, errno when it failed, and
// any bytes it produced (a read's data, a stat or listing in words).
struct Outcome {
  long long ret = 0;
  int err = 0;
  std::string data;

  template <typename T>
  static Outcome Of(T ret) {
    Outcome o;
    o.ret = static_cast<long long>(ret);
    if (o.ret < 0) o.err = errno;
    return o;
  }
  static Outcome Text(std::string text) {
    Outcome o;
    o.data = std::move(text);
    return o;
  }
  std::string Describe() const {
    if (ret < 0) return "-1 " + ErrnoName(err);
    std::string out = std::to_string(ret);
    if (data.empty()) return out;
    bool printable = data.size() <= 200 &&
                     std::all_of(data.begin(), data.end(), [](char c) { return c >= ' ' && c < 127; });
    if (printable) return out + " [" + data + "]";
    std::ostringstream h;
    h << out << " (" << data.size() << " bytes, fnv " << std::hex << Fnv(data) << ")";
    return h.str();
  }
};

// Type, permission bits and size in words ("file 644 123", "dir 755",
// "other"): what the model compares of a stat. Folder sizes, link counts,
// inode numbers and times are not compared.
inline std::string Describe(const struct stat& st) {
  char mode[8];
  std::snprintf(mode, sizeof(mode), "%o", static_cast<unsigned>(st.st_mode & 07777));
  if (S_ISREG(st.st_mode)) return "file " + std::string(mode) + " " + std::to_string(st.st_size);
  if (S_ISDIR(st.st_mode)) return std::string("dir ") + mode;
  return "other";
}
inline Outcome StatOutcome(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return Outcome::Of(-1);
  return Outcome::Text(Describe(st));
}
inline Outcome FstatOutcome(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Outcome::Of(-1);
  return Outcome::Text(Describe(st));
}

// Sorted names of a folder (without "." and ".."), or errno.
inline Outcome ListOutcome(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return Outcome::Of(-1);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) {
    errno = err;
    return Outcome::Of(-1);
  }
  std::sort(names.begin(), names.end());
  std::string joined;
  for (const std::string& n : names) joined += (joined.empty() ? "" : " ") + n;
  return Outcome::Text(joined);
}

// A whole tree: relative path -> node.
struct Node {
  bool dir = false;
  uint64_t size = 0;
  std::string what;     // Describe() of its lstat
  std::string content;  // files, when read
};
using Tree = std::map<std::string, Node>;

inline bool ReadAll(const std::string& path, std::string* out, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "open " + path + ": " + ErrnoName(errno);
    return false;
  }
  out->clear();
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = "read " + path + ": " + ErrnoName(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  if (::close(fd) != 0) {
    *error = "close " + path + ": " + ErrnoName(errno);
    return false;
  }
  return true;
}

// Walks `root` (depth-first, bounded depth); with `contents`, reads every
// file through a fresh descriptor.
inline bool Snapshot(const std::string& root, Tree* tree, std::string* error,
                     bool contents = true, const std::string& rel = "", int depth = 0) {
  if (depth > 16) {
    *error = "tree deeper than 16 at " + rel;
    return false;
  }
  const std::string dir = rel.empty() ? root : root + "/" + rel;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    *error = "opendir " + dir + ": " + ErrnoName(errno);
    return false;
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    const std::string child = rel.empty() ? n : rel + "/" + n;
    struct stat st;
    if (::lstat((root + "/" + child).c_str(), &st) != 0) {
      *error = "lstat " + child + ": " + ErrnoName(errno);
      return false;
    }
    Node node;
    node.dir = S_ISDIR(st.st_mode);
    node.size = static_cast<uint64_t>(st.st_size);
    node.what = Describe(st);
    if (contents && S_ISREG(st.st_mode) &&
        !ReadAll(root + "/" + child, &node.content, error)) {
      return false;
    }
    (*tree)[child] = node;
    if (node.dir && !Snapshot(root, tree, error, contents, child, depth + 1)) return false;
  }
  return true;
}

// Empty when equal; otherwise every difference, one a line.
inline std::string CompareTree(const Tree& local, const Tree& mount) {
  std::ostringstream out;
  for (const auto& [path, node] : local) {
    auto it = mount.find(path);
    if (it == mount.end()) {
      out << "  " << path << ": local " << node.what << ", missing on the mount\n";
      continue;
    }
    if (it->second.what != node.what) {
      out << "  " << path << ": local " << node.what << ", mount " << it->second.what << "\n";
    } else if (it->second.content != node.content) {
      out << "  " << path << ": contents differ, " << FirstDifference(node.content, it->second.content)
          << "\n";
    }
  }
  for (const auto& [path, node] : mount) {
    if (!local.count(path)) out << "  " << path << ": only on the mount (" << node.what << ")\n";
  }
  return out.str();
}

}  // namespace pailfs::testing::model
