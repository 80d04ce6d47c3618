// Making and checking the stack's local CA and server certificate with OpenSSL's X509
// API (no `openssl` or `keytool` child process: no key material on a command line).
#include "stack/certs.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "base/error.h"

namespace sluice::stack {
namespace {

namespace fs = std::filesystem;

template <auto Free>
struct deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using key_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY_free>>;
using cert_ptr = std::unique_ptr<X509, deleter<X509_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO_free_all>>;
using store_ptr = std::unique_ptr<X509_STORE, deleter<X509_STORE_free>>;
using store_ctx_ptr = std::unique_ptr<X509_STORE_CTX, deleter<X509_STORE_CTX_free>>;

constexpr const char* ca_file = "ca.pem";
constexpr const char* server_cert_file = "server.pem";
constexpr const char* server_key_file = "server-key.pem";
constexpr const char* bundle_file = "server-bundle.pem";

/// The first queued OpenSSL error as text (and the queue cleared).
std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no OpenSSL error recorded";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

[[noreturn]] void fail(const std::string& step) {
  throw fatal_error(
      fmt::format("making the stack's TLS certificates: {}: {}", step, openssl_error()));
}

tls_files files_in(const fs::path& dir) {
  return {dir / ca_file, dir / server_cert_file, dir / server_key_file, dir / bundle_file};
}

key_ptr new_rsa_key() {
  key_ptr key(EVP_RSA_gen(2048));
  if (!key) fail("generating an RSA key");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, deleter<X509_EXTENSION_free>> ext(
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    fail(fmt::format("adding extension {} = {}", OBJ_nid2sn(nid), value));
  }
}

/// A certificate for `key` named `common_name`, its serial random, valid from an hour
/// ago (clock skew) for `validity`; issuer fields and signature are set by the caller.
cert_ptr new_certificate(EVP_PKEY* key, const std::string& common_name,
                         std::chrono::days validity) {
  cert_ptr cert(X509_new());
  if (!cert) fail("allocating a certificate");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) fail("drawing a serial number");
  serial[0] &= 0x7f;  // positive
  std::unique_ptr<BIGNUM, deleter<BN_free>> bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()))) {
    fail("setting the serial number");
  }
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                  std::chrono::duration_cast<std::chrono::seconds>(validity).count());
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("sluice local stack"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  return cert;
}

void sign(X509* cert, X509* issuer, EVP_PKEY* issuer_key) {
  X509_set_issuer_name(cert, X509_get_subject_name(issuer));
  if (X509_sign(cert, issuer_key, EVP_sha256()) == 0) fail("signing a certificate");
}

bool is_ip_address(const std::string& host) {
  std::unique_ptr<ASN1_OCTET_STRING, deleter<ASN1_OCTET_STRING_free>> ip(
      a2i_IPADDRESS(host.c_str()));
  return ip != nullptr;
}

std::string subject_alt_names(const std::vector<std::string>& hosts) {
  std::string names;
  for (const auto& host : hosts) {
    if (!names.empty()) names += ",";
    names += (is_ip_address(host) ? "IP:" : "DNS:") + host;
  }
  return names;
}

/// What `write` puts into a memory BIO, as text; `what` names it when OpenSSL fails.
template <typename Write>
std::string pem_text(const char* what, Write write) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) fail(fmt::format("writing {} as PEM", what));
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<std::size_t>(size)};
}

