// Unit tests for the librdkafka configuration builder: validation of typed settings,
// `key=value` parsing, and errors that name the offending property.
#include <gtest/gtest.h>

#include "kafka/config.h"

namespace sluice::kafka {
namespace {

std::string get(RdKafka::Conf& conf, const std::string& name) {
  std::string value;
  EXPECT_EQ(conf.get(name, value), RdKafka::Conf::CONF_OK) << name;
  return value;
}

TEST(ParseProperty, KeyValueSplitsAtFirstEquals) {
  auto p = parse_property(" sasl.jaas = a=b");
  ASSERT_TRUE(p) << p.err().message;
  EXPECT_EQ(p->name, "sasl.jaas");
  EXPECT_EQ(p->value, " a=b");
}

TEST(ParseProperty, MissingEqualsIsRejectedNamingTheText) {
  auto p = parse_property("linger.ms");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.err().code, errc::invalid_argument);
  EXPECT_NE(p.err().message.find("'linger.ms'"), std::string::npos);
}

TEST(ParseProperty, EmptyKeyIsRejected) {
  EXPECT_FALSE(parse_property("=1"));
}

TEST(BuildConf, ProducerIsIdempotentWithAcksAllAndCompression) {
  producer_settings s;
  s.client.bootstrap_servers = "broker1:9092,broker2:9092";
  s.compression = "zstd";
  s.linger = std::chrono::milliseconds(20);
  auto conf = build_conf(s);
  ASSERT_TRUE(conf) << conf.err().message;
  EXPECT_EQ(get(**conf, "bootstrap.servers"), "broker1:9092,broker2:9092");
  EXPECT_EQ(get(**conf, "enable.idempotence"), "true");
  EXPECT_EQ(get(**conf, "acks"), "-1");  // librdkafka reports "all" as -1
  EXPECT_EQ(get(**conf, "compression.codec"), "zstd");
  EXPECT_EQ(get(**conf, "linger.ms"), "20");
}

TEST(BuildConf, UnknownExtraPropertyIsReportedByName) {
  producer_settings s;
  s.client.extra.push_back({"linger.msec", "5"});
  auto conf = build_conf(s);
  ASSERT_FALSE(conf);
  EXPECT_EQ(conf.err().code, errc::invalid_argument);
  EXPECT_NE(conf.err().message.find("unknown librdkafka property 'linger.msec'"), std::string::npos)
      << conf.err().message;
}

TEST(BuildConf, InvalidExtraValueNamesPropertyAndValue) {
  consumer_settings s;
  s.group_id = "g";
  s.client.extra.push_back({"fetch.wait.max.ms", "soon"});
  auto conf = build_conf(s);
  ASSERT_FALSE(conf);
  EXPECT_NE(conf.err().message.find("'fetch.wait.max.ms' = 'soon'"), std::string::npos)
      << conf.err().message;
}

TEST(BuildConf, ExtraPropertiesOverrideTypedFields) {
  producer_settings s;
  s.client.extra.push_back({"linger.ms", "50"});
  auto conf = build_conf(s);
  ASSERT_TRUE(conf) << conf.err().message;
  EXPECT_EQ(get(**conf, "linger.ms"), "50");
}

TEST(BuildConf, ScramSettingsPassThrough) {
  client_settings s;
  s.security.protocol = "SASL_SSL";
  s.security.sasl_mechanism = "SCRAM-SHA-512";
  s.security.sasl_username = "alice";
  s.security.sasl_password = "secret";
  s.security.ssl_ca_location = "/etc/ssl/certs/ca.pem";
  auto conf = build_conf(s);
  ASSERT_TRUE(conf) << conf.err().message;
  EXPECT_EQ(get(**conf, "security.protocol"), "sasl_ssl");
  EXPECT_EQ(get(**conf, "sasl.mechanisms"), "SCRAM-SHA-512");
  EXPECT_EQ(get(**conf, "sasl.username"), "alice");
  EXPECT_EQ(get(**conf, "ssl.ca.location"), "/etc/ssl/certs/ca.pem");
}

TEST(Validate, SaslWithoutCredentialsIsRejected) {
  client_settings s;
  s.security.protocol = "sasl_plaintext";
  s.security.sasl_mechanism = "SCRAM-SHA-256";
  auto r = validate(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().message.find("username and a password"), std::string::npos);
}

TEST(Validate, UnknownSecurityProtocolIsNamed) {
  client_settings s;
  s.security.protocol = "tls";
  auto r = validate(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().message.find("'tls'"), std::string::npos);
}

TEST(Validate, SaslMechanismWithoutSaslProtocolIsRejected) {
  client_settings s;
  s.security.sasl_mechanism = "PLAIN";
  EXPECT_FALSE(validate(s));
}

TEST(Validate, EmptyBootstrapIsRejected) {
  client_settings s;
  s.bootstrap_servers = "  ";
  EXPECT_FALSE(validate(s));
}

TEST(Validate, ConsumerNeedsGroupAndKnownStrategy) {
  consumer_settings s;
  EXPECT_FALSE(validate(s));
  s.group_id = "processors";
  EXPECT_TRUE(validate(s));
  s.assignment_strategy = "sticky";
  auto r = validate(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().message.find("'sticky'"), std::string::npos);
}

TEST(Validate, ProducerRejectsUnknownCompression) {
  producer_settings s;
  s.compression = "brotli";
  auto r = validate(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().message.find("'brotli'"), std::string::npos);
}

TEST(BuildConf, ConsumerNeverAutoCommits) {
  consumer_settings s;
  s.group_id = "processors";
  auto conf = build_conf(s);
  ASSERT_TRUE(conf) << conf.err().message;
  EXPECT_EQ(get(**conf, "enable.auto.commit"), "false");
  EXPECT_EQ(get(**conf, "partition.assignment.strategy"), "cooperative-sticky");
  EXPECT_EQ(get(**conf, "group.id"), "processors");
}

}  // namespace
}  // namespace sluice::kafka
