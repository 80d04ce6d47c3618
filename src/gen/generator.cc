// Profile generation: a per-record pseudo-random stream derived from (seed, index),
// drawn into names, places, dates and formats of the chosen nationality.
//
// The PRNG is hand-written (splitmix64) on purpose: the standard library's
// distributions differ between implementations, and the output must be identical on
// every machine for a given seed.
#include "gen/generator.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "base/error.h"
#include "gen/nations.h"
#include "rules/rules.h"

namespace sluice::gen {
namespace {

class prng {
 public:
  prng(std::uint64_t seed, std::uint64_t index) : state_(mix(seed ^ mix(index + 0x9E37))) {}
  std::uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    return mix(state_);
  }
  /// Uniform in [0, n).
  std::uint64_t below(std::uint64_t n) { return n ? next() % n : 0; }
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)));
  }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[below(items.size())];
  }

 private:
  static std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
};

constexpr std::string_view adjectives[] = {"happy",   "silver", "lazy",   "brave",  "tiny",
                                           "crazy",   "purple", "golden", "quiet",  "wild",
                                           "smart",   "heavy",  "angry",  "sad",    "beautiful",
                                           "organic", "blue",   "red",    "yellow", "black"};
constexpr std::string_view animals[] = {"tiger",   "bear",      "rabbit",  "goose",    "lion",
                                        "wolf",    "fish",      "swan",    "panda",    "koala",
                                        "peacock", "butterfly", "frog",    "elephant", "dog",
                                        "cat",     "duck",      "leopard", "owl",      "snake"};
constexpr std::string_view passwords[] = {
    "sunshine", "dragon", "monkey",   "shadow", "master", "qwerty", "freedom", "trustno1",
    "letmein",  "pepper", "whatever", "hunter", "soccer", "summer", "cookie",  "batman"};
struct zone {
  std::string_view offset, description;
};
constexpr zone zones[] = {{"-10:00", "Hawaii"},
                          {"-8:00", "Pacific Time (US & Canada)"},
                          {"-5:00", "Eastern Time (US & Canada), Bogota, Lima"},
                          {"-3:00", "Brazil, Buenos Aires, Georgetown"},
                          {"0:00", "Western Europe Time, London, Lisbon, Casablanca"},
                          {"+1:00", "Brussels, Copenhagen, Madrid, Paris"},
                          {"+2:00", "Kaliningrad, South Africa"},
                          {"+5:30", "Bombay, Calcutta, Madras, New Delhi"},
                          {"+8:00", "Beijing, Perth, Singapore, Hong Kong"},
                          {"+10:00", "Eastern Australia, Guam, Vladivostok"}};

std::string fill_format(std::string_view format, prng& rng) {
  std::string out(format);
  for (auto& c : out) {
    if (c == '#') {
      c = static_cast<char>('0' + rng.below(10));
    } else if (c == 'A') {
      c = static_cast<char>('A' + rng.below(26));
    }
  }
  return out;
}

/// Draws exactly what fill_format would, without building the string (same stream).
void skip_format(std::string_view format, prng& rng) {
  for (char c : format) {
    if (c == '#' || c == 'A') (void)rng.next();
  }
}

std::string iso_instant(std::int64_t seconds, int millis) {
  std::int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  std::int64_t rem = seconds - days * 86400;
  // civil_from_days (H. Hinnant)
  std::int64_t z = days + 719468;
  std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  std::int64_t doe = z - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = yoe + era * 400;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153;
  std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  return fmt::format(FMT_COMPILE("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z"), y, m, d, rem / 3600,
                     rem / 60 % 60, rem % 60, millis);
}

int years_between(std::int64_t from_seconds, std::int64_t to_seconds) {
  return static_cast<int>((to_seconds - from_seconds) / (365.2425 * 86400));
}

std::string uuid_v4(prng& rng) {
  std::uint64_t hi = rng.next(), lo = rng.next();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  return fmt::format(FMT_COMPILE("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}"), hi >> 32,
                     (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48, lo & 0xFFFFFFFFFFFFULL);
}

std::string hex_digest(const EVP_MD* md, const std::string& input) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest, &length, md, nullptr);
  std::string out;
  out.reserve(length * 2);
  static constexpr char hex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 0xF]);
  }
  return out;
}

}  // namespace

