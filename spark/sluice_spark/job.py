"""Entry point of the Spark Structured Streaming processor (`sluice spark`):
users.raw -> decode -> validate -> `sluice.users` (Cassandra) or `users.dlq`, the same
contract and the same output as `sluice process`, one streaming query whose
`foreachBatch` feeds both sinks from one cached batch. The checkpoint makes a restart
resume where the last acknowledged batch ended; the batch's end offsets are then
committed to the Kafka group so that `sluice verify` reconciles this job like the C++ one.

Run: python -m sluice_spark.job --help (or `sluice spark`, which finds the venv)."""

from __future__ import annotations

import json
import logging
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from collections.abc import Sequence
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming.listener import StreamingQueryListener
from pyspark.sql.streaming.query import StreamingQuery

from sluice_spark import contract as contract_mod
from sluice_spark import decode, jars, kafka_group, metrics, route, security, sinks
from sluice_spark.config import ConfigError, JobConfig, parse_args
from sluice_spark.registry import RegistryClient

log = logging.getLogger("sluice_spark.job")

# Raised whenever the checkpoint's meaning changes (what a batch writes, where offsets go).
JOB_VERSION = 1
EXIT_CONFIG = 2


class PreflightError(RuntimeError):
    """A dependency the job needs is missing or unreachable; the message says what to do."""


# Cassandra writes in flight per Spark task (the connector's default is 5); --conf
# spark.cassandra.output.concurrent.writes=N overrides it.
CASSANDRA_WRITES_IN_FLIGHT = 128


