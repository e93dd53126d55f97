// The local credential sources: explicit options, environment, profile
// files, the s3fs passwd file; anonymous mode and the "nothing found" error.
#include <gtest/gtest.h>

#include <filesystem>

#include "src/s3/credentials.h"
#include "src/s3/credentials_internal.h"
#include "tests/fakes/fake_clock.h"
#include "tests/s3/credentials_fakes_support.h"

namespace pailfs::s3 {
namespace {

using credtest::FakeHttpTransport;
using credtest::MapEnv;
using credtest::TempDir;

class LocalCredentialsTest : public ::testing::Test {
 protected:
  LocalCredentialsTest() {
    home_ = dir_.path() + "/home";
    std::filesystem::create_directories(home_);
    options_.home_dir = home_;
    options_.system_passwd_file = dir_.path() + "/etc/passwd-s3fs";
    options_.imds_endpoint = "http://imds.test";
    options_.container_host = "http://container.test";
  }

  Result<std::unique_ptr<CredentialsProvider>> Make() {
    return NewDefaultCredentialsChain(options_, env_.Reader(), &transport_, &clock_);
  }
  // Builds the chain and returns Get(), failing the test on a build error.
  Result<Credentials> Resolve() {
    auto chain = Make();
    if (!chain.ok()) return chain.status();
    auto c = (*chain)->Get();
    source_ = (*chain)->source();
    return c;
  }
  std::string WriteHome(const std::string& rel, const std::string& text, mode_t mode = 0600) {
    return dir_.Write("home/" + rel, text, mode);
  }

  TempDir dir_;
  std::string home_;
  MapEnv env_;
  CredentialsOptions options_;
  FakeHttpTransport transport_;
  testing::FakeClock clock_;
  std::string source_;
};

// --- options and environment ------------------------------------------------

TEST_F(LocalCredentialsTest, ExplicitOptions) {
  options_.access_key_id = "AKIDOPT";
  options_.secret_access_key = "secret-opt";
  options_.session_token = "tok-opt";
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDOPT");
  EXPECT_EQ(c->secret_access_key, "secret-opt");
  EXPECT_EQ(c->session_token, "tok-opt");
  EXPECT_FALSE(c->expiration.has_value());
  EXPECT_EQ(source_, "options");
  EXPECT_TRUE(transport_.requests().empty());
}

TEST_F(LocalCredentialsTest, ExplicitKeyWithoutSecretIsAnError) {
  options_.access_key_id = "AKIDOPT";
  auto chain = Make();
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), Code::kInvalidArgument);
}

TEST_F(LocalCredentialsTest, Environment) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "secret-env");
  env_.Set("AWS_SESSION_TOKEN", "tok-env");
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDENV");
  EXPECT_EQ(c->secret_access_key, "secret-env");
  EXPECT_EQ(c->session_token, "tok-env");
  EXPECT_EQ(source_, "environment");
}

TEST_F(LocalCredentialsTest, EnvironmentS3fsNamesAsFallback) {
  env_.Set("AWSACCESSKEYID", "AKIDS3FS");
  env_.Set("AWSSECRETACCESSKEY", "secret-s3fs");
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDS3FS");
  EXPECT_EQ(c->session_token, "");
  EXPECT_EQ(source_, "environment");
}

TEST_F(LocalCredentialsTest, EnvironmentAwsNamesWinOverS3fsNames) {
  env_.Set("AWSACCESSKEYID", "AKIDS3FS");
  env_.Set("AWSSECRETACCESSKEY", "secret-s3fs");
  env_.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "secret-env");
  auto c = Resolve();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIDENV");
}

TEST_F(LocalCredentialsTest, EnvironmentHalfPairIsAnError) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  auto chain = Make();
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), Code::kInvalidArgument);
  EXPECT_NE(chain.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST_F(LocalCredentialsTest, EmptyEnvironmentValuesCountAsUnset) {
  env_.Set("AWS_ACCESS_KEY_ID", "");
  env_.Set("AWS_SECRET_ACCESS_KEY", "");
  env_.Set("AWS_EC2_METADATA_DISABLED", "true");
  auto c = Resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnauthenticated);
}

// --- profiles ----------------------------------------------------------------

