// Parsers of the multi-entry results: ListObjectsV2, ListMultipartUploads and
// DeleteObjects.
#include <string>
#include <utility>

#include "src/s3/s3_xml.h"
#include "src/s3/s3_xml_internal.h"

namespace pailfs::s3 {

using namespace xml_internal;  // NOLINT: file-local helpers
using tinyxml2::XMLElement;

namespace {

std::string Entry(std::string_view what, std::string_view element, size_t index) {
  return std::string(what) + ": <" + std::string(element) + "> #" + std::to_string(index + 1);
}

Status Missing(std::string_view where, std::string_view field) {
  return Internal(std::string(where) + " without <" + std::string(field) + ">");
}

// Decodes `*value` in place when the listing was url-encoded.
Status MaybeDecode(bool url_encoded, std::string_view where, std::string* value) {
  if (!url_encoded) return Status::Ok();
  Result<std::string> decoded = UrlDecode(*value);
  if (!decoded.ok()) return decoded.status().Annotate(where);
  *value = std::move(decoded).value();
  return Status::Ok();
}

// Whether keys in this response are percent-encoded. The response's
// <EncodingType> is authoritative when present (S3 echoes it when it encoded;
// some servers ignore the request parameter); otherwise trust the request.
Result<bool> KeysEncoded(const XMLElement* root, std::string_view what, bool requested) {
  const XMLElement* e = root->FirstChildElement("EncodingType");
  if (e == nullptr) return requested;
  std::string type;
  PAILFS_RETURN_IF_ERROR(LeafText(e, what, &type));
  if (type == "url") return true;
  if (type.empty()) return false;
  return Internal(std::string(what) + ": unknown <EncodingType> '" + type.substr(0, 40) + "'");
}

Result<ObjectInfo> ParseContents(const XMLElement* e, std::string_view where, bool url_encoded) {
  ObjectInfo info;
  std::string size, modified;
  bool seen_key = false, seen_size = false, seen_modified = false, seen_etag = false,
       seen_class = false;
  for (const XMLElement* c = e->FirstChildElement(); c != nullptr; c = c->NextSiblingElement()) {
    std::string_view name = c->Name();
    if (name == "Key") {
      PAILFS_RETURN_IF_ERROR(TakeOnce(c, where, &seen_key, &info.key));
    } else if (name == "Size") {
      PAILFS_RETURN_IF_ERROR(TakeOnce(c, where, &seen_size, &size));
    } else if (name == "LastModified") {
      PAILFS_RETURN_IF_ERROR(TakeOnce(c, where, &seen_modified, &modified));
    } else if (name == "ETag") {
      PAILFS_RETURN_IF_ERROR(TakeOnce(c, where, &seen_etag, &info.etag));
    } else if (name == "StorageClass") {
      PAILFS_RETURN_IF_ERROR(TakeOnce(c, where, &seen_class, &info.storage_class));
    }
  }
  if (!seen_key) return Missing(where, "Key");
  if (!seen_size) return Missing(where, "Size");
  if (!seen_modified) return Missing(where, "LastModified");
  PAILFS_RETURN_IF_ERROR(MaybeDecode(url_encoded, where, &info.key));
  if (info.key.empty()) return Internal(std::string(where) + " with an empty <Key>");
  PAILFS_RETURN_IF_ERROR(ParseSize(size, where, &info.size));
  Result<TimePoint> when = ParseIso8601(modified);
  if (!when.ok()) return when.status().Annotate(where);
  info.last_modified = *when;
  return info;
}

Result<std::string> ParseCommonPrefix(const XMLElement* e, std::string_view where,
                                      bool url_encoded) {
  std::string prefix;
  bool seen = false;
  for (const XMLElement* c = e->FirstChildElement(); c != nullptr; c = c->NextSiblingElement()) {
    if (std::string_view(c->Name()) == "Prefix") {
      PAILFS_RETURN_IF_ERROR(TakeOnce(c, where, &seen, &prefix));
    }
  }
  if (!seen) return Missing(where, "Prefix");
  PAILFS_RETURN_IF_ERROR(MaybeDecode(url_encoded, where, &prefix));
  if (prefix.empty()) return Internal(std::string(where) + " with an empty <Prefix>");
  return prefix;
}

}  // namespace

Result<ListPage> ParseListObjectsV2(std::string_view xml, bool url_encoded) {
  constexpr std::string_view kWhat = "ListObjectsV2";
  tinyxml2::XMLDocument doc;
  PAILFS_RETURN_IF_ERROR(ParseDocument(xml, kWhat, &doc));
  PAILFS_ASSIGN_OR_RETURN(const XMLElement* root, ExpectRoot(doc, kWhat, "ListBucketResult"));
  PAILFS_ASSIGN_OR_RETURN(url_encoded, KeysEncoded(root, kWhat, url_encoded));
  ListPage page;
  std::string truncated;
  bool seen_truncated = false, seen_token = false;
  for (const XMLElement* c = root->FirstChildElement(); c != nullptr; c = c->NextSiblingElement()) {
    std::string_view name = c->Name();
    if (name == "Contents") {
      PAILFS_ASSIGN_OR_RETURN(ObjectInfo info,
                              ParseContents(c, Entry(kWhat, name, page.objects.size()), url_encoded));
      page.objects.push_back(std::move(info));
    } else if (name == "CommonPrefixes") {
      PAILFS_ASSIGN_OR_RETURN(
          std::string prefix,
          ParseCommonPrefix(c, Entry(kWhat, name, page.common_prefixes.size()), url_encoded));
      page.common_prefixes.push_back(std::move(prefix));
    } else if (name == "IsTruncated") {
      PAILFS_RETURN_IF_ERROR(TakeOnce(c, kWhat, &seen_truncated, &truncated));
    } else if (name == "NextContinuationToken") {
      PAILFS_RETURN_IF_ERROR(TakeOnce(c, kWhat, &seen_token, &page.next_continuation_token));
    }
  }
  if (!seen_truncated) return Missing(kWhat, "IsTruncated");
  PAILFS_RETURN_IF_ERROR(ParseBool(truncated, "ListObjectsV2: <IsTruncated>", &page.truncated));
  if (page.truncated && page.next_continuation_token.empty()) {
    return Internal("ListObjectsV2: truncated page without <NextContinuationToken>");
  }
  if (!page.truncated) page.next_continuation_token.clear();
  return page;
}

Result<MultipartListPage> ParseListMultipartUploads(std::string_view xml, bool url_encoded) {
  constexpr std::string_view kWhat = "ListMultipartUploads";
  tinyxml2::XMLDocument doc;
  PAILFS_RETURN_IF_ERROR(ParseDocument(xml, kWhat, &doc));
  PAILFS_ASSIGN_OR_RETURN(const XMLElement* root,
                          ExpectRoot(doc, kWhat, "ListMultipartUploadsResult"));
  PAILFS_ASSIGN_OR_RETURN(url_encoded, KeysEncoded(root, kWhat, url_encoded));
  MultipartListPage page;
  std::string truncated;
  bool seen_truncated = false, seen_key_marker = false, seen_id_marker = false;
  for (const XMLElement* c = root->FirstChildElement(); c != nullptr; c = c->NextSiblingElement()) {
    std::string_view name = c->Name();
    if (name == "Upload") {
      std::string where = Entry(kWhat, name, page.uploads.size());
      MultipartUploadInfo info;
      std::string initiated;
      bool seen_key = false, seen_id = false, seen_initiated = false;
      for (const XMLElement* f = c->FirstChildElement(); f != nullptr; f = f->NextSiblingElement()) {
        std::string_view field = f->Name();
        if (field == "Key") {
          PAILFS_RETURN_IF_ERROR(TakeOnce(f, where, &seen_key, &info.key));
        } else if (field == "UploadId") {
          PAILFS_RETURN_IF_ERROR(TakeOnce(f, where, &seen_id, &info.upload_id));
        } else if (field == "Initiated") {
          PAILFS_RETURN_IF_ERROR(TakeOnce(f, where, &seen_initiated, &initiated));
        }
      }
      if (!seen_key) return Missing(where, "Key");
      if (!seen_id || info.upload_id.empty()) return Missing(where, "UploadId");
      if (!seen_initiated) return Missing(where, "Initiated");
      PAILFS_RETURN_IF_ERROR(MaybeDecode(url_encoded, where, &info.key));
      if (info.key.empty()) return Internal(where + " with an empty <Key>");
      Result<TimePoint> when = ParseIso8601(initiated);
      if (!when.ok()) return when.status().Annotate(where);
      info.initiated = *when;
      page.uploads.push_back(std::move(info));
    } else if (name == "IsTruncated") {
      PAILFS_RETURN_IF_ERROR(TakeOnce(c, kWhat, &seen_truncated, &truncated));
    } else if (name == "NextKeyMarker") {
      PAILFS_RETURN_IF_ERROR(TakeOnce(c, kWhat, &seen_key_marker, &page.next_key_marker));
    } else if (name == "NextUploadIdMarker") {
      PAILFS_RETURN_IF_ERROR(TakeOnce(c, kWhat, &seen_id_marker, &page.next_upload_id_marker));
    }
  }
  if (!seen_truncated) return Missing(kWhat, "IsTruncated");
  PAILFS_RETURN_IF_ERROR(ParseBool(truncated, "ListMultipartUploads: <IsTruncated>", &page.truncated));
  PAILFS_RETURN_IF_ERROR(MaybeDecode(url_encoded, "ListMultipartUploads: <NextKeyMarker>",
                                     &page.next_key_marker));
  if (page.truncated && page.next_key_marker.empty()) {
    return Internal("ListMultipartUploads: truncated page without <NextKeyMarker>");
  }
  return page;
}

Result<std::vector<DeleteFailure>> ParseDeleteResult(std::string_view xml) {
  constexpr std::string_view kWhat = "DeleteObjects";
  tinyxml2::XMLDocument doc;
  PAILFS_RETURN_IF_ERROR(ParseDocument(xml, kWhat, &doc));
  PAILFS_ASSIGN_OR_RETURN(const XMLElement* root, ExpectRoot(doc, kWhat, "DeleteResult"));
  std::vector<DeleteFailure> failures;
  for (const XMLElement* c = root->FirstChildElement("Error"); c != nullptr;
       c = c->NextSiblingElement("Error")) {
    std::string where = Entry(kWhat, "Error", failures.size());
    DeleteFailure failure;
    bool seen_key = false, seen_code = false, seen_message = false;
    for (const XMLElement* f = c->FirstChildElement(); f != nullptr; f = f->NextSiblingElement()) {
      std::string_view field = f->Name();
      if (field == "Key") {
        PAILFS_RETURN_IF_ERROR(TakeOnce(f, where, &seen_key, &failure.key));
      } else if (field == "Code") {
        PAILFS_RETURN_IF_ERROR(TakeOnce(f, where, &seen_code, &failure.code));
      } else if (field == "Message") {
        PAILFS_RETURN_IF_ERROR(TakeOnce(f, where, &seen_message, &failure.message));
      }
    }
    if (!seen_key || failure.key.empty()) return Missing(where, "Key");
    if (!seen_code || failure.code.empty()) return Missing(where, "Code");
    failures.push_back(std::move(failure));
  }
  return failures;
}

}  // namespace pailfs::s3