def check_java() -> None:
    java = shutil.which("java", path=os.path.join(os.environ.get("JAVA_HOME", ""), "bin"))
    java = java or shutil.which("java")
    if not java:
        raise PreflightError(
            "no `java` found: install OpenJDK 17 (apt-get install "
            "openjdk-17-jdk-headless) or set JAVA_HOME"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    first = out.splitlines()[0] if out else ""
    if '"17' not in first and " 17" not in first:
        raise PreflightError(
            f"Spark 3.5 here needs Java 17, {java} is: {first!r}; set JAVA_HOME "
            "to a Java 17 (e.g. /usr/lib/jvm/java-17-openjdk-amd64)"
        )


def check_port(what: str, host: str, port: int, hint: str) -> None:
    try:
        with socket.create_connection((host, port), timeout=5):
            return
    except OSError as e:
        raise PreflightError(f"{what} at {host}:{port} is unreachable ({e}); {hint}") from e


def preflight(config: JobConfig) -> None:
    check_java()
    first = config.bootstrap.split(",")[0]
    host, _, port = first.rpartition(":")
    check_port("Kafka", host, int(port), "start it (`sluice up`) or fix --bootstrap")
    request = urllib.request.Request(
        f"{config.registry}/subjects", headers=security.registry_headers(config.security)
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            answer.read()
    except OSError as e:
        raise PreflightError(
            f"the schema registry at {config.registry} does not answer "
            f"GET /subjects ({e}); start it (`sluice up`) or fix --registry"
        ) from e
    check_port(
        "Cassandra",
        config.cassandra_host.split(",")[0],
        config.cassandra_port,
        "start it (`sluice up`) or fix --cassandra-host/--cassandra-port",
    )


def guard_checkpoint(config: JobConfig, contract: contract_mod.Contract) -> bool:
    """Refuses a checkpoint written by an incompatible job; True when it is new."""
    marker = config.checkpoint / "sluice-job.json"
    want = {"job_version": JOB_VERSION, "topic": config.topic, "group": config.group}
    if marker.exists():
        have = json.loads(marker.read_text())
        mismatched = {k: (have.get(k), v) for k, v in want.items() if have.get(k) != v}
        if mismatched:
            details = ", ".join(f"{k} {a!r} (this job: {b!r})" for k, (a, b) in mismatched.items())
            raise PreflightError(
                f"checkpoint {config.checkpoint} belongs to another job: "
                f"{details}; give --checkpoint a new folder or delete it"
            )
        return not (config.checkpoint / "offsets").exists()
    if (config.checkpoint / "offsets").exists():
        raise PreflightError(
            f"checkpoint {config.checkpoint} has no sluice-job.json: it was not "
            "written by this job; give --checkpoint a new folder"
        )
    config.checkpoint.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({**want, "contract_version": contract.version}) + "\n")
    return True


def package_zip() -> str:
    """This package zipped for the executors (the JSON decoder runs there)."""
    here = pathlib.Path(__file__).resolve().parent
    target = pathlib.Path(tempfile.mkdtemp(prefix="sluice-spark-")) / "sluice_spark.zip"
    with zipfile.ZipFile(target, "w") as z:
        for f in sorted(here.glob("*.py")):
            z.write(f, f"sluice_spark/{f.name}")
    return str(target)


def spark_session(config: JobConfig, secrets: pathlib.Path) -> SparkSession:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.appName("sluice-spark")
        .master(config.master)
        .config("spark.jars", ",".join(jars.extra_jars(config.jars_dir)))
        .config("spark.driver.memory", config.driver_memory)
        .config("spark.executor.memory", config.executor_memory)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(config.shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.caseSensitive", "true")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.cassandra.connection.host", config.cassandra_host)
        .config("spark.cassandra.connection.port", str(config.cassandra_port))
        .config("spark.cassandra.output.consistency.level", "LOCAL_QUORUM")
        # Every row is its own partition, so the connector sends one statement per row;
        # its default of 5 in flight per task left the writes waiting on round trips
        # (about 2x slower here); 128 per task is the C++ processor's window over 2 tasks.
        .config("spark.cassandra.output.concurrent.writes", str(CASSANDRA_WRITES_IN_FLIGHT))
        .config("spark.sql.streaming.noDataProgressEventInterval", "1000")
    )
    jaas = security.jaas_file(config.security, secrets)
    if jaas is not None:  # the Kafka login: a file's path on the JVMs, not a password
        option = f"-Djava.security.auth.login.config={jaas}"
        builder = builder.config("spark.driver.extraJavaOptions", option).config(
            "spark.executor.extraJavaOptions", option
        )
    for setting in config.conf:
        key, _, value = setting.partition("=")
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    # Set once the JVM runs: PySpark starts it with every builder setting on its command
    # line, where a password would be readable by any local user.
    for key, value in security.cassandra_settings(config.security, secrets).items():
        spark.conf.set(key, value)
    spark.sparkContext.setLogLevel("WARN")
    spark.sparkContext.addPyFile(package_zip())
    return spark


