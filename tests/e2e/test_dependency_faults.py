"""Faults of the processor's dependencies, on the real stack, are not faults of the data.

- The schema registry answering 500, hanging past the client's timeout or resetting the
  connection holds valid Avro records back until it answers; none is dead-lettered. Only
  its definite "no such schema" (404, error_code 40403) dead-letters them (decode.schema_id).
- Cassandra refusing a batch as too large makes the processor split it, not drop or
  dead-letter its rows.
- A dead letter larger than the dead-letter topic accepts is cut to fit, with headers
  naming the original's size and SHA-256, and the processor does not wedge on it.

The registry faults come from a small HTTP proxy in front of the real registry that
answers schema lookups (GET /schemas/ids/...) from a plan of faults."""

import hashlib
import json
import random
import re
import socket
import string
import struct
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

import pytest
import requests
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.conftest import free_port
from tests.e2e.helpers import (
    BOOTSTRAP,
    REGISTRY,
    Lane,
    generate,
    headers_of,
    process_command,
    produce_json,
    read_all,
    stored_ids,
    verify,
)

pytestmark = pytest.mark.usefixtures("stack")

# The processor's registry client gives up on a request after 10 s (registry::client_settings).
CLIENT_TIMEOUT_S = 10.0
HANG_S = CLIENT_TIMEOUT_S + 2
PROCESSOR_TIMEOUT_S = 90

# ---------------------------------------------------------------------------------------
# A fault-injecting proxy in front of the schema registry
# ---------------------------------------------------------------------------------------

# What the proxy does with a schema lookup:
#   "500"      HTTP 500 with a Confluent error body (error_code 50001)
#   "500-html" HTTP 500 with a non-JSON body, as a load balancer in front would answer
#   "hang"     read the request and answer nothing for HANG_S (past the client's timeout)
#   "reset"    read the request and reset the connection (RST, no answer)
#   "404"      HTTP 404 with Confluent's body for an unknown id (error_code 40403)
#   "forward"  pass it to the real registry
FAULTS = ("500", "500-html", "hang", "reset", "404")


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    proxy: "FaultyRegistry"


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _ProxyServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the proxy counts what it did instead

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        action = self.server.proxy.action_for(self.command, self.path)
        if action == "forward":
            self._forward(body)
        elif action == "500":
            self._answer(500, {"error_code": 50001, "message": "Error in the backend data store"})
        elif action == "500-html":
            self._answer_raw(500, b"<html><body>Internal Server Error</body></html>", "text/html")
        elif action == "404":
            self._answer(404, {"error_code": 40403, "message": "Schema not found"})
        elif action == "hang":
            self.server.proxy.released.wait(HANG_S)
            self.close_connection = True  # the client has given up: answer nothing
        elif action == "reset":
            # SO_LINGER 0: closing sends RST instead of FIN; the request gets no answer.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        else:
            raise AssertionError(f"unknown proxy action {action}")

    def _answer(self, status: int, body: dict) -> None:
        self._answer_raw(
            status, json.dumps(body).encode(), "application/vnd.schemaregistry.v1+json"
        )

    def _answer_raw(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self, body: bytes) -> None:
        answer = requests.request(
            self.command,
            REGISTRY + self.path,
            data=body or None,
            headers={
                k: v for k, v in self.headers.items() if k.lower() in ("accept", "content-type")
            },
            timeout=10,
        )
        self._answer_raw(
            answer.status_code,
            answer.content,
            answer.headers.get("Content-Type", "application/json"),
        )


class FaultyRegistry:
    """Serves the real registry's API on an ephemeral 127.0.0.1 port. Schema lookups by id
    (GET /schemas/ids/...) are answered by `faults`, one per lookup, in order, and then by
    `then`; every other request is forwarded. Counts what it did."""

    def __init__(self, faults: list[str], then: str = "forward") -> None:
        assert all(f in FAULTS for f in faults) and then in (*FAULTS, "forward")
        self._plan = list(faults)
        self._then = then
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.lookups = 0
        self.forwarded_lookups = 0
        self.released = threading.Event()  # ends a hang early when the proxy stops
        self._server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
        self._server.proxy = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def action_for(self, method: str, path: str) -> str:
        if method != "GET" or not path.startswith("/schemas/ids/"):
            return "forward"
        with self._lock:
            self.lookups += 1
            action = self._plan.pop(0) if self._plan else self._then
            if action == "forward":
                self.forwarded_lookups += 1
            else:
                self.injected[action] += 1
            return action

    def __enter__(self) -> "FaultyRegistry":
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


