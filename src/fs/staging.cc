#include "src/fs/staging.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "pailfs/log.h"

namespace pailfs::fs {
namespace {

Status ErrnoStatus(int err, const std::string& what) {
  return Status::FromErrno(err, what + ": " + std::strerror(err));
}

}  // namespace

StagedFile::~StagedFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!keep_) {
    ::unlink(path_.c_str());
    ::unlink((path_ + ".key").c_str());  // left by an earlier mount's Keep
  }
}

uint64_t StagedFile::size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

Result<size_t> StagedFile::PRead(char* buf, size_t size, uint64_t offset) const {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd_, buf + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read staged file " + path_);
    }
    if (n == 0) break;  // end of file
    done += static_cast<size_t>(n);
  }
  return done;
}

Result<std::string> StagedFile::ReadHead(size_t size) const {
  std::string out(size, '\0');
  PAILFS_ASSIGN_OR_RETURN(size_t got, PRead(out.data(), size, 0));
  if (got != size) {
    return Internal("staged file " + path_ + " holds " + std::to_string(got) + " of " +
                    std::to_string(size) + " bytes");
  }
  return out;
}

Status StagedFile::PWrite(const char* data, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write staged file " + path_);
    }
    if (n == 0) return ErrnoStatus(ENOSPC, "write staged file " + path_);
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status StagedFile::Truncate(uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    return ErrnoStatus(errno, "truncate staged file " + path_);
  }
  return Status::Ok();
}

Status StagedFile::Sync() {
  if (::fdatasync(fd_) != 0) return ErrnoStatus(errno, "sync staged file " + path_);
  return Status::Ok();
}

void StagedFile::Keep(const std::string& key) {
  keep_ = true;
  const std::string sidecar = path_ + ".key";
  int fd = ::open(sidecar.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    PAILFS_LOG(kError) << "cannot record key of kept staged file " << path_ << ": "
                       << std::strerror(errno);
    return;
  }
  std::string line = key + "\n";
  if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    PAILFS_LOG(kError) << "cannot record key of kept staged file " << path_;
  }
  ::close(fd);
}

Result<std::string> StagingArea::MakePrivateDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, "create staging directory " + dir);
  }
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) return ErrnoStatus(errno, "stat staging directory " + dir);
  if (!S_ISDIR(st.st_mode)) {
    return Status::FromErrno(ENOTDIR, "staging path " + dir + " is not a directory");
  }
  if (st.st_uid != ::geteuid()) {
    return Status::FromErrno(EACCES, "staging directory " + dir + " belongs to another user");
  }
  if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0) {
    return ErrnoStatus(errno, "make staging directory " + dir + " private");
  }
  return dir;
}

namespace {

std::string TagDir(const std::string& tmp_dir, const std::string& tag) {
  std::string dir = tmp_dir;
  if (dir.empty()) dir = "/var/tmp";
  if (dir.back() != '/') dir += '/';
  return dir + "pailfs-" + std::to_string(::geteuid()) + "-" + tag;
}

}  // namespace

Result<std::unique_ptr<StagingArea>> StagingArea::Open(const std::string& tmp_dir,
                                                       const std::string& tag) {
  PAILFS_ASSIGN_OR_RETURN(std::string dir, MakePrivateDir(TagDir(tmp_dir, tag)));
  return std::unique_ptr<StagingArea>(new StagingArea(dir));
}

Result<std::unique_ptr<StagingArea>> StagingArea::OpenExclusive(const std::string& tmp_dir,
                                                                const std::string& tag) {
  constexpr int kSlots = 64;
  const std::string base = TagDir(tmp_dir, tag);
  for (int slot = 1; slot <= kSlots; ++slot) {
    std::string candidate = slot == 1 ? base : base + "." + std::to_string(slot);
    PAILFS_ASSIGN_OR_RETURN(std::string dir, MakePrivateDir(candidate));
    const std::string lock_path = dir + "/.lock";
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus(errno, "open " + lock_path);
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      return std::unique_ptr<StagingArea>(new StagingArea(dir, fd));
    }
    int err = errno;
    ::close(fd);
    if (err != EWOULDBLOCK) return ErrnoStatus(err, "lock " + lock_path);
  }
  return Status::FromErrno(EBUSY, "all " + std::to_string(kSlots) + " staging directories " + base +
                                      "* are in use by other mounts");
}

StagingArea::~StagingArea() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<StagedFile>> StagingArea::Create() {
  std::string path = dir_ + "/stage-XXXXXX";
  int fd = ::mkostemp(path.data(), O_CLOEXEC);  // mode 0600
  if (fd < 0) return ErrnoStatus(errno, "create staged file in " + dir_);
  return std::unique_ptr<StagedFile>(new StagedFile(fd, path));
}

Result<std::unique_ptr<StagedFile>> StagingArea::Adopt(const std::string& name) {
  std::string path = dir_ + "/" + name;
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return ErrnoStatus(errno, "open staged file " + path);
  return std::unique_ptr<StagedFile>(new StagedFile(fd, path));
}

Result<std::unique_ptr<StagedFile>> StagingArea::Restore(const std::string& name,
                                                         std::string_view content) {
  std::string path = dir_ + "/" + name;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoStatus(errno, "create staged file " + path);
  std::unique_ptr<StagedFile> file(new StagedFile(fd, path));
  PAILFS_RETURN_IF_ERROR(file->PWrite(content.data(), content.size(), 0));
  return file;
}

std::vector<std::string> StagingArea::StageNames() const {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind("stage-", 0) == 0 && name.find('.') == std::string::npos) names.push_back(name);
  }
  ::closedir(d);
  return names;
}

Result<std::string> StagingArea::SetAside(const std::string& name, const std::string& key) {
  PAILFS_ASSIGN_OR_RETURN(std::string dir, MakePrivateDir(dir_ + "/recovered"));
  std::string from = dir_ + "/" + name, to = dir + "/" + name;
  if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus(errno, "move " + from);
  ::unlink((from + ".key").c_str());
  StagedFile sidecar(-1, to);
  sidecar.Keep(key);
  return to;
}

}  // namespace pailfs::fs
