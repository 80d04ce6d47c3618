// --pseudonymise and its key flags (see privacy_flags.h).
#include "cli/privacy_flags.h"

#include <fmt/format.h>

#include "base/error.h"

namespace sluice::cli {

void add_pseudonym_flags(CLI::App* cmd, pseudonym_flags& flags) {
  cmd->add_option("--pseudonymise", flags.fields,
                  "store these fields as keyed HMAC-SHA-256 pseudonyms, comma separated "
                  "(first_name,last_name,email,phone,gender,address,postcode,username,picture)")
      ->check(CLI::Validator(
          [](const std::string& value) {
            return value.empty() ? std::string("no field named (e.g. email,phone)") : std::string();
          },
          "FIELDS"));
  cmd->add_option("--pseudonym-key-env", flags.key_env,
                  "environment variable holding the pseudonym key (default SLUICE_PSEUDONYM_KEY)");
  cmd->add_option("--pseudonym-key-file", flags.key_file,
                  "file holding the pseudonym key (one trailing newline ignored)");
  cmd->add_option("--pseudonym-key-id", flags.key_id,
                  "id stored with each row to name the key (default: derived from the key)");
}

std::shared_ptr<const privacy::pseudonymiser> make_pseudonymiser(const pseudonym_flags& flags) {
  if (flags.fields.empty()) {
    for (const auto& [flag, value] : {std::pair{"--pseudonym-key-env", &flags.key_env},
                                      {"--pseudonym-key-file", &flags.key_file},
                                      {"--pseudonym-key-id", &flags.key_id}}) {
      if (!value->empty()) throw fatal_error(fmt::format("{} given without --pseudonymise", flag));
    }
    return nullptr;
  }
  if (!flags.key_env.empty() && !flags.key_file.empty()) {
    throw fatal_error("--pseudonym-key-env and --pseudonym-key-file both given: name one source");
  }
  auto fields = privacy::parse_field_list(flags.fields);
  if (!fields) throw fatal_error(fields.err());
  privacy::key_source source{
      flags.key_env.empty() ? std::string(privacy::default_key_env) : flags.key_env,
      flags.key_file};
  if (!flags.key_file.empty()) source.env_name.clear();
  auto key = privacy::read_key(source);
  if (!key) throw fatal_error(key.err());
  auto made = privacy::pseudonymiser::create(std::move(*fields), std::move(*key), flags.key_id);
  if (!made) throw fatal_error(made.err());
  return std::make_shared<const privacy::pseudonymiser>(std::move(*made));
}

}  // namespace sluice::cli
