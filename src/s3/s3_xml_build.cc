// Request bodies: DeleteObjects and CompleteMultipartUpload, and the check
// that a key can be written in XML at all.
#include <cstdint>
#include <string>

#include "src/s3/s3_xml.h"

namespace pailfs::s3 {
namespace {

constexpr std::string_view kXmlDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
constexpr std::string_view kS3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

// Appends `text` escaped for XML character data (also safe in attributes).
void AppendEscaped(std::string_view text, std::string* out) {
  for (char c : text) {
    switch (c) {
      case '&': out->append("&amp;"); break;
      case '<': out->append("&lt;"); break;
      case '>': out->append("&gt;"); break;
      case '"': out->append("&quot;"); break;
      case '\'': out->append("&apos;"); break;
      case '\r': out->append("&#13;"); break;  // a raw CR would be read as LF
      default: out->push_back(c);
    }
  }
}

bool XmlChar(uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

}  // namespace

bool KeyIsXmlSafe(std::string_view key) {
  size_t i = 0;
  while (i < key.size()) {
    auto b0 = static_cast<unsigned char>(key[i]);
    uint32_t cp = 0;
    size_t len = 0;
    uint32_t min = 0;
    if (b0 < 0x80) {
      cp = b0, len = 1, min = 0;
    } else if ((b0 & 0xE0) == 0xC0) {
      cp = b0 & 0x1F, len = 2, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      cp = b0 & 0x0F, len = 3, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      cp = b0 & 0x07, len = 4, min = 0x10000;
    } else {
      return false;  // continuation byte or 0xF8..0xFF as a lead byte
    }
    if (i + len > key.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      auto b = static_cast<unsigned char>(key[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF fail XmlChar
    // or the minimum check.
    if (cp < min || !XmlChar(cp)) return false;
    i += len;
  }
  return true;
}

std::string BuildDeleteRequest(const std::vector<std::string>& keys) {
  std::string out;
  size_t total = 0;
  for (const std::string& k : keys) total += k.size() + 32;
  out.reserve(total + 160);
  out.append(kXmlDeclaration);
  out.append("<Delete xmlns=\"").append(kS3Namespace).append("\"><Quiet>true</Quiet>");
  for (const std::string& key : keys) {
    out.append("<Object><Key>");
    AppendEscaped(key, &out);
    out.append("</Key></Object>");
  }
  out.append("</Delete>");
  return out;
}

std::string BuildCompleteMultipartUpload(const std::vector<CompletedPart>& parts) {
  std::string out;
  out.reserve(parts.size() * 96 + 160);
  out.append(kXmlDeclaration);
  out.append("<CompleteMultipartUpload xmlns=\"").append(kS3Namespace).append("\">");
  for (const CompletedPart& part : parts) {
    out.append("<Part><PartNumber>").append(std::to_string(part.part_number));
    out.append("</PartNumber><ETag>");
    AppendEscaped(part.etag, &out);
    out.append("</ETag></Part>");
  }
  out.append("</CompleteMultipartUpload>");
  return out;
}

}  // namespace pailfs::s3
