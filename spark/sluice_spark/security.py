"""Credentials and TLS for the job's connections, with the flags `sluice process` uses:
Kafka SASL (PLAIN or SCRAM) over TLS, registry basic auth, Cassandra password and TLS.

Passwords come from files or environment variables, never from a flag's value, and stay
out of Spark's plan and settings where Spark would show them: the Kafka login goes to
the JVM as a JAAS file (0600, in a private folder) named by a system property; the
Cassandra connector's password is a Spark setting, which Spark redacts by name."""

from __future__ import annotations

import argparse
import base64
import dataclasses
import os
import pathlib
import subprocess
import tempfile

PROTOCOLS = ("plaintext", "ssl", "sasl_plaintext", "sasl_ssl")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


class SecurityError(ValueError):
    """A credential flag the job cannot use; the message names the flag, never a secret."""


@dataclasses.dataclass(frozen=True)
class Security:
    kafka_protocol: str = "plaintext"
    kafka_mechanism: str | None = None
    kafka_user: str | None = None
    kafka_password: str | None = dataclasses.field(default=None, repr=False)
    kafka_ca: pathlib.Path | None = None
    registry_user: str | None = None
    registry_password: str | None = dataclasses.field(default=None, repr=False)
    cassandra_user: str | None = None
    cassandra_password: str | None = dataclasses.field(default=None, repr=False)
    cassandra_ca: pathlib.Path | None = None

    @property
    def kafka_sasl(self) -> bool:
        return self.kafka_protocol.startswith("sasl_")

    @property
    def kafka_tls(self) -> bool:
        return self.kafka_protocol in ("ssl", "sasl_ssl")


def add_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "credentials and TLS (as `sluice process`)",
        "passwords from a file or an environment variable, never a flag's value",
    )
    g.add_argument("--kafka-security-protocol", type=str.lower, choices=PROTOCOLS)
    g.add_argument("--kafka-sasl-mechanism", type=str.upper, choices=MECHANISMS)
    g.add_argument("--kafka-user")
    g.add_argument("--kafka-password-file", type=pathlib.Path)
    g.add_argument("--kafka-password-env", default="SLUICE_KAFKA_PASSWORD")
    g.add_argument("--kafka-ca", type=pathlib.Path, help="PEM CA of the brokers")
    g.add_argument("--registry-user")
    g.add_argument("--registry-password-file", type=pathlib.Path)
    g.add_argument("--registry-password-env", default="SLUICE_REGISTRY_PASSWORD")
    g.add_argument("--cassandra-user")
    g.add_argument("--cassandra-password-env", default="SLUICE_CQL_PASSWORD")
    g.add_argument("--cassandra-password-file", type=pathlib.Path)
    g.add_argument("--cassandra-tls-ca", type=pathlib.Path, help="PEM CA of the nodes")


def _password(user_flag: str, file: pathlib.Path | None, file_flag: str, env: str) -> str:
    if file is not None:
        try:
            text = file.read_text().split("\n", 1)[0]
        except OSError as e:
            raise SecurityError(f"{file_flag}: cannot read {file}: {e.strerror}") from None
        if not text:
            raise SecurityError(f"{file_flag}: {file} is empty")
        return text
    value = os.environ.get(env, "")
    if not value:
        raise SecurityError(
            f"{user_flag} needs a password: give {file_flag} or set the environment variable {env}"
        )
    return value


def _existing(path: pathlib.Path | None, flag: str) -> pathlib.Path | None:
    if path is not None and not path.is_file():
        raise SecurityError(f"{flag}: no such file {path}")
    return path


def load(ns: argparse.Namespace) -> Security:
    """The flags' meaning, passwords read; SecurityError names the flag at fault."""
    protocol = ns.kafka_security_protocol or ("sasl_ssl" if ns.kafka_user else "plaintext")
    kafka_password = None
    if ns.kafka_user:
        if not protocol.startswith("sasl_"):
            raise SecurityError(
                f"--kafka-user needs a SASL --kafka-security-protocol, got {protocol}"
            )
        kafka_password = _password(
            "--kafka-user", ns.kafka_password_file, "--kafka-password-file", ns.kafka_password_env
        )
    elif protocol.startswith("sasl_"):
        raise SecurityError(f"--kafka-security-protocol {protocol} needs --kafka-user")
    registry_password = None
    if ns.registry_user:
        registry_password = _password(
            "--registry-user",
            ns.registry_password_file,
            "--registry-password-file",
            ns.registry_password_env,
        )
    cassandra_password = None
    if ns.cassandra_user:
        cassandra_password = _password(
            "--cassandra-user",
            ns.cassandra_password_file,
            "--cassandra-password-file",
            ns.cassandra_password_env,
        )
    return Security(
        kafka_protocol=protocol,
        kafka_mechanism=ns.kafka_sasl_mechanism or ("PLAIN" if ns.kafka_user else None),
        kafka_user=ns.kafka_user,
        kafka_password=kafka_password,
        kafka_ca=_existing(ns.kafka_ca, "--kafka-ca"),
        registry_user=ns.registry_user,
        registry_password=registry_password,
        cassandra_user=ns.cassandra_user,
        cassandra_password=cassandra_password,
        cassandra_ca=_existing(ns.cassandra_tls_ca, "--cassandra-tls-ca"),
    )