std::string pem_of_key(EVP_PKEY* key) {
  return pem_text("a private key", [key](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
}

std::string pem_of_cert(X509* cert) {
  return pem_text("a certificate", [cert](BIO* bio) { return PEM_write_bio_X509(bio, cert); });
}

/// Writes `text` to `file` with owner-only permissions when `secret`, replacing it.
void write_file(const fs::path& file, const std::string& text, bool secret) {
  auto temporary = file;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw fatal_error(fmt::format("cannot write {}", temporary.string()));
    fs::permissions(temporary,
                    secret ? fs::perms::owner_read | fs::perms::owner_write
                           : fs::perms::owner_read | fs::perms::owner_write |
                                 fs::perms::group_read | fs::perms::others_read,
                    fs::perm_options::replace);
    out << text;
    if (!out.flush()) throw fatal_error(fmt::format("cannot write {}", temporary.string()));
  }
  fs::rename(temporary, file);
}

/// The first PEM object `read` finds in `file`; null when the file is missing or holds none.
template <typename Ptr, typename Read>
Ptr read_pem(const fs::path& file, Read read) {
  std::unique_ptr<FILE, deleter<fclose>> in(std::fopen(file.c_str(), "r"));
  if (!in) return nullptr;
  Ptr object(read(in.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return object;
}

cert_ptr read_cert(const fs::path& file) {
  return read_pem<cert_ptr>(file, PEM_read_X509);
}

key_ptr read_key(const fs::path& file) {
  return read_pem<key_ptr>(file, PEM_read_PrivateKey);
}

bool names_host(X509* cert, const std::string& host) {
  if (is_ip_address(host)) return X509_check_ip_asc(cert, host.c_str(), 0) == 1;
  return X509_check_host(cert, host.c_str(), host.size(), 0, nullptr) == 1;
}

bool signed_by(X509* cert, X509* ca) {
  store_ptr store(X509_STORE_new());
  store_ctx_ptr ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr) != 1) {
    ERR_clear_error();
    return false;
  }
  bool ok = X509_verify_cert(ctx.get()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace

std::string certificate_problem(const fs::path& dir, const certificate_request& request) {
  auto files = files_in(dir);
  auto ca = read_cert(files.ca_cert);
  if (!ca) return fmt::format("no readable CA certificate in {}", files.ca_cert.string());
  auto cert = read_cert(files.server_cert);
  if (!cert) return fmt::format("no readable server certificate in {}", files.server_cert.string());
  auto key = read_key(files.server_key);
  if (!key) return fmt::format("no readable server key in {}", files.server_key.string());
  if (!fs::exists(files.server_bundle))
    return fmt::format("{} is missing", files.server_bundle.string());
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return "the server key does not match its certificate";
  }
  if (!signed_by(cert.get(), ca.get())) return "the server certificate is not signed by the CA";
  auto renew = std::chrono::duration_cast<std::chrono::seconds>(request.renew_before).count();
  for (X509* c : {ca.get(), cert.get()}) {
    time_t limit = time(nullptr) + static_cast<time_t>(renew);
    if (X509_cmp_time(X509_get0_notAfter(c), &limit) <= 0) {
      return fmt::format("a certificate expires within {} days", request.renew_before.count());
    }
  }
  for (const auto& host : request.hosts) {
    if (!names_host(cert.get(), host)) {
      return fmt::format("the server certificate does not name {}", host);
    }
  }
  return "";
}

tls_files ensure_certificates(const fs::path& dir, const certificate_request& request) {
  if (request.hosts.empty()) throw fatal_error("making TLS certificates: no host to name");
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  auto files = files_in(dir);
  if (certificate_problem(dir, request).empty()) return files;

  auto ca_key = new_rsa_key();
  auto ca = new_certificate(ca_key.get(), "sluice local CA", request.validity);
  add_extension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  sign(ca.get(), ca.get(), ca_key.get());

  auto key = new_rsa_key();
  auto cert = new_certificate(key.get(), request.hosts.front(), request.validity);
  add_extension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
  add_extension(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  add_extension(cert.get(), ca.get(), NID_subject_alt_name, subject_alt_names(request.hosts));
  add_extension(cert.get(), ca.get(), NID_authority_key_identifier, "keyid");
  sign(cert.get(), ca.get(), ca_key.get());

  // The CA's key is not kept: nothing signs with it again; a new host means a new CA.
  auto chain = pem_of_cert(cert.get()) + pem_of_cert(ca.get());
  auto key_pem = pem_of_key(key.get());
  write_file(files.server_key, key_pem, true);
  write_file(files.server_bundle, key_pem + chain, true);
  write_file(files.server_cert, chain, false);
  write_file(files.ca_cert, pem_of_cert(ca.get()), false);
  return files;
}

}  // namespace sluice::stack
