#include "src/fs/inode_table.h"

#include "src/fs/open_file.h"
#include "src/fs/path_rules.h"

namespace pailfs::fs {
namespace {

// Keeps metadata `old` knew when `fresh` (from a listing) does not carry it.
void MergeKnown(const NodeInfo& old, NodeInfo* fresh) {
  if (fresh->meta_known || !old.meta_known) return;
  // A listing cannot tell a symlink from a file: keep what a HEAD told.
  if (old.kind == Kind::kSymlink && fresh->kind == Kind::kFile) fresh->kind = Kind::kSymlink;
  if (old.kind != fresh->kind) return;
  if (fresh->kind != Kind::kDir && old.etag != fresh->etag) return;
  fresh->meta_known = true;
  fresh->meta = old.meta;
  fresh->user_metadata = old.user_metadata;
  fresh->content_type = old.content_type;
  if (fresh->kind == Kind::kDir) {
    fresh->dir_marker = fresh->dir_marker || old.dir_marker;
  }
  if (fresh->symlink_target.empty()) fresh->symlink_target = old.symlink_target;
}

}  // namespace

Inode::Inode(Ino n) : ino(n) {}
Inode::~Inode() = default;

InodeTable::InodeTable(NodeInfo root_info) {
  auto root = std::make_shared<Inode>(kRootIno);
  root->info = std::move(root_info);
  root->lookups = 1;
  by_ino_[kRootIno] = root;
  by_path_[""] = kRootIno;
}

InodeTable::~InodeTable() = default;

InodePtr InodeTable::Get(Ino ino) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_ino_.find(ino);
  return it == by_ino_.end() ? nullptr : it->second;
}

InodePtr InodeTable::FindPath(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_path_.find(path);
  if (it == by_path_.end()) return nullptr;
  auto in = by_ino_.find(it->second);
  return in == by_ino_.end() ? nullptr : in->second;
}

uint64_t InodeTable::Seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seq_;
}

InodePtr InodeTable::Upsert(const std::string& path, const NodeInfo& info, uint64_t add_lookups,
                            std::chrono::steady_clock::time_point now, uint64_t as_of) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_path_.find(path);
  if (it != by_path_.end()) {
    auto& inode = by_ino_.at(it->second);
    bool same_kind = inode->info.kind == info.kind ||
                     (!info.meta_known && info.kind == Kind::kFile &&
                      inode->info.kind == Kind::kSymlink);
    if (inode->local || same_kind || path.empty()) {
      if (!inode->local && !path.empty() && inode->seq <= as_of) {
        NodeInfo fresh = info;
        MergeKnown(inode->info, &fresh);
        inode->info = std::move(fresh);
        inode->validated = now;
        if (inode->info.confirmed) inode->confirmed = now;
        inode->info.confirmed = false;
        inode->seq = ++seq_;
      }
      inode->lookups += add_lookups;
      return inode;
    }
    DetachLocked(inode.get());
  }
  auto inode = std::make_shared<Inode>(next_ino_++);
  inode->path = path;
  inode->info = info;
  inode->validated = now;
  if (info.confirmed) inode->confirmed = now;
  inode->info.confirmed = false;
  inode->lookups = add_lookups;
  inode->seq = ++seq_;
  by_ino_[inode->ino] = inode;
  by_path_[path] = inode->ino;
  return inode;
}

InodePtr InodeTable::Create(const std::string& path, const NodeInfo& info, uint64_t add_lookups,
                            std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_path_.find(path);
  if (it != by_path_.end()) DetachLocked(by_ino_.at(it->second).get());
  auto inode = std::make_shared<Inode>(next_ino_++);
  inode->path = path;
  inode->info = info;
  inode->validated = now;
  if (info.confirmed) inode->confirmed = now;
  inode->info.confirmed = false;
  inode->lookups = add_lookups;
  inode->seq = ++seq_;
  by_ino_[inode->ino] = inode;
  by_path_[path] = inode->ino;
  return inode;
}

void InodeTable::AddLookups(Ino ino, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_ino_.find(ino);
  if (it != by_ino_.end()) it->second->lookups += n;
}

