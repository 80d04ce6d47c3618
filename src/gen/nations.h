// Per-nationality data the generator draws from: names, places and number formats.
#pragma once

#include <string_view>
#include <vector>

namespace sluice::gen {

struct place {
  std::string_view city, state;
};

/// Formats use '#' for a digit, 'A' for an upper-case letter; other characters are kept.
struct nation {
  std::string_view code, country;
  std::string_view phone_format, cell_format, postcode_format;
  std::string_view id_name, id_format;  // empty id_format: randomuser's null id value
  std::vector<std::string_view> male_names, female_names, last_names, streets;
  std::vector<place> places;
};

const std::vector<nation>& nations();

/// Lower-case ASCII transliteration for e-mail addresses ("Zoë Müller" -> "zoe muller").
std::string ascii_fold(std::string_view utf8);

}  // namespace sluice::gen
