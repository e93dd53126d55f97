// Shared XML helpers, error bodies and the small single-value results.
#include "src/s3/s3_xml.h"

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "src/s3/s3_xml_internal.h"

namespace pailfs::s3 {
namespace xml_internal {
namespace {

std::string Named(std::string_view what, std::string_view problem) {
  std::string out(what);
  out += ": ";
  out += problem;
  return out;
}

// One reference after '&' (without the '&' and ';'): a predefined entity or a
// character reference to a code point other than NUL and the surrogates.
bool ValidReference(std::string_view ref) {
  if (ref == "lt" || ref == "gt" || ref == "amp" || ref == "quot" || ref == "apos") return true;
  if (ref.size() < 2 || ref[0] != '#') return false;
  int base = 10;
  std::string_view digits = ref.substr(1);
  if (digits[0] == 'x') {
    base = 16;
    digits.remove_prefix(1);
  }
  if (digits.empty() || digits.size() > 8) return false;
  uint32_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return false;
  return value != 0 && value <= 0x10FFFF && (value < 0xD800 || value > 0xDFFF);
}

Status CheckReferences(std::string_view xml, std::string_view what) {
  size_t i = 0;
  while (true) {
    // A plain loop: find_first_of would call memchr once per byte.
    while (i < xml.size() && xml[i] != '<' && xml[i] != '&') ++i;
    if (i >= xml.size()) break;
    if (xml[i] == '<') {
      std::string_view rest = xml.substr(i);
      std::string_view close;
      if (rest.starts_with("<!--")) {
        close = "-->";
      } else if (rest.starts_with("<![CDATA[")) {
        close = "]]>";
      } else if (rest.starts_with("<!DOCTYPE") || rest.starts_with("<!ENTITY")) {
        return Internal(Named(what, "XML with a DOCTYPE or ENTITY declaration"));
      } else {
        ++i;
        continue;
      }
      size_t end = xml.find(close, i + 4);
      if (end == std::string_view::npos) return Internal(Named(what, "malformed XML: unterminated section"));
      i = end + close.size();
      continue;
    }
    size_t semi = xml.find(';', i + 1);
    if (semi == std::string_view::npos || semi - i > 12 ||
        !ValidReference(xml.substr(i + 1, semi - i - 1))) {
      return Internal(Named(what, "malformed XML: bad entity or character reference at offset " +
                                      std::to_string(i)));
    }
    i = semi + 1;
  }
  return Status::Ok();
}

Result<S3ErrorBody> ErrorFromElement(const tinyxml2::XMLElement* root, std::string_view what) {
  S3ErrorBody body;
  bool seen_code = false, seen_message = false, seen_request = false, seen_region = false;
  for (const auto* c = root->FirstChildElement(); c != nullptr; c = c->NextSiblingElement()) {
    std::string_view name = c->Name();
    if (name == "Code") {
      PAILFS_RETURN_IF_ERROR(TakeOnce(c, what, &seen_code, &body.code));
    } else if (name == "Message") {
      PAILFS_RETURN_IF_ERROR(TakeOnce(c, what, &seen_message, &body.message));
    } else if (name == "RequestId") {
      PAILFS_RETURN_IF_ERROR(TakeOnce(c, what, &seen_request, &body.request_id));
    } else if (name == "Region") {
      PAILFS_RETURN_IF_ERROR(TakeOnce(c, what, &seen_region, &body.region));
    }
  }
  if (body.code.empty()) return Internal(Named(what, "<Error> without <Code>"));
  return body;
}

}  // namespace

Status ParseDocument(std::string_view xml, std::string_view what, tinyxml2::XMLDocument* doc) {
  if (xml.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Internal(Named(what, "empty XML body"));
  }
  PAILFS_RETURN_IF_ERROR(CheckReferences(xml, what));
  if (doc->Parse(xml.data(), xml.size()) != tinyxml2::XML_SUCCESS) {
    return Internal(Named(what, std::string("malformed XML: ") + doc->ErrorName() + " (line " +
                                    std::to_string(doc->ErrorLineNum()) + ")"));
  }
  const tinyxml2::XMLElement* root = doc->RootElement();
  if (root == nullptr) return Internal(Named(what, "XML without a root element"));
  if (root->NextSiblingElement() != nullptr) {
    return Internal(Named(what, "XML with more than one root element"));
  }
  return Status::Ok();
}

Result<const tinyxml2::XMLElement*> ExpectRoot(const tinyxml2::XMLDocument& doc,
                                               std::string_view what,
                                               std::string_view root_name) {
  const tinyxml2::XMLElement* root = doc.RootElement();
  std::string_view name = root->Name();
  if (name == root_name) return root;
  if (name == "Error") {
    PAILFS_ASSIGN_OR_RETURN(S3ErrorBody body, ErrorFromElement(root, what));
    return S3ErrorStatus(what, body, 200);
  }
  return Internal(Named(what, "unexpected root element <" + std::string(name) + ">, expected <" +
                                  std::string(root_name) + ">"));
}

Status LeafText(const tinyxml2::XMLElement* e, std::string_view what, std::string* out) {
  out->clear();
  for (const tinyxml2::XMLNode* n = e->FirstChild(); n != nullptr; n = n->NextSibling()) {
    if (const tinyxml2::XMLText* t = n->ToText()) {
      out->append(t->Value());
    } else if (n->ToComment() == nullptr) {
      return Internal(Named(what, "unexpected markup inside <" + std::string(e->Name()) + ">"));
    }
  }
  return Status::Ok();
}

Status TakeOnce(const tinyxml2::XMLElement* e, std::string_view what, bool* seen,
                std::string* out) {
  if (*seen) return Internal(Named(what, "duplicate <" + std::string(e->Name()) + ">"));
  *seen = true;
  return LeafText(e, what, out);
}

Status ParseBool(std::string_view text, std::string_view what, bool* out) {
  if (text == "true") {
    *out = true;
  } else if (text == "false") {
    *out = false;
  } else {
    return Internal(Named(what, "not a boolean: '" + std::string(text) + "'"));
  }
  return Status::Ok();
}

Status ParseSize(std::string_view text, std::string_view what, uint64_t* out) {
  uint64_t value = 0;
  bool digits_only = !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!digits_only || ec != std::errc() || ptr != text.data() + text.size() ||
      value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Internal(Named(what, "invalid size '" + std::string(text.substr(0, 40)) + "'"));
  }
  *out = value;
  return Status::Ok();
}

}  // namespace xml_internal

