"""Which of the jars that `sluice up` resolved from stack/spark/pom.xml into
.stack/lib/spark go on the job's classpath: all but those pyspark already ships (Scala,
the Hadoop client, slf4j, snappy, lz4, ...), matched by artifact name, so that pyspark's
own versions are the ones loaded. Never `--packages`: that reaches the network."""

from __future__ import annotations

import pathlib
import re

import pyspark

_VERSIONED = re.compile(r"^(?P<artifact>.+?)-(?P<version>[0-9][0-9A-Za-z.+_-]*)\.jar$")


def artifact_name(jar: str) -> str:
    match = _VERSIONED.match(jar)
    return match.group("artifact") if match else jar.removesuffix(".jar")


def pyspark_jars() -> pathlib.Path:
    return pathlib.Path(pyspark.__file__).resolve().parent / "jars"


def extra_jars(jars_dir: pathlib.Path) -> list[str]:
    """Absolute paths of the jars to add; raises FileNotFoundError saying what to run."""
    found = sorted(jars_dir.glob("*.jar")) if jars_dir.is_dir() else []
    if not any(j.name.startswith("spark-sql-kafka") for j in found):
        raise FileNotFoundError(
            f"no Spark Kafka/Avro/Cassandra jars in {jars_dir}: run `sluice up` (it resolves "
            "stack/spark/pom.xml with Maven) or pass --jars-dir"
        )
    shipped = {artifact_name(j.name) for j in pyspark_jars().glob("*.jar")}
    return [str(j) for j in found if artifact_name(j.name) not in shipped]