# ---------------------------------------------------------------------------------------
# Running the processor and reading the sinks
# ---------------------------------------------------------------------------------------


def with_registry(command: list[str], url: str) -> list[str]:
    """`command` with its --registry pointed at `url` (the flag may be given only once)."""
    at = command.index("--registry")
    return [*command[: at + 1], url, *command[at + 2 :]]


def scrape(port: int) -> str | None:
    try:
        return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except requests.RequestException:
        return None


def metric_value(text: str, name: str, labels: str = "") -> float | None:
    selector = re.escape(name + (f"{{{labels}}}" if labels else ""))
    match = re.search(rf"^{selector} ([0-9.e+-]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


def run_to_end(
    command: list[str], log: Path, metrics_port: int
) -> tuple[subprocess.CompletedProcess[str], str]:
    """Runs a `sluice process ... --stop-at-end` to its exit (at most PROCESSOR_TIMEOUT_S),
    scraping its /metrics meanwhile. Returns the run (stderr read from `log`) and the last
    scrape."""
    command = [*command, "--stop-at-end", "--idle-exit", "4"]
    last_scrape = ""
    with log.open("w") as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, text=True)
        deadline = time.monotonic() + PROCESSOR_TIMEOUT_S
        try:
            while process.poll() is None:
                if time.monotonic() > deadline:
                    process.kill()
                    process.wait(30)
                    pytest.fail(
                        f"the processor did not finish in {PROCESSOR_TIMEOUT_S} s:\n"
                        + log.read_text()[-4000:]
                    )
                last_scrape = scrape(metrics_port) or last_scrape
                time.sleep(0.5)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(30)
    stderr = log.read_text()
    run = subprocess.CompletedProcess(command, process.returncode, "", stderr)
    assert run.returncode == 0, stderr[-4000:]
    return run, last_scrape


def dead_letter_watermarks(topic: str) -> dict[int, int]:
    """High watermark of each partition of `topic`: how many records were ever written."""
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"wm-{uuid.uuid4().hex}"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        assert partitions, f"{topic} has no partitions"
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)[1]
            for p in partitions
        }
    finally:
        consumer.close()


def produce_avro(repo: Path, lane: Lane, users: list[dict]) -> int:
    """Produces `users` as Confluent Avro (registered under <raw>-value in the real
    registry); returns the schema id."""
    registry = SchemaRegistryClient({"url": REGISTRY})
    serializer = AvroSerializer(
        registry,
        (repo / "contract" / "user.avsc").read_text(),
        conf={"auto.register.schemas": True},
    )
    context = SerializationContext(lane.raw, MessageField.VALUE)
    producer = Producer({"bootstrap.servers": BOOTSTRAP, "linger.ms": 20})
    schema_id = -1
    for user in users:
        value = serializer({k: v for k, v in user.items() if k != "_bad_kind"}, context)
        schema_id = int.from_bytes(value[1:5], "big")
        producer.produce(lane.raw, key=user["id"].encode(), value=value)
        producer.poll(0)
    assert producer.flush(60) == 0
    subjects = registry.get_subjects()
    assert f"{lane.raw}-value" in subjects
    return schema_id


# ---------------------------------------------------------------------------------------
# The schema registry
# ---------------------------------------------------------------------------------------


def test_registry_returning_500s_timeouts_and_resets_delays_but_never_dead_letters_valid_records(
    sluice_bin: Path, lane: Lane, repo: Path, tmp_path: Path
) -> None:
    users = generate(sluice_bin, seed=2101, count=2000, bad_ratio=0)
    produce_avro(repo, lane, users)
    faults = ["500", "500-html", "500", "hang", "reset"]
    metrics_port = free_port()
    started = time.monotonic()
    with FaultyRegistry(faults) as proxy:
        command = with_registry(
            process_command(sluice_bin, lane, metrics_port=metrics_port), proxy.url
        )
        run, last_scrape = run_to_end(command, tmp_path / "process.log", metrics_port)
    took = time.monotonic() - started

    ids = stored_ids(lane)
    assert len(ids) == len(set(ids)) == len(users)
    assert set(ids) == {u["id"] for u in users}
    assert set(dead_letter_watermarks(lane.dlq).values()) == {0}, run.stderr[-3000:]
    report = verify(sluice_bin, lane)
    assert report["ok"] and report["produced"] == len(users)
    assert report["stored"] == len(users) and report["dead_lettered"] == 0

    # The faults really happened, each once, and then the registry answered.
    assert proxy.injected == Counter(faults), proxy.injected
    assert proxy.forwarded_lookups >= 1
    assert took > CLIENT_TIMEOUT_S, "the hang cost the client its timeout"
    # Each failed lookup held the records back once; none of them was judged meanwhile.
    assert metric_value(last_scrape, "sluice_process_dependency_waits_total") == len(faults), (
        last_scrape
    )
    assert metric_value(last_scrape, "sluice_process_invalid_total", 'rule="decode.schema_id"') in (
        None,
        0,
    )