def librdkafka_settings(s: Security) -> dict[str, str]:
    """confluent-kafka (librdkafka) settings for the job's own group and admin clients."""
    conf = {"security.protocol": s.kafka_protocol}
    if s.kafka_sasl:
        conf |= {
            "sasl.mechanisms": s.kafka_mechanism or "PLAIN",
            "sasl.username": s.kafka_user or "",
            "sasl.password": s.kafka_password or "",
        }
    if s.kafka_tls and s.kafka_ca is not None:
        conf["ssl.ca.location"] = str(s.kafka_ca)
    return conf


def spark_kafka_options(s: Security) -> dict[str, str]:
    """Options of Spark's Kafka source and sink (the `kafka.` prefix is the Java client's):
    no password here; the login is in the JAAS file of `jaas_file`."""
    options = {"kafka.security.protocol": s.kafka_protocol.upper()}
    if s.kafka_sasl:
        options["kafka.sasl.mechanism"] = s.kafka_mechanism or "PLAIN"
    if s.kafka_tls and s.kafka_ca is not None:
        options["kafka.ssl.truststore.type"] = "PEM"
        options["kafka.ssl.truststore.location"] = str(s.kafka_ca)
    return options


def _java_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def jaas_file(s: Security, folder: pathlib.Path) -> pathlib.Path | None:
    """The Java Kafka clients' login (section KafkaClient) in a 0600 file, or None without
    SASL. The JVM reads it through -Djava.security.auth.login.config."""
    if not s.kafka_sasl:
        return None
    module = (
        "org.apache.kafka.common.security.plain.PlainLoginModule"
        if (s.kafka_mechanism or "PLAIN") == "PLAIN"
        else "org.apache.kafka.common.security.scram.ScramLoginModule"
    )
    path = folder / "kafka-client.jaas"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(
            f"KafkaClient {{\n  {module} required\n"
            f"  username={_java_string(s.kafka_user or '')}\n"
            f"  password={_java_string(s.kafka_password or '')};\n}};\n"
        )
    return path


def private_folder() -> pathlib.Path:
    return pathlib.Path(tempfile.mkdtemp(prefix="sluice-spark-secrets-"))  # 0700


def cassandra_truststore(ca: pathlib.Path, folder: pathlib.Path) -> tuple[pathlib.Path, str]:
    """A PKCS12 truststore holding the PEM CA (the connector reads no PEM), made with the
    JDK's keytool; its password (protecting only a public certificate) goes on keytool's
    environment, not its command line."""
    store = folder / "cassandra-truststore.p12"
    password = base64.urlsafe_b64encode(os.urandom(18)).decode()
    keytool = pathlib.Path(os.environ.get("JAVA_HOME", "/usr")) / "bin" / "keytool"
    made = subprocess.run(
        [str(keytool), "-importcert", "-noprompt", "-alias", "sluice-ca", "-file", str(ca)]
        + ["-keystore", str(store), "-storetype", "PKCS12", "-storepass:env", "SLUICE_STORE"],
        env={**os.environ, "SLUICE_STORE": password},
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        raise SecurityError(f"--cassandra-tls-ca: keytool could not read {ca}: {made.stdout}")
    return store, password


def cassandra_settings(s: Security, folder: pathlib.Path) -> dict[str, str]:
    """spark.cassandra.* settings for the user, password and TLS."""
    settings: dict[str, str] = {}
    if s.cassandra_user:
        settings["spark.cassandra.auth.username"] = s.cassandra_user
        settings["spark.cassandra.auth.password"] = s.cassandra_password or ""
    if s.cassandra_ca is not None:
        store, password = cassandra_truststore(s.cassandra_ca, folder)
        settings |= {
            "spark.cassandra.connection.ssl.enabled": "true",
            "spark.cassandra.connection.ssl.trustStore.path": str(store),
            "spark.cassandra.connection.ssl.trustStore.type": "PKCS12",
            "spark.cassandra.connection.ssl.trustStore.password": password,
        }
    return settings


def registry_headers(s: Security) -> dict[str, str]:
    if not s.registry_user:
        return {}
    token = base64.b64encode(f"{s.registry_user}:{s.registry_password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}