using namespace xml_internal;  // NOLINT: file-local helpers

Code CodeForS3Error(std::string_view s3_code) {
  if (s3_code == "NoSuchKey" || s3_code == "NoSuchUpload") return Code::kNotFound;
  if (s3_code == "AccessDenied") return Code::kPermissionDenied;
  if (s3_code == "PreconditionFailed") return Code::kPreconditionFailed;
  if (s3_code == "InternalError" || s3_code == "SlowDown" || s3_code == "ServiceUnavailable") {
    return Code::kUnavailable;
  }
  return Code::kInternal;
}

Status S3ErrorStatus(std::string_view operation, const S3ErrorBody& body, int http_status) {
  std::string message(operation);
  message += ": S3 error " + body.code;
  if (!body.message.empty()) message += ": " + body.message;
  return Status(CodeForS3Error(body.code), std::move(message),
                ServiceError{http_status, body.code, body.request_id, body.region});
}

Result<S3ErrorBody> ParseErrorBody(std::string_view xml) {
  constexpr std::string_view kWhat = "S3 error body";
  tinyxml2::XMLDocument doc;
  PAILFS_RETURN_IF_ERROR(ParseDocument(xml, kWhat, &doc));
  const tinyxml2::XMLElement* root = doc.RootElement();
  if (std::string_view(root->Name()) != "Error") {
    return Internal("S3 error body: unexpected root element <" + std::string(root->Name()) + ">");
  }
  return ErrorFromElement(root, kWhat);
}

namespace {

// The one required, non-empty text child `field` of the root, which must be
// one of `root_a` / `root_b`.
Result<std::string> SingleField(std::string_view xml, std::string_view what,
                                std::string_view root_a, std::string_view root_b,
                                std::string_view field) {
  tinyxml2::XMLDocument doc;
  PAILFS_RETURN_IF_ERROR(ParseDocument(xml, what, &doc));
  std::string_view root_name = root_a;
  if (std::string_view(doc.RootElement()->Name()) == root_b) root_name = root_b;
  PAILFS_ASSIGN_OR_RETURN(const tinyxml2::XMLElement* root, ExpectRoot(doc, what, root_name));
  std::string value;
  bool seen = false;
  for (const auto* c = root->FirstChildElement(); c != nullptr; c = c->NextSiblingElement()) {
    if (std::string_view(c->Name()) == field) PAILFS_RETURN_IF_ERROR(TakeOnce(c, what, &seen, &value));
  }
  if (value.empty()) {
    return Internal(std::string(what) + ": missing or empty <" + std::string(field) + ">");
  }
  return value;
}

}  // namespace

Result<std::string> ParseInitiateMultipartUpload(std::string_view xml) {
  return SingleField(xml, "CreateMultipartUpload", "InitiateMultipartUploadResult",
                     "InitiateMultipartUploadResult", "UploadId");
}

Result<std::string> ParseCompleteMultipartUpload(std::string_view xml) {
  return SingleField(xml, "CompleteMultipartUpload", "CompleteMultipartUploadResult",
                     "CompleteMultipartUploadResult", "ETag");
}

// CopyObject answers <CopyObjectResult>, UploadPartCopy <CopyPartResult>.
Result<std::string> ParseCopyResult(std::string_view xml) {
  return SingleField(xml, "Copy", "CopyObjectResult", "CopyPartResult", "ETag");
}

}  // namespace pailfs::s3
