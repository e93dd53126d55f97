// ObjectFs: a walk's folders listed by one flat listing of their parent's
// subtree (see ListSubtreeFrom in object_fs.h).
//
// `find` or `du` over a tree lists every folder; with a delimiter that is a
// request per folder however few files each holds. Without a delimiter the
// keys of a whole subtree come 1,000 to a page, so 400 folders of 50 files
// cost 20 requests instead of 400. It starts only once a walk shows (the
// second sibling folder listed in name order within dir_ttl) and goes on only
// while it pays: each page must complete about a folder (a huge folder on the
// way stops it; that folder and the ones after it are listed as before, and
// the next sibling starts a new one). A walk that stats every file (du, ls
// -lR in the default mode, a HEAD each) goes slower than the listing: pages
// it would reach only after dir_ttl would expire unused and be listed again
// (a du over 20,000 files listed the rest of the tree every 10 s), so a
// flat listing after the first takes only as many pages as the walk passed
// in one dir_ttl since the last one, plus one.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <vector>

#include "pailfs/log.h"
#include "src/fs/object_fs.h"
#include "src/fs/subtree_splitter.h"

namespace pailfs::fs {

std::optional<Listing> ObjectFs::ListSubtreeFrom(const std::string& dir) {
  const std::string parent = ParentPath(dir);
  subtree_flight_.Do(parent, [&] {
    Status listed = ListSubtreeOf(parent, BaseName(dir));
    if (!listed.ok()) {
      PAILFS_LOG(kInfo) << "flat listing of \"" << parent
                        << "\" failed (listing folder by folder): " << listed.ToString();
    }
    return listed;
  }).wait();
  return dirs_.GetFresh(dir, Mono());
}

Status ObjectFs::ListSubtreeOf(const std::string& parent, const std::string& first) {
  const SteadyTime start = Mono();
  const uint64_t generation = dirs_.Generation();
  const std::string base = DirKeyOf(parent);
  const size_t root_len = DirKeyOf("").size();
  ListOptions options;
  options.prefix = base;
  // Every key of `first`/ and of the folders after it; files of the parent
  // that sort between are skipped by the splitter.
  options.start_after = base + first;
  SubtreeSplitter splitter(base);
  std::vector<SubtreeSplitter::Folder> folders;
  size_t pages = 0, completed = 0;
  const size_t budget = SubtreePageBudget(parent, options.start_after);
  SubtreeWalk record;
  record.taken = start;
  const auto wall = clock_->Now();
  auto cache = [&](SubtreeSplitter::Folder& folder) {
    std::string path = folder.key.substr(root_len, folder.key.size() - root_len - 1);
    ListingBuilder builder(folder.key, config_.attr_summary);
    builder.AddPage(folder.page);
    CachedListing raw;
    raw.taken = wall;
    raw.objects = std::move(folder.page.objects);
    raw.prefixes = std::move(folder.page.common_prefixes);
    Listing listing = FinishListing(path, &builder, start);
    dirs_.Put(path, std::move(listing), generation, &raw);
  };
  for (;;) {
    PAILFS_ASSIGN_OR_RETURN(ListPage page, store_->List(options));
    ++pages;
    if (!page.objects.empty()) record.page_ends.push_back(page.objects.back().key);
    for (const ObjectInfo& object : page.objects) splitter.Add(object, &folders);
    const bool end = !page.truncated || page.next_continuation_token.empty();
    if (end) splitter.Finish(&folders);
    completed += folders.size();
    for (SubtreeSplitter::Folder& folder : folders) cache(folder);
    folders.clear();
    // Each page must pay for itself: two pages more than the folders done
    // (the folders still open are dropped).
    if (end || pages >= completed + 2 || (budget > 0 && pages >= budget)) break;
    options.continuation_token = page.next_continuation_token;
  }
  std::lock_guard<std::mutex> lock(subtree_mu_);
  if (subtree_walks_.size() > 1024) subtree_walks_.clear();  // bound memory
  subtree_walks_[parent] = std::move(record);
  return Status::Ok();
}

size_t ObjectFs::SubtreePageBudget(const std::string& parent, const std::string& start_after) {
  std::lock_guard<std::mutex> lock(subtree_mu_);
  auto it = subtree_walks_.find(parent);
  if (it == subtree_walks_.end()) return 0;
  const SubtreeWalk& last = it->second;
  const auto elapsed = Mono() - last.taken;
  if (elapsed > 6 * DirTtl()) return 0;  // another walk: unbounded again
  // Pages whose last key lies before where this listing starts (in key order).
  const size_t passed = static_cast<size_t>(
      std::lower_bound(last.page_ends.begin(), last.page_ends.end(), start_after) -
      last.page_ends.begin());
  const double seconds = std::max(std::chrono::duration<double>(elapsed).count(), 1e-3);
  const double per_ttl = passed * std::chrono::duration<double>(DirTtl()).count() / seconds;
  if (per_ttl > 1e6) return 0;
  return std::max<size_t>(2, static_cast<size_t>(std::ceil(per_ttl)) + 1);
}

}  // namespace pailfs::fs
