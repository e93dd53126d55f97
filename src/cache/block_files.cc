#include "src/cache/block_files.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

namespace pailfs::cache {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr size_t kDigestSize = 32;  // SHA-256
constexpr size_t kIdSize = kDigestSize + 8;

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
  std::string id(kIdSize, '\0');
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), reinterpret_cast<unsigned char*>(id.data()), &len,
             EVP_sha256(), nullptr);
  for (int i = 0; i < 8; ++i) {
    id[kDigestSize + i] = static_cast<char>((index >> (56 - 8 * i)) & 0xff);
  }
  return id;
}

std::string BlockRelPath(std::string_view id, uint64_t generation) {
  std::string hex;
  hex.reserve(id.size() * 2 + 17);
  for (char c : id) {
    const auto b = static_cast<unsigned char>(c);
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  hex += '.';
  for (int shift = 60; shift >= 0; shift -= 4) hex += kHex[(generation >> shift) & 15];
  return hex.substr(0, 2) + "/" + hex;
}

std::optional<BlockFileName> BlockOfFileName(std::string_view name) {
  if (name.size() != kIdSize * 2 + 17 || name[kIdSize * 2] != '.') return std::nullopt;
  BlockFileName out;
  out.id.assign(kIdSize, '\0');
  for (size_t i = 0; i < kIdSize; ++i) {
    const int hi = HexValue(name[2 * i]), lo = HexValue(name[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.id[i] = static_cast<char>(hi * 16 + lo);
  }
  for (char c : name.substr(kIdSize * 2 + 1)) {
    const int v = HexValue(c);
    if (v < 0) return std::nullopt;
    out.generation = (out.generation << 4) | static_cast<uint64_t>(v);
  }
  return out;
}

uint32_t BlockChecksum(std::string_view data) {
  return static_cast<uint32_t>(
      crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), data.size()));
}

Status WriteNewFile(const std::string& path, std::string_view data) {
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
  int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0 && errno == ENOENT) {
    const std::string parent = path.substr(0, path.rfind('/'));
    if (::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "cannot create " + parent);
    }
    fd = ::open(path.c_str(), flags, 0600);
  }
  if (fd < 0) return ErrnoStatus(errno, "cannot create " + path);
  size_t done = 0;
  int err = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : ENOSPC;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(path.c_str());
    return ErrnoStatus(err, "cannot write " + path);
  }
  return Status::Ok();
}

std::optional<std::string> ReadWholeBlockFile(const std::string& path, uint64_t size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  // One byte more than expected tells a longer file from a right-sized one.
  std::string data(size + 1, '\0');
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pread(fd, data.data() + done, data.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (done != size) return std::nullopt;
  data.resize(size);
  return data;
}

}  // namespace pailfs::cache