const std::vector<std::string>& supported_nationalities() {
  static const std::vector<std::string> codes = [] {
    std::vector<std::string> out;
    for (const auto& n : nations()) out.emplace_back(n.code);
    return out;
  }();
  return codes;
}

generator::generator(options opts) : opts_(std::move(opts)) {
  if (!(opts_.bad_ratio >= 0.0 && opts_.bad_ratio <= 1.0)) {
    throw fatal_error(fmt::format("--bad-ratio: '{}' is outside 0..1", opts_.bad_ratio));
  }
  if (opts_.gender && *opts_.gender != "male" && *opts_.gender != "female") {
    throw fatal_error(fmt::format("--gender: '{}' is not male or female", *opts_.gender));
  }
  auto as_of = rules::parse_date_days(opts_.as_of);
  if (!as_of) throw fatal_error(fmt::format("--as-of: {}", as_of.err().message));
  as_of_seconds_ = static_cast<std::int64_t>(*as_of) * 86400;
  const auto& all = nations();
  for (const auto& code : opts_.nationalities) {
    std::string upper;
    for (char c : code)
      upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    auto it =
        std::find_if(all.begin(), all.end(), [&](const nation& n) { return n.code == upper; });
    if (it == all.end()) {
      throw fatal_error(fmt::format("--nat: '{}' is not a known nationality (known: {})", code,
                                    fmt::join(supported_nationalities(), ", ")));
    }
    nat_indices_.push_back(static_cast<std::size_t>(it - all.begin()));
  }
  if (nat_indices_.empty()) {
    for (std::size_t i = 0; i < all.size(); ++i) nat_indices_.push_back(i);
  }
}

profile generator::make_profile(std::uint64_t index) const {
  return build(index, true);
}

// `full` = false skips formatting what the contract record does not carry (coordinates,
// cell, id value, picture variants) but draws the same random numbers, so
// to_record(make_profile(i)) == make_record(i).record always holds.
profile generator::build(std::uint64_t index, bool full) const {
  prng rng(opts_.seed, index);
  const nation& nat = nations()[nat_indices_[rng.below(nat_indices_.size())]];
  profile p;
  p.nat = std::string(nat.code);
  bool female = opts_.gender ? *opts_.gender == "female" : rng.below(2) == 0;
  p.gender = female ? "female" : "male";
  p.name.first = std::string(rng.pick(female ? nat.female_names : nat.male_names));
  p.name.last = std::string(rng.pick(nat.last_names));
  static constexpr std::string_view female_titles[] = {"Ms", "Mrs", "Miss", "Madame"};
  p.name.title = female ? std::string(female_titles[rng.below(3)]) : "Mr";

  const place& where = rng.pick(nat.places);
  p.location.street_number = static_cast<int>(rng.between(1, 9999));
  p.location.street_name = std::string(rng.pick(nat.streets));
  p.location.city = std::string(where.city);
  p.location.state = std::string(where.state);
  p.location.country = std::string(nat.country);
  p.location.postcode = fill_format(nat.postcode_format, rng);
  double latitude = rng.unit() * 180.0 - 90.0;
  double longitude = rng.unit() * 360.0 - 180.0;
  if (full) {
    p.location.latitude = fmt::format(FMT_COMPILE("{:.4f}"), latitude);
    p.location.longitude = fmt::format(FMT_COMPILE("{:.4f}"), longitude);
  }
  const zone& tz = zones[rng.below(std::size(zones))];
  p.location.timezone_offset = std::string(tz.offset);
  p.location.timezone_description = std::string(tz.description);

  std::string local = ascii_fold(p.name.first) + "." + ascii_fold(p.name.last);
  local.erase(std::remove(local.begin(), local.end(), ' '), local.end());
  p.email = local + "@example.com";

  p.login.uuid = uuid_v4(rng);
  p.login.username =
      fmt::format(FMT_COMPILE("{}{}{}"), adjectives[rng.below(std::size(adjectives))],
                  animals[rng.below(std::size(animals))], rng.between(100, 999));
  p.login.password = std::string(passwords[rng.below(std::size(passwords))]);

  constexpr std::int64_t year = 31556952;  // average Gregorian year in seconds
  std::int64_t dob = rng.between(as_of_seconds_ - 91 * year + 86400, as_of_seconds_ - 18 * year);
  p.dob_date = iso_instant(dob, static_cast<int>(rng.below(1000)));
  p.dob_age = years_between(dob, as_of_seconds_);
  constexpr std::int64_t registration_start = 1009843200;  // 2002-01-01
  std::int64_t latest_registration = as_of_seconds_ - 86400;
  std::int64_t registered = rng.between(registration_start, latest_registration);
  if (registered < dob) {
    // Nobody registers before being born: a draw before the birth moves, without another
    // draw (so every other user and field stays as it was), into the years after the
    // user's 13th birthday.
    std::int64_t earliest = std::max(registration_start, dob + 13 * year);
    registered = earliest + (registered - registration_start) %
                                std::max<std::int64_t>(1, latest_registration - earliest);
  }
  p.registered_date = iso_instant(registered, static_cast<int>(rng.below(1000)));
  p.registered_age = years_between(registered, as_of_seconds_);

  p.phone = fill_format(nat.phone_format, rng);
  if (full) {
    p.cell = fill_format(nat.cell_format, rng);
  } else {
    skip_format(nat.cell_format, rng);
  }
  p.id_name = std::string(nat.id_name);
  if (full) {
    p.id_value = fill_format(nat.id_format, rng);
  } else {
    skip_format(nat.id_format, rng);
  }

  auto folder = female ? "women" : "men";
  auto number = rng.below(100);
  p.picture_large =
      fmt::format(FMT_COMPILE("https://randomuser.me/api/portraits/{}/{}.jpg"), folder, number);
  if (!full) return p;
  p.picture_medium =
      fmt::format(FMT_COMPILE("https://randomuser.me/api/portraits/med/{}/{}.jpg"), folder, number);
  p.picture_thumbnail = fmt::format(
      FMT_COMPILE("https://randomuser.me/api/portraits/thumb/{}/{}.jpg"), folder, number);
  return p;
}

