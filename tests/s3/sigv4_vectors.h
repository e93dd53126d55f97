// The worked examples of the Amazon S3 API Reference ("Signature
// Calculations for the Authorization Header: Transferring Payload in a
// Single Chunk" and "Authenticating Requests: Using Query Parameters"),
// shared by sigv4_test.cc and sigv4_locale_test.cc.
//
// All use access key AKIAIOSFODNN7EXAMPLE, the example secret, 2013-05-24
// 00:00:00 UTC, region us-east-1 and the virtual-hosted bucket examplebucket.
#pragma once

#include <chrono>
#include <string>

#include "src/s3/sigv4.h"

namespace pailfs::s3::testing {

inline Credentials ExampleCredentials() {
  Credentials c;
  c.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  return c;
}

// 2013-05-24T00:00:00Z
inline std::chrono::system_clock::time_point ExampleTime() {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1369353600));
}

constexpr const char* kExampleHost = "examplebucket.s3.amazonaws.com";
constexpr const char* kExampleRegion = "us-east-1";

inline SignableRequest ExampleRequest(const char* method, const char* path) {
  SignableRequest r;
  r.method = method;
  r.host = kExampleHost;
  r.path = path;
  r.payload_sha256 = std::string(kEmptySha256);
  return r;
}

// GET Object, first 10 bytes.
inline SignableRequest GetObjectExample() {
  SignableRequest r = ExampleRequest("GET", "/test.txt");
  r.headers.emplace_back("Range", "bytes=0-9");
  return r;
}
constexpr const char* kGetObjectSignature =
    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";

// PUT Object "Welcome to Amazon S3." to "test$file.text".
inline SignableRequest PutObjectExample() {
  SignableRequest r = ExampleRequest("PUT", "/test$file.text");
  r.headers.emplace_back("Date", "Fri, 24 May 2013 00:00:00 GMT");
  r.headers.emplace_back("x-amz-storage-class", "REDUCED_REDUNDANCY");
  r.payload_sha256 = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
  return r;
}
constexpr const char* kPutObjectSignature =
    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd";

// GET Bucket lifecycle: a query parameter with no value.
inline SignableRequest GetLifecycleExample() {
  SignableRequest r = ExampleRequest("GET", "/");
  r.query.emplace_back("lifecycle", "");
  return r;
}
constexpr const char* kGetLifecycleSignature =
    "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543";

// GET Bucket (List Objects), parameters given unsorted on purpose.
inline SignableRequest ListObjectsExample() {
  SignableRequest r = ExampleRequest("GET", "/");
  r.query.emplace_back("prefix", "J");
  r.query.emplace_back("max-keys", "2");
  return r;
}
constexpr const char* kListObjectsSignature =
    "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7";

// Presigned GET of /test.txt valid for 86400 seconds.
inline SignableRequest PresignExample() { return ExampleRequest("GET", "/test.txt"); }
constexpr const char* kPresignSignature =
    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
constexpr const char* kPresignUrl =
    "https://examplebucket.s3.amazonaws.com/test.txt"
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

// The value of the first header named `lower_name` (ASCII case-insensitive), or "".
inline std::string HeaderValue(const HeaderList& headers, const std::string& lower_name) {
  for (const auto& [name, value] : headers) {
    if (name.size() != lower_name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < name.size() && same; ++i) {
      char c = name[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      same = c == lower_name[i];
    }
    if (same) return value;
  }
  return "";
}

// The hex after "Signature=" in an Authorization value.
inline std::string SignatureOf(const std::string& authorization) {
  const auto pos = authorization.rfind("Signature=");
  return pos == std::string::npos ? "" : authorization.substr(pos + 10);
}

// Signs `r` as the examples do and returns the signature.
inline std::string SignExample(SignableRequest r) {
  SignRequest(r, ExampleCredentials(), kExampleRegion, "s3", ExampleTime());
  return SignatureOf(HeaderValue(r.headers, "authorization"));
}

}  // namespace pailfs::s3::testing