def test_registry_answering_404_schema_not_found_dead_letters_every_record_as_decode_schema_id(
    sluice_bin: Path, lane: Lane, repo: Path, tmp_path: Path
) -> None:
    users = generate(sluice_bin, seed=2102, count=500, bad_ratio=0)
    schema_id = produce_avro(repo, lane, users)
    metrics_port = free_port()
    with FaultyRegistry([], then="404") as proxy:
        command = with_registry(
            process_command(sluice_bin, lane, metrics_port=metrics_port), proxy.url
        )
        _, last_scrape = run_to_end(command, tmp_path / "process.log", metrics_port)

    assert proxy.injected["404"] >= 1 and proxy.forwarded_lookups == 0
    # A definite "no such schema" is the data's fault: judged at once, never held.
    assert metric_value(last_scrape, "sluice_process_dependency_waits_total") in (None, 0)
    assert stored_ids(lane) == []
    assert sum(dead_letter_watermarks(lane.dlq).values()) == len(users)
    dead = read_all(lane.dlq)
    assert sorted(m.key().decode() for m in dead) == sorted(u["id"] for u in users)
    assert {headers_of(m)["sluice.rule"] for m in dead} == {"decode.schema_id"}
    assert {headers_of(m)["sluice.schema.id"] for m in dead} == {str(schema_id)}
    report = verify(sluice_bin, lane)
    assert report["ok"] and report["produced"] == len(users)
    assert report["stored"] == 0 and report["dead_lettered"] == len(users)
    assert report["dead_by_rule"] == {"decode.schema_id": len(users)}


# ---------------------------------------------------------------------------------------
# Cassandra
# ---------------------------------------------------------------------------------------


def long_picture(user_id: str, length: int) -> str:
    head = f"https://cdn.example.com/portraits/{user_id}/"
    return head + "p" * (length - len(head) - len(".jpg")) + ".jpg"


