// SubtreeSplitter: one flat listing (no delimiter) of the keys below a
// folder, cut into the delimiter listings of the folders inside it.
//
// Keys come in byte order, so the keys below any folder "a/b/" form one run:
// a folder is complete when a key outside it arrives (or the stream ends).
// Each complete folder comes out as the single page a ListObjectsV2 with
// prefix = its key and delimiter "/" would show: its own objects (its marker
// "a/b/" included) and its subfolders as common prefixes. Objects directly
// in the base folder belong to no folder below it and are skipped.
//
// Thread-safety: none; one instance per listing.
#pragma once

#include <string>
#include <vector>

#include "pailfs/object_store.h"

namespace pailfs::fs {

class SubtreeSplitter {
 public:
  struct Folder {
    std::string key;  // "base/a/b/"
    ListPage page;    // as a delimiter listing of `key` shows it (one page)
  };

  explicit SubtreeSplitter(std::string base_key) : base_(std::move(base_key)) {}

  // The next object in key order (keys not below the base are ignored);
  // folders it completes are appended to `done`.
  void Add(const ObjectInfo& object, std::vector<Folder>* done);
  // The listing reached its end: every folder still open is complete.
  void Finish(std::vector<Folder>* done);
  // Folders open now (incomplete if the listing stops here).
  size_t open() const { return open_.size(); }

 private:
  std::string base_;
  std::vector<Folder> open_;  // outermost first: each one's key a prefix of the next
};

}  // namespace pailfs::fs
