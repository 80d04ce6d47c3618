// The console's page, embedded in the binary at build time: web/dist (bundled from
// web/ by esbuild) compiled into a generated web_assets.cc by cmake/embed_assets.cmake.
#pragma once

#include <cstddef>
#include <string_view>

namespace sluice::console {

struct asset {
  const char* path;          // "/index.html", "/app.js", ...
  const char* content_type;  // "text/html; charset=utf-8", ...
  const unsigned char* data;
  std::size_t size;
};

/// The embedded file at `path`, or nullptr.
const asset* find_asset(std::string_view path);

}  // namespace sluice::console