def long_address(address: str, length: int) -> str:
    filler = " Building 7, Floor 3, Suite 301, Care of the Front Desk,"
    text = address + "," + filler * (length // len(filler) + 1)
    return text[:length].rstrip()


def test_cassandra_refusing_an_oversized_batch_splits_it_and_stores_every_row(
    sluice_bin: Path, lane: Lane, tmp_path: Path
) -> None:
    users = generate(sluice_bin, seed=2103, count=500, bad_ratio=0)
    for user in users:
        user["picture"] = long_picture(user["id"], 2000)  # picture.max_length is 2048
        user["address"] = long_address(user["address"], 290)  # address.max_length is 300
        assert len(user["address"]) > 280
    produce_json(lane.raw, users)
    # 64 rows of ~2.4 KB are ~150 KB: past Cassandra's batch_size_fail_threshold (50 KiB).
    metrics_port = free_port()
    run, _ = run_to_end(
        process_command(
            sluice_bin,
            lane,
            "--cassandra-batch",
            "64",
            "--cassandra-batch-bytes",
            "4000000",
            metrics_port=metrics_port,
        ),
        tmp_path / "process.log",
        metrics_port,
    )
    assert "Cassandra refused a batch" in run.stderr, run.stderr[-3000:]

    ids = stored_ids(lane)
    assert len(ids) == len(set(ids)) == len(users)
    assert set(ids) == {u["id"] for u in users}
    rows = lane.session.execute(f"SELECT id, picture, address FROM {lane.keyspace}.users")
    stored = {str(r.id): (r.picture, r.address) for r in rows}
    assert stored == {u["id"]: (u["picture"], u["address"]) for u in users}
    assert set(dead_letter_watermarks(lane.dlq).values()) == {0}, run.stderr[-3000:]
    report = verify(sluice_bin, lane)
    assert report["ok"] and report["stored"] == len(users) and report["dead_lettered"] == 0


# ---------------------------------------------------------------------------------------
# The dead-letter topic
# ---------------------------------------------------------------------------------------


def user_json_of_size(user: dict, size: int) -> bytes:
    """`user` as JSON of exactly `size` bytes, padded in its address (so it fails
    address.max_length)."""
    record = {k: v for k, v in user.items() if k != "_bad_kind"}
    record["address"] = ""
    base = len(json.dumps(record).encode())
    # Random letters and digits: lz4 (the dead-letter producer's compression) cannot
    # shrink them, so a letter not cut to fit is one the broker refuses.
    rng = random.Random(size)
    record["address"] = "".join(rng.choices(string.ascii_letters + string.digits, k=size - base))
    value = json.dumps(record).encode()
    assert len(value) == size
    return value


def max_message_bytes(topic: str) -> int:
    """The topic's max.message.bytes, as the broker reports it (its default if not set)."""
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    configs = admin.describe_configs([resource])[resource].result(30)
    return int(configs["max.message.bytes"].value)


def produce_big(topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": BOOTSTRAP, "message.max.bytes": 4_000_000})
    for key, value in records:
        producer.produce(topic, key=key, value=value)
    assert producer.flush(60) == 0


def test_dead_letters_larger_than_the_dlq_accepts_are_cut_to_fit_with_size_and_hash_headers(
    sluice_bin: Path, lane: Lane, tmp_path: Path
) -> None:
    # A raw topic taking records of up to 2 MB; the lane's dead-letter topic keeps the
    # broker's default limit (1,048,588 bytes).
    big_raw = f"{lane.raw}-big"
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    created = admin.create_topics(
        [NewTopic(big_raw, 1, 1, config={"max.message.bytes": "2097152"})]
    )
    for future in created.values():
        future.result(30)
    big = replace(lane, raw=big_raw)
    try:
        limit = max_message_bytes(lane.dlq)
        assert limit <= 1_048_588, f"{lane.dlq} takes more than the broker default: {limit}"
        users = generate(sluice_bin, seed=2104, count=3, bad_ratio=0)
        originals = {
            # under --max-value-bytes' default (1 MiB): judged, fails address.max_length,
            # and its letter (value, headers and overhead) is past the DLQ's limit
            users[0]["id"]: (user_json_of_size(users[0], 1_048_570), "address.max_length"),
            # 1.5 MB, over the default --max-value-bytes: decode.oversize
            users[1]["id"]: (user_json_of_size(users[1], 1_500_000), "decode.oversize"),
        }
        produce_big(big_raw, [(k.encode(), v) for k, (v, _) in originals.items()])
        log = tmp_path / "process.log"
        metrics_port = free_port()
        first, first_scrape = run_to_end(
            process_command(sluice_bin, big, metrics_port=metrics_port), log, metrics_port
        )
        # 1.5 MB again, now judged (--max-value-bytes 2000000): fails address.max_length
        late = (user_json_of_size(users[2], 1_500_000), "address.max_length")
        originals[users[2]["id"]] = late
        produce_big(big_raw, [(users[2]["id"].encode(), late[0])])
        metrics_port = free_port()
        second, _ = run_to_end(
            process_command(
                sluice_bin, big, "--max-value-bytes", "2000000", metrics_port=metrics_port
            ),
            tmp_path / "process-2.log",
            metrics_port,
        )
        assert metric_value(first_scrape, "sluice_process_truncated_dead_letters_total") == 2, (
            first_scrape
        )

        assert sum(dead_letter_watermarks(lane.dlq).values()) == len(originals)
        dead = read_all(lane.dlq)
        letters = {m.key().decode(): m for m in dead}
        assert len(dead) == len(letters) == len(originals), [m.key() for m in dead]
        assert set(letters) == set(originals)
        for user_id, (original, rule) in originals.items():
            letter = letters[user_id]
            headers = headers_of(letter)
            value = letter.value()
            assert headers["sluice.rule"] == rule, headers
            assert headers["sluice.source.topic"] == big_raw
            assert headers["sluice.truncated"] == "true", headers
            assert headers["sluice.original.bytes"] == str(len(original))
            assert headers["sluice.original.sha256"] == hashlib.sha256(original).hexdigest()
            # cut to what the topic takes, not to nothing: all but the headers and overhead
            assert limit - 4096 < len(value) < len(original)
            assert original.startswith(value)
            size = (
                len(value) + len(letter.key()) + sum(len(k) + len(v) for k, v in letter.headers())
            )
            assert size <= limit
        assert "cut to" in first.stderr and "cut to" in second.stderr, first.stderr + second.stderr

        assert stored_ids(lane) == []
        report = verify(sluice_bin, big)
        assert report["ok"] and report["produced"] == len(originals)
        assert report["stored"] == 0 and report["dead_lettered"] == len(originals)
        assert report["dead_by_rule"] == {"address.max_length": 2, "decode.oversize": 1}
    finally:
        for future in admin.delete_topics([big_raw]).values():
            future.result(30)