void InodeTable::Forget(Ino ino, uint64_t n) {
  if (ino == kRootIno) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_ino_.find(ino);
  if (it == by_ino_.end()) return;
  Inode* inode = it->second.get();
  inode->lookups = n >= inode->lookups ? 0 : inode->lookups - n;
  MaybeDropLocked(inode);
}

void InodeTable::AddHandles(const InodePtr& inode, int delta) {
  std::lock_guard<std::mutex> lock(mu_);
  inode->handles += delta;
  MaybeDropLocked(inode.get());
}

void InodeTable::Detach(const InodePtr& inode) {
  std::lock_guard<std::mutex> lock(mu_);
  DetachLocked(inode.get());
}

void InodeTable::DetachLocked(Inode* inode) {
  if (inode->ino == kRootIno) return;
  if (!inode->detached) {
    auto it = by_path_.find(inode->path);
    if (it != by_path_.end() && it->second == inode->ino) by_path_.erase(it);
  }
  inode->detached = true;
  MaybeDropLocked(inode);
}

void InodeTable::MaybeDropLocked(Inode* inode) {
  if (inode->ino == kRootIno || inode->lookups > 0 || inode->handles > 0 || inode->local) return;
  if (!inode->detached) {
    auto it = by_path_.find(inode->path);
    if (it != by_path_.end() && it->second == inode->ino) by_path_.erase(it);
  }
  by_ino_.erase(inode->ino);  // `inode` may be freed after this line
}

void InodeTable::Rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  // Detach whatever lives at `to` and below.
  std::vector<Inode*> victims;
  for (auto it = by_path_.lower_bound(to); it != by_path_.end() && IsSameOrBelow(it->first, to);
       ++it) {
    victims.push_back(by_ino_.at(it->second).get());
  }
  for (Inode* v : victims) DetachLocked(v);
  std::vector<std::pair<std::string, Ino>> moved;
  for (auto it = by_path_.lower_bound(from);
       it != by_path_.end() && IsSameOrBelow(it->first, from);) {
    moved.emplace_back(it->first, it->second);
    it = by_path_.erase(it);
  }
  for (auto& [path, ino] : moved) {
    std::string np = to + path.substr(from.size());
    by_ino_.at(ino)->path = np;
    by_path_[np] = ino;
  }
}

void InodeTable::With(const InodePtr& inode, const std::function<void(Inode&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  fn(*inode);
  inode->seq = ++seq_;
  MaybeDropLocked(inode.get());
}

InodeTable::Snapshot InodeTable::Snap(const InodePtr& inode) const {
  std::lock_guard<std::mutex> lock(mu_);
  Snapshot s;
  s.path = inode->path;
  s.detached = inode->detached;
  s.info = inode->info;
  s.validated = inode->validated;
  s.confirmed = inode->confirmed;
  s.handles = inode->handles;
  s.local = inode->local;
  return s;
}

std::vector<InodePtr> InodeTable::All() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<InodePtr> out;
  out.reserve(by_ino_.size());
  for (auto& [ino, inode] : by_ino_) out.push_back(inode);
  return out;
}

std::vector<InodePtr> InodeTable::Below(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<InodePtr> out;
  for (auto it = by_path_.lower_bound(path);
       it != by_path_.end() && it->first.compare(0, path.size(), path) == 0; ++it) {
    if (IsSameOrBelow(it->first, path)) out.push_back(by_ino_.at(it->second));
  }
  return out;
}

std::vector<std::pair<std::string, NodeInfo>> InodeTable::LocalChildren(
    const std::string& dir) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, NodeInfo>> out;
  std::string prefix = dir.empty() ? std::string() : dir + "/";
  for (auto it = by_path_.lower_bound(prefix);
       it != by_path_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    if (it->first.size() == prefix.size()) continue;
    if (it->first.find('/', prefix.size()) != std::string::npos) continue;
    const Inode& inode = *by_ino_.at(it->second);
    if (inode.local && !inode.detached) out.emplace_back(it->first, inode.info);
  }
  return out;
}

Ino InodeTable::NewIno() {
  std::lock_guard<std::mutex> lock(mu_);
  return next_ino_++;
}

size_t InodeTable::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_ino_.size();
}

}  // namespace pailfs::fs
