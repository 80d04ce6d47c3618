"""The job's credential flags: what they mean, what they refuse (naming the flag, never
the secret), and where a password may and may not go."""

from __future__ import annotations

import pathlib
import stat

import pytest
from sluice_spark import config, security


def parse(*args: str) -> config.JobConfig:
    return config.parse_args(list(args))


def test_no_credential_flags_mean_a_plain_connection_everywhere() -> None:
    s = parse().security
    assert s.kafka_protocol == "plaintext" and not s.kafka_sasl
    assert security.librdkafka_settings(s) == {"security.protocol": "plaintext"}
    assert security.spark_kafka_options(s) == {"kafka.security.protocol": "PLAINTEXT"}
    assert security.registry_headers(s) == {}
    assert security.jaas_file(s, pathlib.Path("/nonexistent")) is None


def test_kafka_user_reads_the_password_file_and_keeps_it_out_of_spark_options(
    tmp_path: pathlib.Path,
) -> None:
    password = tmp_path / "kafka.password"
    password.write_text("s3cret-kafka\nignored second line\n")
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    s = parse(
        "--kafka-user",
        "sluice",
        "--kafka-sasl-mechanism",
        "scram-sha-512",
        "--kafka-password-file",
        str(password),
        "--kafka-ca",
        str(ca),
    ).security
    assert s.kafka_protocol == "sasl_ssl" and s.kafka_mechanism == "SCRAM-SHA-512"
    assert security.librdkafka_settings(s)["sasl.password"] == "s3cret-kafka"
    options = security.spark_kafka_options(s)
    assert options["kafka.sasl.mechanism"] == "SCRAM-SHA-512"
    assert options["kafka.ssl.truststore.location"] == str(ca)
    assert "s3cret-kafka" not in repr(options) and "s3cret-kafka" not in repr(s)
    jaas = security.jaas_file(s, tmp_path)
    assert jaas is not None
    text = jaas.read_text()
    assert "ScramLoginModule required" in text and 'password="s3cret-kafka";' in text
    assert stat.S_IMODE(jaas.stat().st_mode) == 0o600


def test_plain_mechanism_uses_the_plain_login_module_and_quotes_the_password(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICE_KAFKA_PASSWORD", 'a"b\\c')
    s = parse("--kafka-user", "sluice").security
    assert s.kafka_mechanism == "PLAIN"
    jaas = security.jaas_file(s, tmp_path)
    assert jaas is not None
    assert "PlainLoginModule required" in jaas.read_text()
    assert 'password="a\\"b\\\\c";' in jaas.read_text()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--kafka-user", "sluice"], "--kafka-user needs a password"),
        (["--kafka-security-protocol", "sasl_ssl"], "needs --kafka-user"),
        (
            ["--kafka-user", "u", "--kafka-security-protocol", "ssl"],
            "--kafka-user needs a SASL",
        ),
        (["--kafka-user", "u", "--kafka-password-file", "/nonexistent/pw"], "cannot read"),
        (["--registry-user", "u"], "SLUICE_REGISTRY_PASSWORD"),
        (["--cassandra-user", "u"], "SLUICE_CQL_PASSWORD"),
        (["--kafka-ca", "/nonexistent/ca.pem"], "--kafka-ca: no such file"),
        (["--cassandra-tls-ca", "/nonexistent/ca.pem"], "--cassandra-tls-ca: no such file"),
    ],
)
def test_an_unusable_credential_flag_is_refused_naming_it(
    args: list[str], says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SLUICE_KAFKA_PASSWORD", "SLUICE_REGISTRY_PASSWORD", "SLUICE_CQL_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(config.ConfigError, match=says):
        parse(*args)


def test_an_empty_password_file_is_refused_naming_the_flag(tmp_path: pathlib.Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    with pytest.raises(config.ConfigError, match="--registry-password-file: .* is empty"):
        parse("--registry-user", "u", "--registry-password-file", str(empty))


def test_registry_user_becomes_a_basic_authorization_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLUICE_REGISTRY_PASSWORD", "pw:with:colons")
    s = parse("--registry-user", "sluice").security
    # base64 of "sluice:pw:with:colons"
    assert security.registry_headers(s) == {"Authorization": "Basic c2x1aWNlOnB3OndpdGg6Y29sb25z"}


def test_cassandra_password_comes_from_its_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTHER_VAR", "cql-pw")
    s = parse("--cassandra-user", "sluice", "--cassandra-password-env", "OTHER_VAR").security
    settings = security.cassandra_settings(s, pathlib.Path("/nonexistent"))
    assert settings == {
        "spark.cassandra.auth.username": "sluice",
        "spark.cassandra.auth.password": "cql-pw",
    }


def test_cassandra_password_file_wins_over_the_environment(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICE_CQL_PASSWORD", "from-env")
    secret = tmp_path / "cql.password"
    secret.write_text("from-file\n")
    s = parse("--cassandra-user", "sluice", "--cassandra-password-file", str(secret)).security
    assert s.cassandra_password == "from-file"
    assert "from-file" not in repr(s)
