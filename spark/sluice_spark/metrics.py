"""`/metrics` (Prometheus text) and `/health` of the Spark job, with the metric names of
`sluice process` where they mean the same (consumed, valid, invalid by rule, written,
dead-lettered, retries, commits, consumer lag, dependency waits, the latency histograms
with the same buckets), plus the job's own `sluice_spark_*` figures from each
micro-batch's StreamingQueryProgress."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

# src/web/metrics.cc histogram::latency_buckets(): fine between 5 and 100 ms.
LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03,
    0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
)  # fmt: skip


class BulkHistogram(Collector):
    """A histogram fed with bucket counts that Spark aggregated over a whole micro-batch
    (observing every record on the driver would ship every record there)."""

    def __init__(self, name: str, documentation: str, registry: CollectorRegistry) -> None:
        self._name = name
        self._doc = documentation
        self._lock = threading.Lock()
        self._counts = [0] * (len(LATENCY_BUCKETS) + 1)  # per bucket, the last is +Inf
        self._sum = 0.0
        registry.register(self)

    def add(self, counts: Sequence[int], total_seconds: float) -> None:
        """counts[i]: observations in bucket i (not cumulative), len(LATENCY_BUCKETS) + 1."""
        with self._lock:
            for i, n in enumerate(counts):
                self._counts[i] += n
            self._sum += total_seconds

    def quantile(self, q: float) -> float:
        """The upper bound of the bucket holding quantile q (for the log line)."""
        with self._lock:
            total = sum(self._counts)
            seen = 0
            for i, n in enumerate(self._counts):
                seen += n
                if total and seen >= q * total:
                    return LATENCY_BUCKETS[i] if i < len(LATENCY_BUCKETS) else float("inf")
        return 0.0

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            cumulative = 0
            buckets = []
            for bound, n in zip([*LATENCY_BUCKETS, float("inf")], self._counts, strict=True):
                cumulative += n
                buckets.append(
                    ("+Inf" if bound == float("inf") else repr(float(bound)), cumulative)
                )
            family = HistogramMetricFamily(self._name, self._doc)
            family.add_metric([], buckets, self._sum)
        yield family


class JobMetrics:
    def __init__(self) -> None:
        r = CollectorRegistry()
        self.registry = r
        # prometheus_client appends `_total` to counter names itself.
        self.consumed = Counter(
            "sluice_process_consumed", "Records read from the raw topic", registry=r
        )
        self.valid = Counter("sluice_process_valid", "Records that passed the rules", registry=r)
        self.invalid = Counter(
            "sluice_process_invalid", "Rejected records by rule id", ["rule"], registry=r
        )
        self.written = Counter(
            "sluice_process_written", "Rows acknowledged by Cassandra", registry=r
        )
        self.dead_lettered = Counter(
            "sluice_process_dead_lettered", "Records acknowledged on the DLQ", registry=r
        )
        self.truncated = Counter(
            "sluice_process_truncated_dead_letters", "Letters cut to fit the DLQ", registry=r
        )
        self.retries = Counter("sluice_process_retries", "Sink retries after a failure", registry=r)
        self.dependency_waits = Counter(
            "sluice_process_dependency_waits",
            "Holds because a dependency (the registry) did not answer",
            registry=r,
        )
        self.commits = Counter("sluice_process_commits", "Offset commits to the group", registry=r)
        self.lag = Gauge(
            "sluice_process_consumer_lag", "Records not yet committed (all partitions)", registry=r
        )
        self.partition_lag = Gauge(
            "sluice_process_partition_lag", "Records not yet committed, per partition",
            ["partition"], registry=r,
        )  # fmt: skip
        self.end_to_end = BulkHistogram(
            "sluice_process_end_to_end_seconds",
            "Kafka record timestamp to Cassandra/DLQ acknowledgement", r,
        )  # fmt: skip
        self.kafka_delay = BulkHistogram(
            "sluice_process_kafka_delay_seconds",
            "Kafka record timestamp to the micro-batch's start", r,
        )  # fmt: skip
        self.batches = Counter("sluice_spark_batches", "Micro-batches completed", registry=r)
        self.batch_seconds = Gauge(
            "sluice_spark_batch_duration_seconds", "Last micro-batch's duration", registry=r
        )
        self.input_rate = Gauge(
            "sluice_spark_input_rows_per_second", "Last progress: input rows/s", registry=r
        )
        self.processed_rate = Gauge(
            "sluice_spark_processed_rows_per_second", "Last progress: processed rows/s", registry=r
        )
        self.active = Gauge("sluice_spark_query_active", "1 while the query runs", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def serve(
    metrics: JobMetrics, host: str, port: int, healthy: Callable[[], bool]
) -> threading.Thread:
    """Serves /metrics and /health on a daemon thread."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            if self.path == "/metrics":
                self._answer(200, metrics.render(), CONTENT_TYPE_LATEST)
            elif self.path == "/health":
                ok = healthy()
                self._answer(200 if ok else 503, b"ok\n" if ok else b"starting\n", "text/plain")
            else:
                self._answer(404, b"not found\n", "text/plain")

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    server = http.server.ThreadingHTTPServer((host, port), Handler)
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()
    return thread
