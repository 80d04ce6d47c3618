// The stack's local CA: what it makes verifies with OpenSSL against the CA file, names
// every host, stays private on disk, is kept across calls and made again when it no
// longer fits (a new host, a damaged file).
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "stack/certs.h"

namespace sluice::stack {
namespace {

namespace fs = std::filesystem;

struct temp_dir {
  fs::path path;
  temp_dir() {
    path = fs::temp_directory_path() /
           ("sluice-certs-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
  }
  ~temp_dir() { fs::remove_all(path); }
};

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct x509_free_t {
  void operator()(X509* c) const { X509_free(c); }
};
using cert_ptr = std::unique_ptr<X509, x509_free_t>;

cert_ptr first_cert(const fs::path& file) {
  std::unique_ptr<FILE, int (*)(FILE*)> in(std::fopen(file.c_str(), "r"), &std::fclose);
  if (!in) return nullptr;
  return cert_ptr(PEM_read_X509(in.get(), nullptr, nullptr, nullptr));
}

bool verifies(X509* cert, X509* ca) {
  std::unique_ptr<X509_STORE, void (*)(X509_STORE*)> store(X509_STORE_new(), &X509_STORE_free);
  std::unique_ptr<X509_STORE_CTX, void (*)(X509_STORE_CTX*)> ctx(X509_STORE_CTX_new(),
                                                                 &X509_STORE_CTX_free);
  X509_STORE_add_cert(store.get(), ca);
  X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr);
  return X509_verify_cert(ctx.get()) == 1;
}

const certificate_request loopback{{"127.0.0.1", "localhost"}};

TEST(StackCertificates, ServerCertificateVerifiesAgainstTheCaAndNamesEveryHost) {
  temp_dir dir;
  auto files = ensure_certificates(dir.path, loopback);
  auto ca = first_cert(files.ca_cert);
  auto cert = first_cert(files.server_cert);
  ASSERT_TRUE(ca && cert);
  EXPECT_TRUE(verifies(cert.get(), ca.get()));
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_ip_asc(cert.get(), "127.0.0.2", 0), 1) << "names only what was asked";
  EXPECT_EQ(X509_check_ca(cert.get()), 0) << "the server certificate is not a CA";
  EXPECT_EQ(certificate_problem(dir.path, loopback), "");
}

TEST(StackCertificates, KeyAndBundleAreOwnerOnlyAndTheFolderIsPrivate) {
  temp_dir dir;
  auto files = ensure_certificates(dir.path, loopback);
  auto perms = [](const fs::path& p) { return fs::status(p).permissions(); };
  EXPECT_EQ(perms(dir.path), fs::perms::owner_all);
  EXPECT_EQ(perms(files.server_key), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(perms(files.server_bundle), fs::perms::owner_read | fs::perms::owner_write);
  // The bundle is Cassandra's PEM keystore: the key, then the server's chain.
  auto bundle = slurp(files.server_bundle);
  EXPECT_EQ(bundle.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  EXPECT_NE(bundle.find("-----BEGIN CERTIFICATE-----"), std::string::npos);
  EXPECT_EQ(bundle.find("ENCRYPTED"), std::string::npos);
}

TEST(StackCertificates, SecondCallKeepsTheSameFiles) {
  temp_dir dir;
  auto files = ensure_certificates(dir.path, loopback);
  auto ca = slurp(files.ca_cert);
  auto key = slurp(files.server_key);
  ensure_certificates(dir.path, loopback);
  EXPECT_EQ(slurp(files.ca_cert), ca);
  EXPECT_EQ(slurp(files.server_key), key);
}

TEST(StackCertificates, HostNotNamedYetGivesNewCertificatesThatNameIt) {
  temp_dir dir;
  ensure_certificates(dir.path, loopback);
  certificate_request wider{{"127.0.0.1", "localhost", "127.0.0.2"}};
  EXPECT_EQ(certificate_problem(dir.path, wider), "the server certificate does not name 127.0.0.2");
  auto files = ensure_certificates(dir.path, wider);
  auto cert = first_cert(files.server_cert);
  auto ca = first_cert(files.ca_cert);
  ASSERT_TRUE(cert && ca);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.2", 0), 1);
  EXPECT_TRUE(verifies(cert.get(), ca.get()));
}

TEST(StackCertificates, DamagedKeyFileIsReplacedNotFatal) {
  temp_dir dir;
  auto files = ensure_certificates(dir.path, loopback);
  std::ofstream(files.server_key, std::ios::trunc) << "not a key";
  EXPECT_NE(certificate_problem(dir.path, loopback), "");
  ensure_certificates(dir.path, loopback);
  EXPECT_EQ(certificate_problem(dir.path, loopback), "");
}

TEST(StackCertificates, CertificateExpiringSoonIsMadeAgain) {
  temp_dir dir;
  certificate_request short_lived{{"127.0.0.1"}, std::chrono::days(10)};
  auto files = ensure_certificates(dir.path, short_lived);
  auto before = slurp(files.server_cert);
  EXPECT_EQ(certificate_problem(dir.path, short_lived), "a certificate expires within 30 days");
  ensure_certificates(dir.path, loopback);
  EXPECT_NE(slurp(files.server_cert), before);
  EXPECT_EQ(certificate_problem(dir.path, loopback), "");
}

}  // namespace
}  // namespace sluice::stack