TEST_F(LocalCredentialsTest, DefaultProfileFromCredentialsFile) {
  WriteHome(".aws/credentials",
            "[default]\naws_access_key_id = AKIDDEF\naws_secret_access_key = secret-def\n");
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDDEF");
  EXPECT_EQ(c->secret_access_key, "secret-def");
  EXPECT_EQ(source_, "profile default");
}

TEST_F(LocalCredentialsTest, NamedProfileFromConfigFileViaAwsProfile) {
  WriteHome(".aws/config",
            "[default]\nregion = us-east-1\n\n[profile work]\naws_access_key_id=AKIDWORK\n"
            "aws_secret_access_key=secret-work\naws_session_token=tok-work\n");
  env_.Set("AWS_PROFILE", "work");
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDWORK");
  EXPECT_EQ(c->session_token, "tok-work");
  EXPECT_EQ(source_, "profile work");
}

TEST_F(LocalCredentialsTest, OptionsProfileWinsOverAwsProfile) {
  WriteHome(".aws/credentials",
            "[a]\naws_access_key_id=AKIDA\naws_secret_access_key=sa\n"
            "[b]\naws_access_key_id=AKIDB\naws_secret_access_key=sb\n");
  env_.Set("AWS_PROFILE", "a");
  options_.profile = "b";
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDB");
}

TEST_F(LocalCredentialsTest, MissingNamedProfileIsAnErrorNamingIt) {
  WriteHome(".aws/credentials", "[default]\naws_access_key_id=A\naws_secret_access_key=s\n");
  options_.profile = "nosuch";
  auto chain = Make();
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), Code::kNotFound);
  EXPECT_NE(chain.status().message().find("'nosuch'"), std::string::npos)
      << chain.status().message();
}

TEST_F(LocalCredentialsTest, MissingNamedProfileWithNoFilesIsAnError) {
  env_.Set("AWS_PROFILE", "ghost");
  auto chain = Make();
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.status().message().find("'ghost'"), std::string::npos);
}

TEST_F(LocalCredentialsTest, CredentialsFileWinsPerKeyOverConfig) {
  WriteHome(".aws/config",
            "[profile p]\naws_access_key_id = AKIDCONF\naws_secret_access_key = secret-conf\n"
            "aws_session_token = tok-conf\n");
  WriteHome(".aws/credentials", "[p]\naws_access_key_id = AKIDCRED\n");
  options_.profile = "p";
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDCRED");
  EXPECT_EQ(c->secret_access_key, "secret-conf");
  EXPECT_EQ(c->session_token, "tok-conf");
}

TEST_F(LocalCredentialsTest, ProfileFilesFromEnvironmentPaths) {
  std::string cred = dir_.Write("elsewhere/creds",
                                "[default]\naws_access_key_id=AKIDELSE\naws_secret_access_key=s\n");
  WriteHome(".aws/credentials", "[default]\naws_access_key_id=AKIDHOME\naws_secret_access_key=s\n");
  env_.Set("AWS_SHARED_CREDENTIALS_FILE", cred);
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDELSE");
}

TEST_F(LocalCredentialsTest, ConfigFileFromEnvironmentPathWithTilde) {
  WriteHome("cfg/other", "[profile x]\naws_access_key_id=AKIDX\naws_secret_access_key=s\n");
  env_.Set("AWS_CONFIG_FILE", "~/cfg/other");
  options_.profile = "x";
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDX");
}

TEST_F(LocalCredentialsTest, ProfileParsingEdgeCases) {
  WriteHome(".aws/config",
            "# comment\r\n"
            "; another comment\r\n"
            "[profile   edge  ]\r\n"
            "  aws_secret_access_key   =   secret-edge   ; inline comment\r\n"
            "s3 =\r\n"
            "    aws_access_key_id = NESTED-NOT-A-KEY\r\n"
            "    max_concurrent_requests = 20\r\n"
            "AWS_Session_Token\t=\ttok-edge # trailing\r\n"
            "[edge]\r\n"
            "aws_access_key_id = NOT-FOR-CONFIG-NON-DEFAULT\r\n");
  WriteHome(".aws/credentials",
            "[profile edge]\naws_access_key_id = NOT-LITERAL-PROFILE-PREFIX\n"
            "[ edge ]\n"
            "aws_access_key_id = AKIDFIRST\n"
            "[other]\naws_access_key_id = AKIDOTHER\n"
            "[edge]\n"
            "aws_access_key_id=AKIDEDGE\n");
  options_.profile = "edge";
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDEDGE");  // repeated section: later key wins
  EXPECT_EQ(c->secret_access_key, "secret-edge");
  EXPECT_EQ(c->session_token, "tok-edge");
}