class BatchProcessor:
    """The foreachBatch function: both sinks, then the figures."""

    def __init__(
        self,
        config: JobConfig,
        contract: contract_mod.Contract,
        schemas: decode.AvroSchemas,
        stats: metrics.JobMetrics,
        dlq_max_bytes: int,
    ) -> None:
        self.config = config
        self.contract = contract
        self.schemas = schemas
        self.stats = stats
        self.dlq_max_bytes = dlq_max_bytes
        self.last_input_at = time.monotonic()
        self.stopping = threading.Event()
        self.router = route.Router(contract, lambda: sinks.letter_headers(contract.version))

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        started_ms = int(time.time() * 1000)
        fields = self.contract.fields
        raw = route.raw_records(batch, started_ms)
        kind, schema_id, reason = decode.framing_columns(
            F.col("value"), self.config.max_value_bytes
        )
        framed = raw.select(
            "*", kind.alias("kind"), schema_id.alias(decode.SCHEMA_ID), reason.alias("frame_reason")
        ).persist()
        try:
            self._process(framed, fields, batch_id, started_ms)
        finally:
            framed.unpersist()

    def _process(
        self, framed: DataFrame, fields: tuple[str, ...], batch_id: int, started_ms: int
    ) -> None:
        clock = time.monotonic()
        kinds = framed.select("kind", decode.SCHEMA_ID).distinct().collect()
        ids = [r[1] for r in kinds if r[0] == "avro"]
        has_json = any(r[0] == "json" for r in kinds)
        if not kinds:
            return  # an empty batch: nothing to write, nothing to count
        resolved = decode.wait_for_schemas(
            self.schemas, sorted(ids), lambda _: self.stats.dependency_waits.inc()
        )
        decoded = self.router.decode(framed, resolved, has_json)
        checked = self.router.judge(decoded.coalesce(self.config.shuffle_partitions))
        # Materialised once, lineage cut: the sinks and the figures then plan over stored
        # rows instead of re-optimising the contract's expressions for every action.
        checked = checked.localCheckpoint(eager=True)
        try:
            total = checked.count()
            judged = time.monotonic()
            valid = checked.where(F.col("rule").isNull())
            rows = sinks.typed_rows(
                valid,
                fields,
                F.col("_dob_days"),
                F.col("_registered_ms"),
                self.contract.version,
                self.config.pseudonymisation,
            )
            letters = sinks.fit_letters(
                checked.where(F.col("rule").isNotNull()), self.dlq_max_bytes
            )
            sinks.with_retries(
                "writing rows to Cassandra",
                lambda: sinks.write_rows(rows, self.config.keyspace),
                self.stats.retries.inc,
                self.stopping.is_set,
            )
            stored = time.monotonic()
            sinks.with_retries(
                f"producing dead letters to {self.config.dlq_topic}",
                lambda: sinks.write_letters(
                    letters,
                    self.config.bootstrap,
                    self.config.dlq_topic,
                    security.spark_kafka_options(self.config.security),
                ),
                self.stats.retries.inc,
                self.stopping.is_set,
            )
            acked_ms = int(time.time() * 1000)
            lettered = time.monotonic()
            self._count(checked, total, started_ms, acked_ms)
        finally:
            checked.unpersist()
        log.info(
            "batch %d: %d records: decode+judge %.2f s, Cassandra %.2f s, DLQ %.2f s, "
            "figures %.2f s",
            batch_id,
            total,
            judged - clock,
            stored - judged,
            lettered - stored,
            time.monotonic() - lettered,
        )

    def _count(self, checked: DataFrame, total: int, started_ms: int, acked_ms: int) -> None:
        """One aggregation for every figure: records by rule list, latency buckets, cuts."""
        e2e = bucket_of((F.lit(acked_ms) - F.col("ts_ms")) / 1000.0)
        delay = bucket_of((F.lit(started_ms) - F.col("ts_ms")) / 1000.0)
        cut = F.col("rule").isNotNull() & (sinks.letter_size() > self.dlq_max_bytes)
        groups = (
            checked.groupBy(F.col("rule"), e2e.alias("e2e"), delay.alias("delay"), cut.alias("cut"))
            .agg(F.count("*").alias("n"), F.sum("ts_ms").alias("ts_sum"))
            .collect()
        )
        bounds = len(metrics.LATENCY_BUCKETS) + 1
        e2e_counts, delay_counts = [0] * bounds, [0] * bounds
        e2e_sum = delay_sum = 0.0
        valid = letters = cut_letters = 0
        for g in groups:
            n = g["n"]
            e2e_counts[g["e2e"]] += n
            delay_counts[g["delay"]] += n
            e2e_sum += (n * acked_ms - g["ts_sum"]) / 1000.0
            delay_sum += (n * started_ms - g["ts_sum"]) / 1000.0
            if g["rule"] is None:
                valid += n
                continue
            letters += n
            cut_letters += n if g["cut"] else 0
            for rule in g["rule"].split(","):
                self.stats.invalid.labels(rule=rule).inc(n)
        self.stats.consumed.inc(total)
        self.stats.valid.inc(valid)
        self.stats.written.inc(valid)
        self.stats.dead_lettered.inc(letters)
        self.stats.truncated.inc(cut_letters)
        self.stats.end_to_end.add(e2e_counts, e2e_sum)
        self.stats.kafka_delay.add(delay_counts, delay_sum)
        if total:
            self.last_input_at = time.monotonic()


