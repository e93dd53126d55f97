// Helpers shared by the s3_xml*.cc parsers (not part of the s3 layer's API).
//
// Thread-safety: all functions are reentrant.
#pragma once

#include <tinyxml2.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "pailfs/status.h"

namespace pailfs::s3::xml_internal {

// Parses `xml` into `doc`: well-formed, exactly one root element, and every
// '&' starts a known entity or a character reference (tinyxml2 alone would
// pass "&bogus;" through as text). `what` names the operation in messages.
Status ParseDocument(std::string_view xml, std::string_view what, tinyxml2::XMLDocument* doc);

// The root element when it is named `root_name`. An <Error> root becomes the
// service error it describes (HTTP 200); any other root is kInternal.
Result<const tinyxml2::XMLElement*> ExpectRoot(const tinyxml2::XMLDocument& doc,
                                               std::string_view what,
                                               std::string_view root_name);

// Text of a leaf element; "" when empty. Child elements: kInternal.
Status LeafText(const tinyxml2::XMLElement* e, std::string_view what, std::string* out);

// LeafText for a field that may appear once: a second occurrence is an error.
Status TakeOnce(const tinyxml2::XMLElement* e, std::string_view what, bool* seen,
                std::string* out);

// "true" or "false" exactly.
Status ParseBool(std::string_view text, std::string_view what, bool* out);

// Decimal digits only, at most 2^63-1.
Status ParseSize(std::string_view text, std::string_view what, uint64_t* out);

}  // namespace pailfs::s3::xml_internal
