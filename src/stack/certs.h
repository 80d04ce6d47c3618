// The local certificate authority of a secured stack: a CA and one server certificate
// signed by it, made with OpenSSL's library (RSA 2048, SHA-256) into a private folder of
// the state directory, for the engines' TLS listeners (Kafka, Cassandra) and for every
// client that must trust them (the CA file). Made once and kept while still valid and
// covering the requested host names and addresses; otherwise made again.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace sluice::stack {

struct tls_files {
  std::filesystem::path ca_cert;        // PEM: what clients trust
  std::filesystem::path server_cert;    // PEM: the server certificate, then the CA's
  std::filesystem::path server_key;     // PEM: PKCS#8, unencrypted, 0600
  std::filesystem::path server_bundle;  // PEM: the key then the chain (Cassandra's PEM keystore)
};

struct certificate_request {
  std::vector<std::string> hosts;  // IP addresses and DNS names the server answers as
  std::chrono::days validity{825};
  // A certificate expiring sooner than this is made again.
  std::chrono::days renew_before{30};
};

/// The CA and server certificate under `dir` (created 0700; keys and bundle 0600),
/// made when missing, unreadable, expiring within `renew_before`, not signed by the CA
/// kept there, or not naming every host. Throws fatal_error naming the file or step that
/// failed.
tls_files ensure_certificates(const std::filesystem::path& dir, const certificate_request& request);

/// Why the certificates under `dir` cannot be kept for `request` ("" when they can).
std::string certificate_problem(const std::filesystem::path& dir,
                                const certificate_request& request);

}  // namespace sluice::stack