def bucket_of(seconds: Column) -> Column:
    """The index of the latency bucket holding `seconds` (the last one is +Inf)."""
    bounds = metrics.LATENCY_BUCKETS
    index: Column = F.lit(len(bounds))
    for i in reversed(range(len(bounds))):
        index = F.when(seconds <= bounds[i], F.lit(i)).otherwise(index)
    return index


class ProgressListener(StreamingQueryListener):
    """Logs each micro-batch's progress, exports it, and commits its end offsets."""

    def __init__(
        self, config: JobConfig, group: kafka_group.GroupOffsets, stats: metrics.JobMetrics
    ) -> None:
        self.config = config
        self.group = group
        self.stats = stats

    def onQueryStarted(self, event: Any) -> None:  # noqa: N802 - Spark's API
        self.stats.active.set(1)
        log.info("query started: id %s run %s", event.id, event.runId)

    def onQueryProgress(self, event: Any) -> None:  # noqa: N802
        p = event.progress
        if p.numInputRows == 0 and not p.sources:
            return
        source = p.sources[0] if p.sources else None
        ends = kafka_group.end_offsets_of(source.endOffset if source else None, self.config.topic)
        try:
            self.group.commit(ends)
            self.stats.commits.inc()
        except Exception as e:  # noqa: BLE001 - logged; the next batch commits again
            log.warning("committing offsets to group %s failed: %s", self.config.group, e)
        duration = p.durationMs.get("triggerExecution", 0) / 1000.0
        self.stats.batches.inc()
        self.stats.batch_seconds.set(duration)
        self.stats.input_rate.set(p.inputRowsPerSecond or 0.0)
        self.stats.processed_rate.set(p.processedRowsPerSecond or 0.0)
        if p.numInputRows:
            log.info(
                "batch %d: %d rows in %.2f s (input %.0f/s, processed %.0f/s), end offsets %s",
                p.batchId,
                p.numInputRows,
                duration,
                p.inputRowsPerSecond or 0.0,
                p.processedRowsPerSecond or 0.0,
                ends,
            )

    def onQueryIdle(self, event: Any) -> None:  # noqa: N802
        return

    def onQueryTerminated(self, event: Any) -> None:  # noqa: N802
        self.stats.active.set(0)
        if event.exception:
            log.error("query terminated with an error: %s", event.exception.splitlines()[0])


def start_query(
    spark: SparkSession, config: JobConfig, processor: BatchProcessor, starting: str
) -> StreamingQuery:
    reader = (
        spark.readStream.format("kafka")
        .options(**security.spark_kafka_options(config.security))
        .option("kafka.bootstrap.servers", config.bootstrap)
        .option("subscribe", config.topic)
        .option("startingOffsets", starting)
        .option("kafka.isolation.level", "read_committed")
        .option("failOnDataLoss", "true")
    )
    if config.max_offsets_per_trigger > 0:
        reader = reader.option("maxOffsetsPerTrigger", str(config.max_offsets_per_trigger))
    return (
        reader.load()
        .writeStream.foreachBatch(processor)
        .option("checkpointLocation", str(config.checkpoint / "query"))
        .trigger(processingTime=f"{config.trigger_ms} milliseconds")
        .queryName("sluice-spark")
        .start()
    )


def update_lag(group: kafka_group.GroupOffsets, stats: metrics.JobMetrics) -> int:
    lag = group.lag()
    for p, n in lag.items():
        stats.partition_lag.labels(partition=str(p)).set(n)
    total = sum(lag.values())
    stats.lag.set(total)
    return total