TEST_F(LocalCredentialsTest, ProfileDefaultSectionSpellingsInConfig) {
  WriteHome(".aws/config",
            "[profile default]\naws_access_key_id=AKIDPD\naws_secret_access_key=spd\n");
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDPD");
}

TEST_F(LocalCredentialsTest, DefaultProfileWithoutKeysFallsThrough) {
  WriteHome(".aws/config", "[default]\nregion = eu-west-1\n");
  WriteHome(".passwd-s3fs", "AKIDPW:secret-pw\n");
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDPW");
  EXPECT_EQ(source_, "passwd file");
}

TEST_F(LocalCredentialsTest, NamedProfileWithRoleArnIsNotSupported) {
  WriteHome(".aws/config", "[profile r]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile=d\n");
  options_.profile = "r";
  auto chain = Make();
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), Code::kNotSupported);
  EXPECT_NE(chain.status().message().find("role_arn"), std::string::npos);
}

TEST_F(LocalCredentialsTest, ProfileWithHalfAKeyPairIsAnError) {
  WriteHome(".aws/credentials", "[default]\naws_access_key_id = AKIDHALF\n");
  auto chain = Make();
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), Code::kInvalidArgument);
}

TEST_F(LocalCredentialsTest, MalformedProfileFileIsAnErrorWithLine) {
  std::string path = WriteHome(".aws/credentials", "[default]\naws_access_key_id AKID\n");
  auto chain = Make();
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.status().message().find(path + ":2:"), std::string::npos)
      << chain.status().message();
}

TEST(IniParseTest, Errors) {
  using internal::ParseIni;
  EXPECT_FALSE(ParseIni("key = v\n[s]\n", "f").ok());    // key before a section
  EXPECT_FALSE(ParseIni("[s\nkey = v\n", "f").ok());     // unterminated header
  EXPECT_FALSE(ParseIni("[]\n", "f").ok());              // empty name
  EXPECT_FALSE(ParseIni("[s]\n= v\n", "f").ok());        // empty key
  EXPECT_FALSE(ParseIni("[s]\njust words\n", "f").ok());  // no '='
  auto ok = ParseIni("[s]\nk = a=b\n[t]\n", "f");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->at("s").at("k"), "a=b");
  EXPECT_TRUE(ok->count("t"));
  auto empty = ParseIni("", "f");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// --- passwd file ---------------------------------------------------------------

TEST_F(LocalCredentialsTest, PasswdFileMode0600Accepted) {
  options_.passwd_file = dir_.Write("pw", "AKIDPW:secret-pw\n", 0600);
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDPW");
  EXPECT_EQ(c->secret_access_key, "secret-pw");
  EXPECT_EQ(source_, "passwd file");
}

TEST_F(LocalCredentialsTest, PasswdFileReadableByOthersRefused) {
  std::string path = dir_.Write("pw", "AKIDPW:secret-pw\n", 0644);
  options_.passwd_file = path;
  auto chain = Make();
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), Code::kPermissionDenied);
  EXPECT_NE(chain.status().message().find(path), std::string::npos) << chain.status().message();
  EXPECT_NE(chain.status().message().find("0644"), std::string::npos) << chain.status().message();
}

TEST_F(LocalCredentialsTest, PasswdFileReadableByGroupRefused) {
  std::string path = dir_.Write("pw", "AKIDPW:secret-pw\n", 0640);
  options_.passwd_file = path;
  auto chain = Make();
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), Code::kPermissionDenied);
  EXPECT_NE(chain.status().message().find("0640"), std::string::npos) << chain.status().message();
}

TEST_F(LocalCredentialsTest, PasswdFileAnyGroupOrOtherBitRefused) {
  for (mode_t mode : {0601, 0610, 0602, 0620, 0700 | 001}) {
    options_.passwd_file = dir_.Write("pw", "AKIDPW:secret-pw\n", mode);
    EXPECT_FALSE(Make().ok()) << std::oct << mode;
  }
  options_.passwd_file = dir_.Write("pw", "AKIDPW:secret-pw\n", 0400);
  EXPECT_TRUE(Make().ok());
}

