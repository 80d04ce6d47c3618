// Keyed pseudonyms (see privacy.h): field-list parsing, key loading, HMAC-SHA-256 via
// OpenSSL, and the record rewrite. The processor's path keys one EVP_MAC context at start
// and copies it for each value (OpenSSL 3's one-shot HMAC() fetches the algorithm and
// schedules the key again on every call).
#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "base/hex.h"
#include "privacy/privacy.h"

namespace sluice::privacy {

using model::field;

namespace {

constexpr std::string_view key_id_label = "sluice-pseudonym-key-id";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string allowed_names() {
  std::string out;
  for (auto f : pseudonymisable_fields()) {
    if (!out.empty()) out += ", ";
    out += model::name_of(f);
  }
  return out;
}

result<field> parse_one(std::string_view name) {
  auto f = model::field_by_name(name);
  if (!f) {
    return make_error(errc::invalid_argument, "--pseudonymise: unknown field '{}' (fields: {})",
                      name, allowed_names());
  }
  if (*f == field::id) {
    return make_error(errc::invalid_argument,
                      "--pseudonymise: 'id' is the row key and cannot be pseudonymised");
  }
  if (*f == field::dob || *f == field::registered_date) {
    return make_error(errc::invalid_argument,
                      "--pseudonymise: '{}' is a typed date/timestamp column and cannot hold a "
                      "pseudonym (fields: {})",
                      name, allowed_names());
  }
  return *f;
}

result<std::string> read_key_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(errc::invalid_argument, "cannot read the pseudonym key file {}: {}",
                      path.string(), std::strerror(errno));
  }
  std::string key{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (key.ends_with("\r\n")) {
    key.resize(key.size() - 2);
  } else if (key.ends_with('\n')) {
    key.pop_back();
  }
  return key;
}

}  // namespace

std::vector<field> pseudonymisable_fields() {
  return {field::first_name, field::last_name, field::email,    field::phone,  field::gender,
          field::address,    field::postcode,  field::username, field::picture};
}

result<std::vector<field>> parse_field_list(std::string_view list) {
  std::vector<field> out;
  for (std::size_t start = 0; start <= list.size();) {
    auto comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    auto name = trim(list.substr(start, comma - start));
    if (name.empty()) {
      return make_error(errc::invalid_argument,
                        "--pseudonymise: empty field name in '{}' (fields: {})", list,
                        allowed_names());
    }
    auto f = parse_one(name);
    if (!f) return f.err();
    if (std::find(out.begin(), out.end(), *f) == out.end()) out.push_back(*f);
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string key_source::describe() const {
  return file.empty() ? fmt::format("environment variable {}", env_name)
                      : fmt::format("file {}", file.string());
}

result<std::string> read_key(const key_source& source) {
  std::string key;
  if (!source.file.empty()) {
    auto read = read_key_file(source.file);
    if (!read) return read.err();
    key = std::move(*read);
  } else {
    const char* value = std::getenv(source.env_name.c_str());
    if (value == nullptr) {
      return make_error(errc::invalid_argument,
                        "the pseudonym key's environment variable {} is not set (or name a file "
                        "with --pseudonym-key-file)",
                        source.env_name);
    }
    key = value;
  }
  if (key.size() < min_key_bytes) {
    auto size = key.size();
    OPENSSL_cleanse(key.data(), key.size());
    return make_error(errc::invalid_argument,
                      "the pseudonym key from {} has {} bytes; at least {} are needed",
                      source.describe(), size, min_key_bytes);
  }
  return key;
}

namespace {

std::string lower_hex(const unsigned char* bytes, std::size_t length) {
  return sluice::lower_hex(std::string_view(reinterpret_cast<const char*>(bytes), length));
}

}  // namespace

std::string pseudonym(std::string_view key, std::string_view value) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(value.data()), value.size(), digest.data(), &length);
  return lower_hex(digest.data(), length);
}

struct pseudonymiser::keyed_mac {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* keyed = nullptr;
  ~keyed_mac() {
    EVP_MAC_CTX_free(keyed);
    EVP_MAC_free(mac);
  }
};

std::string derive_key_id(std::string_view key) {
  return pseudonym(key, key_id_label).substr(0, 16);
}

result<void> check_key_id(std::string_view id) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  };
  if (id.empty() || id.size() > 64 || !std::all_of(id.begin(), id.end(), allowed)) {
    return make_error(errc::invalid_argument,
                      "--pseudonym-key-id '{}': 1 to 64 characters of A-Z a-z 0-9 . _ - wanted",
                      id);
  }
  return ok();
}

result<pseudonymiser> pseudonymiser::create(std::vector<field> fields, std::string key,
                                            std::string key_id) {
  pseudonymiser p;
  p.key_ = std::move(key);
  if (p.key_.size() < min_key_bytes) {
    return make_error(errc::invalid_argument, "a pseudonym key has at least {} bytes, not {}",
                      min_key_bytes, p.key_.size());
  }
  if (fields.empty()) return make_error(errc::invalid_argument, "--pseudonymise: no field named");
  if (key_id.empty()) key_id = derive_key_id(p.key_);
  if (auto checked = check_key_id(key_id); !checked) return checked.err();
  p.fields_ = std::move(fields);
  p.key_id_ = std::move(key_id);
  p.mac_ = std::make_shared<keyed_mac>();
  p.mac_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  p.mac_->keyed = p.mac_->mac != nullptr ? EVP_MAC_CTX_new(p.mac_->mac) : nullptr;
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                         OSSL_PARAM_construct_end()};
  if (p.mac_->keyed == nullptr ||
      EVP_MAC_init(p.mac_->keyed, reinterpret_cast<const unsigned char*>(p.key_.data()),
                   p.key_.size(), params) != 1) {
    return make_error(errc::internal, "OpenSSL cannot set up HMAC-SHA-256");
  }
  return p;
}

pseudonymiser::~pseudonymiser() {
  wipe();
}

pseudonymiser::pseudonymiser(pseudonymiser&& other) noexcept
    : fields_(std::move(other.fields_)),
      key_(std::move(other.key_)),
      key_id_(std::move(other.key_id_)),
      mac_(std::move(other.mac_)) {
  other.wipe();
}

pseudonymiser& pseudonymiser::operator=(pseudonymiser&& other) noexcept {
  if (this != &other) {
    wipe();
    fields_ = std::move(other.fields_);
    key_ = std::move(other.key_);
    key_id_ = std::move(other.key_id_);
    mac_ = std::move(other.mac_);
    other.wipe();
  }
  return *this;
}

void pseudonymiser::wipe() {
  if (!key_.empty()) OPENSSL_cleanse(key_.data(), key_.size());
  key_.clear();
}

void pseudonymiser::apply(model::user_record& record) const {
  for (auto f : fields_) {
    auto& value = record.get(f);
    if (!value) continue;
    std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_dup(mac_->keyed),
                                                                  &EVP_MAC_CTX_free);
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    std::size_t length = 0;
    if (ctx == nullptr ||
        EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(value->data()),
                       value->size()) != 1 ||
        EVP_MAC_final(ctx.get(), digest.data(), &length, digest.size()) != 1) {
      *value = pseudonym(key_, *value);  // the slow path gives the very same value
      continue;
    }
    *value = lower_hex(digest.data(), length);
  }
}

}  // namespace sluice::privacy
