// Tests of the randomuser-compatible request parsing and rendering.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/randomuser.h"

namespace sluice::api {
namespace {

web::request query(const std::string& q) {
  web::request r;
  r.method = "GET";
  r.path = "/api/";
  r.query = web::parse_query(q);
  return r;
}

std::string failing_parameter(const std::string& q) {
  auto parsed = parse_request(query(q), "abc");
  if (auto* f = std::get_if<parse_failure>(&parsed)) return f->parameter;
  return "";
}

TEST(RandomuserParse, OutOfRangeOrGarbageValuesNameTheirParameter) {
  EXPECT_EQ(failing_parameter("results=0"), "results");
  EXPECT_EQ(failing_parameter("results=100000"), "results");
  EXPECT_EQ(failing_parameter("results=ten"), "results");
  EXPECT_EQ(failing_parameter("page=0"), "page");
  EXPECT_EQ(failing_parameter("page=-1"), "page");
  EXPECT_EQ(failing_parameter("nat=us,zz"), "nat");
  EXPECT_EQ(failing_parameter("gender=robot"), "gender");
  EXPECT_EQ(failing_parameter("inc=name,shoesize"), "inc");
  EXPECT_EQ(failing_parameter("format=pdf"), "format");
  EXPECT_EQ(failing_parameter("seed=" + std::string(100, 'x')), "seed");
  EXPECT_EQ(failing_parameter("results=5&nat=US,fr&gender=FEMALE&format=csv"), "");
}

TEST(RandomuserParse, IncAndExcSelectTopLevelFields) {
  auto req = std::get<api_request>(parse_request(query("inc=name,email,nat&exc=email"), "s"));
  std::vector<std::string> on;
  for (std::size_t i = 0; i < field_names().size(); ++i) {
    if (req.include[i]) on.push_back(field_names()[i]);
  }
  EXPECT_EQ(on, (std::vector<std::string>{"name", "nat"}));
}

nlohmann::json render_page(const std::string& q) {
  auto req = std::get<api_request>(parse_request(query(q), "fixedseed"));
  gen::generator g({.seed = seed_from_string(req.seed), .nationalities = req.nationalities});
  std::vector<gen::profile> users;
  for (int i = 0; i < req.results; ++i) {
    users.push_back(g.make_profile((req.page - 1) * req.results + i));
    g.fill_login_hashes(users.back());
  }
  std::string out;
  render(req, users, out);
  return nlohmann::json::parse(out);
}

TEST(RandomuserRender, JsonHasRandomusersShapeAndTypes) {
  auto doc = render_page("results=3&seed=abc&nat=us");
  ASSERT_EQ(doc["results"].size(), 3u);
  const auto& u = doc["results"][0];
  EXPECT_TRUE(u["name"]["first"].is_string());
  EXPECT_TRUE(u["location"]["street"]["number"].is_number_integer());
  EXPECT_TRUE(u["location"]["coordinates"]["latitude"].is_string());
  EXPECT_TRUE(u["dob"]["age"].is_number_integer());
  EXPECT_EQ(u["login"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(u["nat"], "US");
  EXPECT_EQ(doc["info"]["seed"], "abc");
  EXPECT_EQ(doc["info"]["results"], 3);
  EXPECT_EQ(doc["info"]["page"], 1);
  EXPECT_EQ(doc["info"]["version"], "1.4");
}

TEST(RandomuserRender, PageTwoContinuesWherePageOneEnded) {
  auto both = render_page("results=4&seed=x");
  auto second = render_page("results=2&seed=x&page=2");
  EXPECT_EQ(both["results"][2], second["results"][0]);
  EXPECT_EQ(both["results"][3], second["results"][1]);
}

TEST(RandomuserRender, CsvHasAHeaderAndOneLinePerUser) {
  auto req = std::get<api_request>(parse_request(query("results=2&format=csv&inc=name,nat"), "s"));
  gen::generator g({.seed = 1});
  std::vector<gen::profile> users = {g.make_profile(0), g.make_profile(1)};
  std::string out;
  render(req, users, out);
  EXPECT_EQ(out.substr(0, out.find('\n')), "name.title,name.first,name.last,nat");
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);
}

TEST(RandomuserRender, PrettyJsonParsesToTheSameDocument) {
  EXPECT_EQ(render_page("results=2&seed=q&format=pretty"), render_page("results=2&seed=q"));
}

}  // namespace
}  // namespace sluice::api
