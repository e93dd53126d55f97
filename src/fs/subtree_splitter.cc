// SubtreeSplitter: see subtree_splitter.h.
#include "src/fs/subtree_splitter.h"

#include <utility>

namespace pailfs::fs {

namespace {

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

void SubtreeSplitter::Add(const ObjectInfo& object, std::vector<Folder>* done) {
  const std::string& key = object.key;
  if (!StartsWith(key, base_)) return;
  // Folders that do not hold this key are behind it in key order: complete.
  while (!open_.empty() && !StartsWith(key, open_.back().key)) {
    done->push_back(std::move(open_.back()));
    open_.pop_back();
  }
  // Open the folders on the way to the key (the ones still missing), then
  // record the key in the innermost one and each folder's subfolder in its
  // parent.
  size_t depth = 0;  // folders of the key below the base
  size_t from = base_.size();
  for (size_t slash; (slash = key.find('/', from)) != std::string::npos; from = slash + 1) {
    std::string folder = key.substr(0, slash + 1);
    if (depth < open_.size()) {
      // Already open (the stack matches the key's folders so far).
    } else {
      if (depth > 0) open_[depth - 1].page.common_prefixes.push_back(folder);
      open_.push_back(Folder{std::move(folder), ListPage{}});
    }
    ++depth;
  }
  if (depth > 0) open_[depth - 1].page.objects.push_back(object);
}

void SubtreeSplitter::Finish(std::vector<Folder>* done) {
  while (!open_.empty()) {
    done->push_back(std::move(open_.back()));
    open_.pop_back();
  }
}

}  // namespace pailfs::fs