void generator::fill_login_hashes(profile& p) const {
  prng rng(opts_.seed ^ 0x5A17, std::hash<std::string>{}(p.login.uuid));
  static constexpr std::string_view alphabet =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  p.login.salt.clear();
  for (int i = 0; i < 8; ++i) p.login.salt.push_back(alphabet[rng.below(alphabet.size())]);
  std::string salted = p.login.password + p.login.salt;
  // Fetched once: OpenSSL 3 looks the algorithm up on every EVP_md5() call otherwise.
  static const EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  static const EVP_MD* const sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  static const EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  p.login.md5 = hex_digest(md5, salted);
  p.login.sha1 = hex_digest(sha1, salted);
  p.login.sha256 = hex_digest(sha256, salted);
}

model::user_record to_record(const profile& p) {
  using model::field;
  model::user_record r;
  r.set(field::id, p.login.uuid);
  r.set(field::first_name, p.name.first);
  r.set(field::last_name, p.name.last);
  r.set(field::email, p.email);
  r.set(field::phone, p.phone);
  r.set(field::gender, p.gender);
  r.set(field::dob, p.dob_date.substr(0, 10));
  r.set(field::address,
        fmt::format(FMT_COMPILE("{} {}, {}, {}, {}"), p.location.street_number,
                    p.location.street_name, p.location.city, p.location.state, p.location.country));
  r.set(field::postcode, p.location.postcode);
  r.set(field::username, p.login.username);
  r.set(field::registered_date, p.registered_date);
  r.set(field::picture, p.picture_large);
  return r;
}

generated generator::make_record(std::uint64_t index) const {
  generated out;
  out.record = to_record(build(index, false));
  if (opts_.bad_ratio > 0.0) {
    prng rng(opts_.seed ^ 0xBADBADBADULL, index);
    if (rng.unit() < opts_.bad_ratio) {
      const auto& kinds = all_bad_kinds();
      out.kind = kinds[rng.below(kinds.size())];
      inject(out.kind, out.record);
    }
  }
  return out;
}

}  // namespace sluice::gen
