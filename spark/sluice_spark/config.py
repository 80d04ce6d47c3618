"""The Spark job's settings: command-line flags named like `sluice process`'s where they
mean the same, each checked with a message that names the flag and the value."""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import re
from collections.abc import Callable, Sequence

from sluice_spark import pseudonym, security

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


class ConfigError(ValueError):
    """A flag or a value the job cannot run with; the message names it."""


@dataclasses.dataclass(frozen=True)
class JobConfig:
    bootstrap: str = "127.0.0.1:9092"
    topic: str = "users.raw"
    dlq_topic: str = "users.dlq"
    group: str = "sluice-spark"
    registry: str = "http://127.0.0.1:8081"
    cassandra_host: str = "127.0.0.1"
    cassandra_port: int = 9042
    keyspace: str = "sluice"
    rules: pathlib.Path = REPO_ROOT / "contract" / "rules.yaml"
    checkpoint: pathlib.Path = REPO_ROOT / ".stack" / "data" / "spark" / "checkpoint"
    master: str = "local[*]"
    jars_dir: pathlib.Path = REPO_ROOT / ".stack" / "lib" / "spark"
    metrics_port: int = 9472
    trigger_ms: int = 500
    max_offsets_per_trigger: int = 0  # 0: no limit
    shuffle_partitions: int = 2
    max_value_bytes: int = 1_048_576
    dlq_max_bytes: int = 0  # 0: the dead-letter topic's max.message.bytes
    starting_offsets: str = "earliest"
    stop_at_end: bool = False
    idle_exit: float = 5.0
    executor_memory: str = "1g"
    driver_memory: str = "1g"
    conf: tuple[str, ...] = ()  # extra Spark settings, KEY=VALUE
    pseudonymise: str | None = None  # the flags as given; `pseudonymisation`: their meaning
    pseudonym_key_file: pathlib.Path | None = None
    pseudonym_key_env: str | None = None
    pseudonym_key_id: str | None = None
    pseudonymisation: pseudonym.Pseudonymisation | None = None  # fields, key id, key (hidden)
    security: security.Security = security.Security()  # credentials and TLS (hidden)


def _positive(name: str, minimum: int = 1) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} wants an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{name} must be at least {minimum}, got {value}")
        return value

    return parse


def _memory(text: str) -> str:
    if not re.fullmatch(r"[0-9]+[mg]", text):
        raise argparse.ArgumentTypeError(f"memory sizes are digits then m or g, got {text!r}")
    return text


def _master(text: str) -> str:
    if re.fullmatch(r"local(\[(\*|[0-9]+)\])?", text) or re.fullmatch(
        r"spark://[^\s:/]+:[0-9]+", text
    ):
        return text
    raise argparse.ArgumentTypeError(
        f"--master must be local, local[N], local[*] or spark://HOST:PORT, got {text!r}"
    )


