#include "src/cache/block_files.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "src/common/crc32c.h"

namespace pailfs::cache {
namespace {

constexpr char kHex[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Status ErrnoStatus(int err, const std::string& what) {
  return Status::FromErrno(err, what + ": " + std::strerror(err));
}

}  // namespace

std::string BlockId(const std::string& key, const std::string& etag, uint64_t index) {
  // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
  std::string input = std::to_string(key.size()) + ":" + key + etag;
  std::string version(kVersionIdSize, '\0');
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), reinterpret_cast<unsigned char*>(version.data()), &len,
             EVP_sha256(), nullptr);
  return BlockIdAt(version, index);
}

std::string BlockIdAt(std::string_view version, uint64_t index) {
  std::string id(version);
  id.resize(kVersionIdSize + 8);
  for (int i = 0; i < 8; ++i) {
    id[kVersionIdSize + i] = static_cast<char>((index >> (56 - 8 * i)) & 0xff);
  }
  return id;
}

uint64_t IndexOf(std::string_view block_id) {
  uint64_t index = 0;
  for (char c : block_id.substr(kVersionIdSize, 8)) {
    index = (index << 8) | static_cast<unsigned char>(c);
  }
  return index;
}

std::string VersionRelPath(std::string_view version) {
  std::string hex;
  hex.reserve(version.size() * 2);
  for (char c : version) {
    const auto b = static_cast<unsigned char>(c);
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex.substr(0, 2) + "/" + hex;
}

std::optional<std::string> VersionOfFileName(std::string_view name) {
  if (name.size() != kVersionIdSize * 2) return std::nullopt;
  std::string out(kVersionIdSize, '\0');
  for (size_t i = 0; i < kVersionIdSize; ++i) {
    const int hi = HexValue(name[2 * i]), lo = HexValue(name[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

uint32_t BlockChecksum(std::string_view data) {
  return Crc32c(data);
}

namespace {

// Blocks whose offset and size are multiples of this go to disk with
// O_DIRECT (4 KiB suits every logical block size Linux file systems use).
constexpr uint64_t kDirectAlign = 4096;

int OpenForWrite(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0 && errno == ENOENT) {
    const std::string parent = path.substr(0, path.rfind('/'));
    if (::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) return -1;
    fd = ::open(path.c_str(), flags, 0600);
  }
  return fd;
}

// Opens `path` with `flags` (creating it and its folder) and writes all of
// `size` bytes at `offset`; 0 or the errno of the failure.
int OpenAndWrite(const std::string& path, int flags, const char* data, size_t size,
                 uint64_t offset) {
  int fd = OpenForWrite(path, flags);
  if (fd < 0) return errno;
  int err = 0;
  for (size_t done = 0; done < size;) {
    ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : ENOSPC;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0 && err == 0) err = errno;
  return err;
}

// `data` in memory aligned for O_DIRECT: itself if it already is, else a
// copy in this thread's buffer (kept for the next block).
const char* AlignedForDirect(std::string_view data) {
  if (reinterpret_cast<uintptr_t>(data.data()) % kDirectAlign == 0) return data.data();
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  thread_local std::unique_ptr<char, Free> buffer;
  thread_local size_t capacity = 0;
  if (capacity < data.size()) {
    buffer.reset(static_cast<char*>(std::aligned_alloc(kDirectAlign, data.size())));
    capacity = buffer ? data.size() : 0;
    if (!buffer) return nullptr;
  }
  std::memcpy(buffer.get(), data.data(), data.size());
  return buffer.get();
}

// O_DIRECT write: 0, the errno of a failure, or -1 when direct I/O does not
// apply (unaligned block, a file system without it, no memory for the copy).
int WriteDirect(const std::string& path, uint64_t offset, std::string_view data) {
  if (offset % kDirectAlign != 0 || data.size() % kDirectAlign != 0) return -1;
  const char* aligned = AlignedForDirect(data);
  if (aligned == nullptr) return -1;
  const int err =
      OpenAndWrite(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_DIRECT, aligned, data.size(), offset);
  return err == EINVAL ? -1 : err;
}

}  // namespace

Status WriteBlockAt(const std::string& path, uint64_t offset, std::string_view data) {
  // Direct I/O first: the block's bytes are already in the page cache of
  // the file the reader reads through FUSE, and copying them into the page
  // cache of the cache file too cost a long sequential read a third of its
  // CPU (docs/CACHE.md). Buffered writes remain for a short last block and
  // file systems without O_DIRECT (tmpfs before Linux 6.6).
  int err = WriteDirect(path, offset, data);
  if (err < 0)
    err = OpenAndWrite(path, O_WRONLY | O_CREAT | O_CLOEXEC, data.data(), data.size(), offset);
  if (err != 0) return ErrnoStatus(err, "cannot write " + path);
  return Status::Ok();
}

std::optional<std::string> ReadBlockAt(const std::string& path, uint64_t offset, uint64_t size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string data(size, '\0');
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pread(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (done != size) return std::nullopt;
  return data;
}

Status PunchHole(const std::string& path, uint64_t offset, uint64_t length) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::Ok();  // nothing left to free
    return ErrnoStatus(errno, "cannot open " + path);
  }
  int rc = ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                       static_cast<off_t>(length));
  const int err = rc != 0 ? errno : 0;
  ::close(fd);
  if (err != 0) return ErrnoStatus(err, "cannot free a block in " + path);
  return Status::Ok();
}

}  // namespace pailfs::cache
