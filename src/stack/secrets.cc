// Generated secrets in private files (see secrets.h).
#include "stack/secrets.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base/error.h"
#include "stack/setup.h"

namespace sluice::stack {
namespace fs = std::filesystem;

std::string random_bytes(std::size_t count) {
  std::string bytes(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) {
    throw fatal_error(fmt::format("OpenSSL could not make {} random bytes for a secret: {}", count,
                                  ERR_error_string(ERR_get_error(), nullptr)));
  }
  return bytes;
}

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::string base64url(const std::string& bytes) {
  auto out = base64(bytes);
  for (auto& ch : out) {
    if (ch == '+') ch = '-';
    if (ch == '/') ch = '_';
  }
  return out;
}

fs::path ensure_private_dir(const fs::path& dir) {
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  return dir;
}

void write_secret_file(const fs::path& file, const std::string& text) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || fchmod(fd, 0600) != 0) {
    if (fd >= 0) ::close(fd);
    throw fatal_error(fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
  }
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      throw fatal_error(fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

std::string ensure_secret(const fs::path& dir, const std::string& name,
                          const std::function<std::string()>& make) {
  auto file = ensure_private_dir(dir) / name;
  if (fs::exists(file)) {
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
    auto text = read_text(file);
    if (!text.empty()) return text;
  }
  auto text = make();
  write_secret_file(file, text);
  return text;
}

}  // namespace sluice::stack
