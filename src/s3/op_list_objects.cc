// ListObjectsV2: one page; keys come back url-encoded and are decoded.
#include <algorithm>
#include <string>

#include "src/s3/s3_client_impl.h"
#include "src/s3/s3_xml.h"

namespace pailfs::s3 {

Result<ListPage> S3ClientImpl::List(const ListOptions& options) {
  S3Request request;
  request.method = "GET";
  request.bucket_only = true;
  request.query = {{"list-type", "2"}, {"encoding-type", "url"}};
  if (!options.prefix.empty()) request.query.emplace_back("prefix", options.prefix);
  if (!options.delimiter.empty()) request.query.emplace_back("delimiter", options.delimiter);
  if (!options.continuation_token.empty()) {
    request.query.emplace_back("continuation-token", options.continuation_token);
  }
  if (!options.start_after.empty()) request.query.emplace_back("start-after", options.start_after);
  if (options.max_keys > 0) {
    request.query.emplace_back("max-keys", std::to_string(std::min(options.max_keys, 1000)));
  }
  PAILFS_ASSIGN_OR_RETURN(HttpResponse response, Send(request));
  Result<ListPage> page = ParseListObjectsV2(response.body, /*url_encoded=*/true);
  if (!page.ok()) return page.status().Annotate(Describe("LIST", options.prefix));
  if (page->truncated && page->next_continuation_token.empty()) {
    return Internal(Describe("LIST", options.prefix) +
                    ": truncated listing without a continuation token");
  }
  return page;
}

}  // namespace pailfs::s3
