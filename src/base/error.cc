// Names of error codes for logs and messages.
#include "base/error.h"

namespace sluice {

std::string_view to_string(errc code) {
  switch (code) {
    case errc::ok:
      return "ok";
    case errc::invalid_argument:
      return "invalid argument";
    case errc::parse:
      return "parse error";
    case errc::not_found:
      return "not found";
    case errc::io:
      return "i/o error";
    case errc::timeout:
      return "timeout";
    case errc::unavailable:
      return "unavailable";
    case errc::protocol:
      return "protocol error";
    case errc::server:
      return "server error";
    case errc::conflict:
      return "conflict";
    case errc::internal:
      return "internal error";
  }
  return "unknown error";
}

}  // namespace sluice
