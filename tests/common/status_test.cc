#include "pailfs/status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace pailfs {
namespace {

TEST(StatusTest, OkIsCheapAndEmpty) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Code::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(sizeof(Status), sizeof(void*));
}

TEST(StatusTest, CarriesServiceDetails) {
  Status s(Code::kNotFound, "no such key a/b", ServiceError{404, "NoSuchKey", "REQ1", ""});
  EXPECT_FALSE(s.ok());
  ASSERT_NE(s.service(), nullptr);
  EXPECT_EQ(s.service()->code, "NoSuchKey");
  EXPECT_EQ(s.ToString(), "NotFound: no such key a/b [S3 NoSuchKey, HTTP 404, request id REQ1]");
  Status copy = s;
  EXPECT_EQ(copy.ToString(), s.ToString());
  EXPECT_EQ(s.Annotate("GET").message(), "GET: no such key a/b");
  EXPECT_EQ(s.Annotate("GET").service()->http_status, 404);
}

TEST(StatusTest, Retryability) {
  EXPECT_TRUE(Unavailable("x").retryable());
  EXPECT_TRUE(DeadlineExceeded("x").retryable());
  EXPECT_TRUE(DataLoss("short body").retryable());
  EXPECT_FALSE(NotFound("x").retryable());
  EXPECT_FALSE(PermissionDenied("x").retryable());
}

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd");
  return x / 2;
}

Status UseMacros(int x, int* out) {
  PAILFS_ASSIGN_OR_RETURN(int h, Half(x));
  *out = h;
  return Status::Ok();
}

TEST(ResultTest, ValueOrStatus) {
  auto r = Half(4);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 2);
  auto e = Half(3);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kInvalidArgument);
  int out = 0;
  EXPECT_TRUE(UseMacros(8, &out).ok());
  EXPECT_EQ(out, 4);
  EXPECT_EQ(UseMacros(7, &out).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace pailfs

namespace pailfs {
namespace {

TEST(StatusTest, FromErrnoKeepsErrno) {
  Status s = Status::FromErrno(ENOTEMPTY, "dir not empty");
  EXPECT_EQ(s.posix_errno(), ENOTEMPTY);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(Status::FromErrno(ENOENT, "x").code(), Code::kNotFound);
  EXPECT_EQ(Status::FromErrno(ENOSPC, "x").code(), Code::kNoSpace);
  EXPECT_TRUE(Status::FromErrno(0, "x").ok());
  EXPECT_EQ(NotFound("x").posix_errno(), 0);
}

}  // namespace
}  // namespace pailfs