TEST_F(LocalCredentialsTest, PasswdBucketSpecificLineWins) {
  options_.bucket = "mybucket";
  options_.passwd_file = dir_.Write("pw",
                                    "# comment\n\n"
                                    "AKIDDEFAULT:secret-default\n"
                                    "otherbucket:AKIDOTHER:secret-other\n"
                                    "mybucket:AKIDMINE:secret-mine\n");
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDMINE");
  EXPECT_EQ(c->secret_access_key, "secret-mine");

  options_.passwd_file = dir_.Write("pw2",
                                    "mybucket:AKIDMINE:secret-mine\n"
                                    "AKIDDEFAULT:secret-default\n");
  c = Resolve();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIDMINE");
}

TEST_F(LocalCredentialsTest, PasswdDefaultLineForOtherBuckets) {
  options_.bucket = "third";
  options_.passwd_file = dir_.Write("pw", "other:AKIDOTHER:s\nAKIDDEFAULT:secret-default\n");
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDDEFAULT");
}

TEST_F(LocalCredentialsTest, PasswdWithoutApplicableLineIsAnError) {
  options_.bucket = "third";
  options_.passwd_file = dir_.Write("pw", "other:AKIDOTHER:s\n");
  auto chain = Make();
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.status().message().find("'third'"), std::string::npos);
}

TEST_F(LocalCredentialsTest, PasswdMalformedLineIsAnErrorWithLine) {
  std::string path = dir_.Write("pw", "AKID:secret\njunk\n");
  options_.passwd_file = path;
  auto chain = Make();
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.status().message().find(path + ":2:"), std::string::npos)
      << chain.status().message();
  options_.passwd_file = dir_.Write("pw2", "a:b:c:d\n");
  EXPECT_FALSE(Make().ok());
  options_.passwd_file = dir_.Write("pw3", "AKID:\n");
  EXPECT_FALSE(Make().ok());
}

TEST_F(LocalCredentialsTest, MissingExplicitPasswdFileIsAnError) {
  options_.passwd_file = dir_.path() + "/does-not-exist";
  auto chain = Make();
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.status().message().find(options_.passwd_file), std::string::npos);
}

TEST_F(LocalCredentialsTest, PasswdFromHomeThenSystemFile) {
  dir_.Write("etc/passwd-s3fs", "AKIDSYS:secret-sys\n");
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDSYS");
  WriteHome(".passwd-s3fs", "AKIDHOME:secret-home\n");
  c = Resolve();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIDHOME");
}

TEST_F(LocalCredentialsTest, HomeFromEnvironmentWhenNotGiven) {
  options_.home_dir.clear();
  env_.Set("HOME", home_);
  WriteHome(".passwd-s3fs", "AKIDHOME:secret-home\n");
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDHOME");
}

// --- anonymous, nothing found ------------------------------------------------------

TEST_F(LocalCredentialsTest, AnonymousWinsOverEverything) {
  options_.anonymous = true;
  options_.access_key_id = "AKIDOPT";
  options_.secret_access_key = "s";
  env_.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  auto c = Resolve();
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->anonymous());
  EXPECT_EQ(source_, "anonymous");
  EXPECT_TRUE(transport_.requests().empty());
}

TEST_F(LocalCredentialsTest, NothingFoundListsEverySource) {
  auto chain = Make();
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  EXPECT_EQ((*chain)->source(), "none");
  auto c = (*chain)->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnauthenticated);
  const std::string& m = c.status().message();
  for (const char* s : {"options", "environment", "profile default", "passwd file", "container",
                        "EC2 instance metadata", "not reachable"})
    EXPECT_NE(m.find(s), std::string::npos) << s << " missing from: " << m;
}

TEST_F(LocalCredentialsTest, NoTransportMeansLocalSourcesOnly) {
  auto chain = NewDefaultCredentialsChain(options_, env_.Reader(), nullptr, &clock_);
  ASSERT_TRUE(chain.ok());
  auto c = (*chain)->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnauthenticated);
}

TEST(MetadataHttpOptionsTest, ShortConnectTimeout) {
  EXPECT_EQ(MetadataHttpOptions().connect_timeout, std::chrono::milliseconds(1000));
  EXPECT_LE(MetadataHttpOptions().low_speed_time, std::chrono::seconds(5));
}

}  // namespace
}  // namespace pailfs::s3
