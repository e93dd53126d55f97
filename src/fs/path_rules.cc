#include "src/fs/path_rules.h"

#include <cerrno>
#include <mutex>
#include <set>

#include "pailfs/log.h"

namespace pailfs::fs {

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir + "/" + name;
}

std::string ParentPath(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool IsSameOrBelow(const std::string& path, const std::string& ancestor) {
  if (ancestor.empty()) return true;
  if (path.size() < ancestor.size()) return false;
  if (path.compare(0, ancestor.size(), ancestor) != 0) return false;
  return path.size() == ancestor.size() || path[ancestor.size()] == '/';
}

std::string FileKey(const std::string& prefix, const std::string& path) { return prefix + path; }

std::string DirKey(const std::string& prefix, const std::string& path) {
  return path.empty() ? prefix : prefix + path + "/";
}

std::string LegacyDirKey(const std::string& prefix, const std::string& path) {
  return prefix + path + std::string(kLegacyFolderSuffix);
}

bool IsValidSegment(std::string_view segment) {
  if (segment.empty() || segment == "." || segment == "..") return false;
  if (segment.size() > kNameMax) return false;
  return segment.find('\0') == std::string_view::npos && segment.find('/') == std::string_view::npos;
}

Status ValidateNewName(std::string_view name, size_t key_size) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos) {
    return Status::FromErrno(EINVAL, "invalid name");
  }
  if (name.size() > kNameMax || key_size > kKeyMax) {
    return Status::FromErrno(ENAMETOOLONG, "name too long");
  }
  return Status::Ok();
}

void LogHiddenKeyOnce(const std::string& key, std::string_view why) {
  static std::mutex* mu = new std::mutex;
  static std::set<std::string>* seen = new std::set<std::string>;
  {
    std::lock_guard<std::mutex> lock(*mu);
    if (seen->size() > 100000) return;  // bound memory; stop logging
    if (!seen->insert(key).second) return;
  }
  PAILFS_LOG(kWarning) << "hiding key \"" << key << "\": " << why;
}

}  // namespace pailfs::fs
