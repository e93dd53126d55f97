#include "src/fs/copy_helper.h"

#include <vector>

#include "src/fs/uploader.h"

namespace pailfs::fs {

Result<std::string> CopyObject(ObjectStore* store, const std::string& source_key,
                               const std::string& dest_key, uint64_t size,
                               const CopyOptions& options, uint64_t single_limit,
                               uint64_t min_part) {
  if (size <= single_limit) return store->Copy(source_key, dest_key, options);

  WriteOptions write = options.write;
  if (!options.replace_metadata) {
    PAILFS_ASSIGN_OR_RETURN(ObjectInfo src, store->Head(source_key));
    write = WriteOptions{};
    write.content_type = src.content_type;
    write.user_metadata = src.user_metadata;
    write.storage_class = src.storage_class;
    write.if_match = options.write.if_match;
    write.if_none_match = options.write.if_none_match;
  }
  WriteOptions create = write;
  create.if_match.clear();
  create.if_none_match = false;
  PAILFS_ASSIGN_OR_RETURN(std::string upload_id, store->CreateMultipartUpload(dest_key, create));
  uint64_t part = PartSize(size, min_part);
  std::vector<CompletedPart> parts;
  Status failure;
  int number = 1;
  for (uint64_t off = 0; off < size; off += part, ++number) {
    ByteRange range{off, std::min(part, size - off)};
    Result<std::string> etag = store->UploadPartCopy(dest_key, upload_id, number, source_key,
                                                     range, options.source_if_match);
    if (!etag.ok()) {
      failure = etag.status();
      break;
    }
    parts.push_back(CompletedPart{number, *etag});
  }
  if (failure.ok()) {
    Result<std::string> done = store->CompleteMultipartUpload(dest_key, upload_id, parts, write);
    if (done.ok()) return done;
    failure = done.status();
  }
  store->AbortMultipartUpload(dest_key, upload_id).IgnoreError();
  return failure.Annotate("multipart copy of " + source_key);
}

}  // namespace pailfs::fs
