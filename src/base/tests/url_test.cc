// Credentials in URLs: split out for basic auth, never printed.
#include <gtest/gtest.h>

#include "base/url.h"

namespace sluice {
namespace {

TEST(UrlCredentials, UserinfoIsSplitOutAndPercentDecoded) {
  auto split = split_url_credentials("http://reg%40ops:p%3Ass%2Fw@registry:8081/subjects?x=a@b");
  EXPECT_EQ(split.url, "http://registry:8081/subjects?x=a@b");
  EXPECT_EQ(split.userinfo, "reg@ops:p:ss/w");
}

TEST(UrlCredentials, AUrlWithoutUserinfoIsUnchangedEvenWithAnAtSignInItsPathOrQuery) {
  for (const char* url : {"http://registry:8081", "https://h/p@q", "http://h?mail=a@b", "h:1"}) {
    auto split = split_url_credentials(url);
    EXPECT_EQ(split.url, url);
    EXPECT_EQ(split.userinfo, "");
    EXPECT_EQ(redact_url(url), url);
  }
}

TEST(UrlCredentials, RedactedUrlsShowThatCredentialsWereGivenButNotWhich) {
  EXPECT_EQ(redact_url("https://alice:s3cret@registry:8081/x"), "https://***@registry:8081/x");
  EXPECT_EQ(redact_urls_in("GET http://a:canary@h:1/subjects: connection refused (to h)"),
            "GET http://***@h:1/subjects: connection refused (to h)");
  EXPECT_EQ(redact_urls_in("two: http://u:p@a and 'https://v:q@b/c' end"),
            "two: http://***@a and 'https://***@b/c' end");
}

TEST(UrlCredentials, CredentialsPutIntoAUrlAreEncodedAndRoundTrip) {
  auto url = url_with_credentials("http://registry:8081", "ops@team", "p:ss/w@rd %");
  EXPECT_EQ(url.find("p:ss"), std::string::npos) << url;
  auto split = split_url_credentials(url);
  EXPECT_EQ(split.url, "http://registry:8081");
  EXPECT_EQ(split.userinfo, "ops@team:p:ss/w@rd %");
  EXPECT_EQ(redact_url(url), "http://***@registry:8081");
}

}  // namespace
}  // namespace sluice