def _registry_url(text: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+(/.*)?", text):
        raise argparse.ArgumentTypeError(f"--registry wants an http(s) URL, got {text!r}")
    return text.rstrip("/")


def _spark_setting(text: str) -> str:
    key, eq, _ = text.partition("=")
    if not eq or not re.fullmatch(r"spark\.[A-Za-z0-9._-]+", key):
        raise argparse.ArgumentTypeError(f"--conf wants spark.KEY=VALUE, got {text!r}")
    return text


def build_parser() -> argparse.ArgumentParser:
    d = JobConfig()
    p = argparse.ArgumentParser(
        prog="sluice spark",
        description="Spark Structured Streaming processor: users.raw -> validate -> "
        "Cassandra or the dead-letter topic (the same contract as `sluice process`)",
    )
    p.add_argument("--bootstrap", default=d.bootstrap, help="Kafka bootstrap servers")
    p.add_argument("--topic", default=d.topic, help="raw topic to consume")
    p.add_argument("--dlq-topic", default=d.dlq_topic, help="dead-letter topic")
    p.add_argument("--group", default=d.group, help="consumer group the job commits to")
    p.add_argument("--registry", type=_registry_url, default=d.registry, help="registry URL")
    p.add_argument("--cassandra-host", default=d.cassandra_host, help="contact point(s)")
    p.add_argument("--cassandra-port", type=_positive("--cassandra-port"), default=d.cassandra_port)
    p.add_argument("--keyspace", default=d.keyspace, help="keyspace holding `users`")
    p.add_argument("--rules", type=pathlib.Path, default=d.rules, help="contract rules file")
    p.add_argument("--checkpoint", type=pathlib.Path, default=d.checkpoint)
    p.add_argument("--master", type=_master, default=d.master, help="local[*] or spark://H:P")
    p.add_argument("--jars-dir", type=pathlib.Path, default=d.jars_dir)
    p.add_argument("--metrics-port", type=_positive("--metrics-port", 0), default=d.metrics_port)
    p.add_argument("--trigger-ms", type=_positive("--trigger-ms", 0), default=d.trigger_ms)
    p.add_argument(
        "--max-offsets-per-trigger",
        type=_positive("--max-offsets-per-trigger", 0),
        default=d.max_offsets_per_trigger,
        help="records per micro-batch at most (0: all available)",
    )
    p.add_argument(
        "--shuffle-partitions",
        type=_positive("--shuffle-partitions"),
        default=d.shuffle_partitions,
    )
    p.add_argument(
        "--max-value-bytes", type=_positive("--max-value-bytes"), default=d.max_value_bytes
    )
    p.add_argument("--dlq-max-bytes", type=_positive("--dlq-max-bytes", 0), default=0)
    p.add_argument(
        "--starting-offsets",
        choices=["earliest", "latest"],
        default=d.starting_offsets,
        help="where a new checkpoint starts",
    )
    p.add_argument(
        "--stop-at-end", action="store_true", help="exit once the topic is drained (tests)"
    )
    p.add_argument("--idle-exit", type=float, default=d.idle_exit)
    p.add_argument("--executor-memory", type=_memory, default=d.executor_memory)
    p.add_argument("--driver-memory", type=_memory, default=d.driver_memory)
    p.add_argument(
        "--conf",
        action="append",
        type=_spark_setting,
        default=[],
        help="extra Spark setting KEY=VALUE (repeatable), e.g. "
        "spark.cassandra.output.concurrent.writes=10",
    )
    g = p.add_argument_group(
        "pseudonymisation (as `sluice process`)",
        "chosen fields of valid rows stored as HMAC-SHA-256(key, value) in lowercase hex; "
        "the rules judge the raw values and dead letters keep the raw bytes",
    )
    g.add_argument(
        "--pseudonymise",
        metavar="LIST",
        help="comma-separated fields: " + ", ".join(pseudonym.ALLOWED_FIELDS),
    )
    g.add_argument(
        "--pseudonym-key-file",
        type=pathlib.Path,
        metavar="PATH",
        help="the key: this file's bytes (one trailing newline dropped)",
    )
    g.add_argument(
        "--pseudonym-key-env",
        metavar="NAME",
        help=f"the key: this environment variable (default {pseudonym.DEFAULT_KEY_ENV})",
    )
    g.add_argument(
        "--pseudonym-key-id",
        metavar="ID",
        help="stored in pseudonym_key_id (default: derived from the key)",
    )
    security.add_flags(p)
    return p


def parse_args(argv: Sequence[str]) -> JobConfig:
    ns = build_parser().parse_args(list(argv))
    values = {
        f.name: getattr(ns, f.name)
        for f in dataclasses.fields(JobConfig)
        if f.name not in ("pseudonymisation", "security")
    }
    values["conf"] = tuple(values["conf"])
    try:
        values["pseudonymisation"] = pseudonym.load(
            ns.pseudonymise, ns.pseudonym_key_file, ns.pseudonym_key_env, ns.pseudonym_key_id
        )
    except pseudonym.PseudonymError as e:
        raise ConfigError(str(e)) from None
    try:
        values["security"] = security.load(ns)
    except security.SecurityError as e:
        raise ConfigError(str(e)) from None
    config = JobConfig(**values)
    if not config.rules.is_file():
        raise ConfigError(f"--rules: no such file {config.rules}")
    if config.idle_exit <= 0:
        raise ConfigError(f"--idle-exit must be positive, got {config.idle_exit}")
    return config