def run(config: JobConfig) -> int:
    contract = contract_mod.load_contract(config.rules)
    preflight(config)
    new_checkpoint = guard_checkpoint(config, contract)
    kafka_settings = security.librdkafka_settings(config.security)
    group = kafka_group.GroupOffsets(config.bootstrap, config.group, config.topic, kafka_settings)
    starting = config.starting_offsets
    if new_checkpoint:
        committed = group.committed()
        if committed:
            starting = kafka_group.starting_offsets_json(config.topic, committed)
            log.info("new checkpoint: resuming group %s at %s", config.group, committed)
    dlq_max = config.dlq_max_bytes or kafka_group.topic_max_message_bytes(
        config.bootstrap, config.dlq_topic, settings=kafka_settings
    )
    stats = metrics.JobMetrics()
    secrets = security.private_folder()  # the JAAS file and truststore: deleted at exit
    try:
        return serve(config, contract, group, starting, stats, dlq_max, secrets)
    finally:
        shutil.rmtree(secrets, ignore_errors=True)


def serve(
    config: JobConfig,
    contract: contract_mod.Contract,
    group: kafka_group.GroupOffsets,
    starting: str,
    stats: metrics.JobMetrics,
    dlq_max: int,
    secrets: pathlib.Path,
) -> int:
    """Starts Spark and the query, serves /metrics, and watches until the end."""
    spark = spark_session(config, secrets)
    registry = RegistryClient(config.registry, headers=security.registry_headers(config.security))
    schemas = decode.AvroSchemas(registry, avro_parse_check(spark))
    processor = BatchProcessor(config, contract, schemas, stats, dlq_max)
    spark.streams.addListener(ProgressListener(config, group, stats))
    query = start_query(spark, config, processor, starting)
    if config.metrics_port:
        metrics.serve(stats, "127.0.0.1", config.metrics_port, lambda: query.isActive)
    stop = processor.stopping
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log.info(
        "sluice spark: %s -> %s.users | %s (group %s, checkpoint %s, master %s)",
        config.topic,
        config.keyspace,
        config.dlq_topic,
        config.group,
        config.checkpoint,
        config.master,
    )
    if config.pseudonymisation:
        log.info(
            "pseudonymising %s with key id %s",
            ",".join(config.pseudonymisation.fields),
            config.pseudonymisation.key_id,
        )
    code = watch(query, config, group, stats, processor, stop)
    group.close()
    spark.stop()
    return code


def watch(
    query: StreamingQuery,
    config: JobConfig,
    group: kafka_group.GroupOffsets,
    stats: metrics.JobMetrics,
    processor: BatchProcessor,
    stop: threading.Event,
) -> int:
    next_lag = 0.0
    while query.isActive and not stop.is_set():
        stop.wait(0.5)
        if time.monotonic() < next_lag:
            continue
        next_lag = time.monotonic() + 2.0
        try:
            lag = update_lag(group, stats)
        except Exception as e:  # noqa: BLE001 - lag is a figure; Kafka hiccups are logged
            log.warning("reading consumer lag failed: %s", e)
            continue
        idle = time.monotonic() - processor.last_input_at
        if config.stop_at_end and lag == 0 and idle >= config.idle_exit:
            log.info("drained (lag 0, %.1f s without records): stopping", idle)
            break
    if query.isActive:
        query.stop()
        return 0
    error = query.exception()
    if error is not None:
        log.error("the streaming query failed: %s", str(error).splitlines()[0])
        return 1
    return 0


def avro_parse_check(spark: SparkSession) -> Any:
    """Asks Avro's own parser (in the JVM, as from_avro will) whether a schema is valid."""
    jvm = spark.sparkContext._jvm  # noqa: SLF001 - the documented py4j gateway

    def check(schema_text: str) -> str | None:
        try:
            jvm.org.apache.avro.Schema.Parser().parse(schema_text)  # type: ignore[union-attr]
        except Exception as e:  # noqa: BLE001 - py4j raises Py4JJavaError for any JVM error
            return str(e).splitlines()[0][:300]
        return None

    return check


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = parse_args(sys.argv[1:] if argv is None else argv)
        return run(config)
    except (ConfigError, PreflightError, contract_mod.ContractError) as e:
        print(f"sluice spark: {e}", file=sys.stderr)
        return EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
