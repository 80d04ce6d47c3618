"""The Spark job (`sluice spark`, spark/sluice_spark) as a drop-in for `sluice process`, on
the real stack and a real Spark: both processors read the same raw records into their own
keyspace and dead-letter topic and must produce the same rows cell by cell (write time
included) and the same dead letters by source position (rule, field, headers, key, bytes);
the Spark job survives a SIGKILL of its driver; and it runs on a Spark standalone cluster
that `sluice up --spark-cluster true` starts."""

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import struct
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml
from confluent_kafka import Producer

from tests.conftest import free_port
from tests.e2e.helpers import (
    BOOTSTRAP,
    REGISTRY,
    USER_FIELDS,
    Lane,
    assert_exactly_once,
    committed_offsets,
    drop_lane,
    generate,
    high_watermarks,
    json_key,
    json_value,
    lane_flags,
    make_lane,
    metric,
    produce_json,
    read_raw,
    run_processor_to_end,
    stored_rows,
    verify,
)
from tests.e2e.spark_helpers import (
    Letter,
    kill_group,
    letters_by_source,
    rows_with_writetime,
    run_spark_to_end,
    spark_lane,
    start_spark,
)
from tests.endpoints import SLUICE_FLAGS, UP_FLAGS

pytestmark = pytest.mark.usefixtures("stack")

MAX_VALUE_BYTES = "10000"


def register(subject: str, schema: object) -> int:
    answer = requests.post(
        f"{REGISTRY}/subjects/{subject}/versions",
        json={"schema": json.dumps(schema)},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["id"])


def zigzag(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        byte = z & 0x7F
        z >>= 7
        if z:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def avro_user(schema_id: int, values: dict[str, bytes | None]) -> bytes:
    """A Confluent-framed sluice.v1.User (contract/user.avsc: every field ["null","string"])
    from raw bytes, so that a test can put malformed UTF-8 inside a string."""
    body = bytearray(b"\x00" + struct.pack(">I", schema_id))
    for name in USER_FIELDS:
        value = values.get(name)
        body += b"\x00" if value is None else b"\x02" + zigzag(len(value)) + value
    return bytes(body)


def case_records(repo: Path) -> list[tuple[str, dict[str, str], int, list[str] | None]]:
    """(name, record, Kafka timestamp ms, expected rule ids or None for valid) of every
    case in contract/cases."""
    out = []
    for file in sorted((repo / "contract" / "cases").glob("*.yaml")):
        doc = yaml.safe_load(file.read_text())
        now = doc["now"]
        if isinstance(now, str):
            now = dt.datetime.fromisoformat(now.replace("Z", "+00:00"))
        now_ms = int(now.timestamp() * 1000)
        for i, case in enumerate(doc["cases"]):
            record = {k: str(v) for k, v in doc["base"].items()}
            for k, v in (case.get("set") or {}).items():
                if v is None:
                    record.pop(k, None)
                else:
                    record[k] = str(v)
            expect = None if case["expect"] == "valid" else list(case["expect"])
            out.append((f"{file.stem}-{i}", record, now_ms, expect))
    return out


def pills(schema_id: int, alt_id: int, scalar_id: int, newer_id: int, sample: dict) -> dict:
    """Undecodable and oddly-typed values, by key: (value, rule or None for valid)."""
    good = {k: v.encode() for k, v in sample.items() if k in USER_FIELDS}
    valid = avro_user(schema_id, good)
    newer_fields = ["email", "id", "loyalty", *[f for f in USER_FIELDS if f not in ("email", "id")]]
    newer = b"\x00" + struct.pack(">I", newer_id)
    for name in newer_fields:
        value = b"gold" if name == "loyalty" else good[name]
        newer += b"\x02" + zigzag(len(value)) + value
    alt = bytearray(b"\x00" + struct.pack(">I", alt_id))
    for name in USER_FIELDS:
        if name == "id":
            alt += b"\x04" + zigzag(42)  # the int branch of ["null", "string", "int"]
        elif name == "first_name":
            alt += zigzag(7)  # an int field
        else:
            alt += b"\x02" + zigzag(len(good[name])) + good[name]
    return {
        b"pill-valid-avro": (valid, None),
        b"pill-newer-schema": (bytes(newer), None),
        b"pill-magic": (b"\x01" + b"x" * 40, "decode.magic"),
        b"pill-short": (b"\x00\x00\x01", "decode.magic"),
        b"pill-unknown-id": (b"\x00\x00\x0f\x42\x40" + valid[5:], "decode.schema_id"),
        b"pill-truncated": (valid[: len(valid) // 2], "decode.avro"),
        b"pill-trailing": (valid + b"\x00\x00", "decode.avro"),
        b"pill-not-a-record": (b"\x00" + struct.pack(">I", scalar_id) + b"\x02a", "decode.avro"),
        b"pill-avro-utf8": (
            avro_user(schema_id, good | {"email": b"z\xffz@example.com"}),
            "decode.utf8",
        ),
        b"pill-empty": (b"", "decode.empty"),
        b"pill-null": (None, "decode.empty"),
        b"pill-json-utf8": (b'{"id": "\xff\xfe"}', "decode.utf8"),
        b"pill-json-broken": (b"{this is not json", "decode.json"),
        b"pill-json-number": (b'{"id": 5}', "decode.json"),
        b"pill-json-array": (b"  [1]", "decode.magic"),
        b"pill-oversize": (b"{" + b" " * 20_000 + b"}", "decode.oversize"),
        b"pill-alt-types": (bytes(alt), "id.required,first_name.required"),
    }


Outgoing = tuple[bytes, bytes | None, int, str]  # key, value, timestamp (0: now), label


def produce(topic: str, records: list[Outgoing]) -> None:
    """Sends the records in order, each labelled with a `test.label` header."""
    producer = Producer({"bootstrap.servers": BOOTSTRAP, "enable.idempotence": True})
    for key, value, timestamp, label in records:
        producer.produce(
            topic, key=key, value=value, timestamp=timestamp, headers=[("test.label", label)]
        )
    assert producer.flush(60) == 0


def test_spark_and_cpp_processors_give_the_same_rows_write_times_and_dead_letters(
    sluice_bin: Path, lane: Lane, repo: Path, tmp_path: Path
) -> None:
    avsc = json.loads((repo / "contract" / "user.avsc").read_text())
    schema_id = register(f"{lane.raw}-value", avsc)
    newer = dict(
        avsc,
        fields=[
            avsc["fields"][3],
            avsc["fields"][0],
            {"name": "loyalty", "type": ["null", "string"], "default": None},
            *[f for f in avsc["fields"] if f["name"] not in ("id", "email")],
        ],
    )
    newer_id = register(f"{lane.raw}-value", newer)
    alt_fields = []
    for f in avsc["fields"]:
        if f["name"] == "id":
            f = {"name": "id", "type": ["null", "string", "int"], "default": None}
        elif f["name"] == "first_name":
            f = {"name": "first_name", "type": "int"}
        alt_fields.append(f)
    alt_id = register(f"{lane.raw}-alt-value", dict(avsc, name="Alt", fields=alt_fields))
    scalar_id = register(f"{lane.raw}-scalar-value", "string")

    cases = case_records(repo)
    # Every version of an id is keyed by it, as the pipeline assumes (one partition, in
    # order), so that verify can tell superseded versions from missing ones.
    records: list[Outgoing] = []
    for name, record, now_ms, _ in cases:
        encoded = {k: v.encode() for k, v in record.items()}
        key = record.get("id", "no-id").lower().encode()  # a UUID in any case is one id
        records.append((key, avro_user(schema_id, encoded), now_ms, f"case-{name}-avro"))
        records.append((key, json.dumps(record).encode(), now_ms, f"case-{name}-json"))
    sample = generate(sluice_bin, seed=3, count=1, bad_ratio=0)[0]
    odd = pills(schema_id, alt_id, scalar_id, newer_id, sample)
    for label, (value, rule) in odd.items():
        key = sample["id"].encode() if rule is None else label
        records.append((key, value, 0, label.decode()))
    produce(lane.raw, records)
    generated = subprocess.run(
        [str(sluice_bin), "produce", *SLUICE_FLAGS, "--topic", lane.raw, "--count", "3000",
         "--bad-ratio", "0.3", "--seed", "77"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr

    other = make_lane(repo)
    try:
        spark = spark_lane(other, lane.raw)
        run_spark_to_end(sluice_bin, spark, tmp_path / "checkpoint",
                         "--max-value-bytes", MAX_VALUE_BYTES)  # fmt: skip
        run_processor_to_end(sluice_bin, lane, "--max-value-bytes", MAX_VALUE_BYTES)

        raw = read_raw(lane.raw)
        assert len(raw) == len(records) + 3000
        cpp_rows, spark_rows = rows_with_writetime(lane), rows_with_writetime(spark)
        assert len(cpp_rows) > 2000, "the generated valid users are stored"
        differing = [i for i in cpp_rows.keys() | spark_rows.keys()
                     if cpp_rows.get(i) != spark_rows.get(i)]  # fmt: skip
        assert not differing, [(i, cpp_rows.get(i), spark_rows.get(i)) for i in differing[:3]]

        cpp_letters, spark_letters = letters_by_source(lane), letters_by_source(spark)
        assert all(len(v) == 1 for v in cpp_letters.values())
        assert all(len(v) == 1 for v in spark_letters.values()), "one letter per record"
        assert cpp_letters.keys() == spark_letters.keys()
        mismatched = [
            (source, cpp_letters[source][0], spark_letters[source][0])
            for source in cpp_letters
            if comparable(cpp_letters[source][0]) != comparable(spark_letters[source][0])
        ]
        assert not mismatched, mismatched[:3]

        by_label = {r.headers["test.label"]: r for r in raw if "test.label" in r.headers}
        rule_of = {s: dict(v[0].headers)["sluice.rule"] for s, v in spark_letters.items()}
        for name, _, _, expect in cases:
            for variant in ("avro", "json"):
                record = by_label[f"case-{name}-{variant}"]
                got = rule_of.get(record.position)
                want = ",".join(expect) if expect else None
                assert got == want, (name, variant, got, want)
        for key, (_, want) in odd.items():
            got = rule_of.get(by_label[key.decode()].position)
            assert got == want, (key, got, want)

        assert verify(sluice_bin, spark)["ok"]
        assert verify(sluice_bin, lane)["ok"]
    finally:
        drop_lane(other)


def comparable(letter: Letter) -> tuple:
    """A letter without the reason text of decode failures, which names the decoder's own
    complaint (avro-c's and Spark's words differ); every other header must be equal."""
    headers = dict(letter.headers)
    if headers.get("sluice.rule", "").startswith("decode."):
        headers.pop("sluice.reason", None)
    return (letter.key, letter.value, tuple(sorted(headers.items())))


PSEUDONYMISED = ("email", "phone", "last_name")


def hmac_hex(key: str, value: str) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def test_spark_and_cpp_pseudonymise_the_same_fields_into_the_same_cells(
    sluice_bin: Path, lane: Lane, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--pseudonymise email,phone,last_name` with one key (SLUICE_PSEUDONYM_KEY, the default
    source) in both processors: the same rows cell by cell, each naming the key's id, the
    chosen fields as HMAC-SHA-256 hex of the raw values, no raw value of them in any cell,
    and dead letters with the raw bytes."""
    key = secrets.token_urlsafe(32)
    monkeypatch.setenv("SLUICE_PSEUDONYM_KEY", key)
    key_id = hmac_hex(key, "sluice-pseudonym-key-id")[:16]
    avsc = json.loads((repo / "contract" / "user.avsc").read_text())
    schema_id = register(f"{lane.raw}-value", avsc)
    users = generate(sluice_bin, seed=29, count=800, bad_ratio=0.2)
    records: list[Outgoing] = []
    for i, user in enumerate(users):  # every other one as Avro, the rest as JSON
        fields = {k: v.encode() for k, v in user.items() if k in USER_FIELDS and v is not None}
        value = avro_user(schema_id, fields) if i % 2 else json_value(user)
        records.append((json_key(user), value, 0, f"user-{i}"))
    produce(lane.raw, records)
    valid = {u["id"]: u for u in users if u["_bad_kind"] == "none"}

    other = make_lane(repo)
    try:
        spark = spark_lane(other, lane.raw)
        flag = ("--pseudonymise", ",".join(PSEUDONYMISED))
        runs = [
            run_spark_to_end(sluice_bin, spark, tmp_path / "checkpoint", *flag),
            run_processor_to_end(sluice_bin, lane, *flag),
        ]
        assert all(key not in r.stdout + r.stderr for r in runs), "the key is never logged"
        assert all(f"key id {key_id}" in r.stdout + r.stderr for r in runs), [
            r.stderr[-2000:] for r in runs
        ]

        cpp_rows, spark_rows = rows_with_writetime(lane), rows_with_writetime(spark)
        assert cpp_rows.keys() == valid.keys()
        differing = [i for i in cpp_rows.keys() | spark_rows.keys()
                     if cpp_rows.get(i) != spark_rows.get(i)]  # fmt: skip
        assert not differing, [(i, cpp_rows.get(i), spark_rows.get(i)) for i in differing[:3]]

        # A raw value of a chosen field must be in no cell, unless it is also the raw value
        # of a field stored as received (a last name can be someone's first name).
        kept = {v for u in users for k, v in u.items() if k not in PSEUDONYMISED and v}
        secret = {u[f] for u in users for f in PSEUDONYMISED if u.get(f)} - kept
        assert len(secret) > 1000
        for stored in (lane, spark):
            for row_id, row in stored_rows(stored).items():
                assert row.pseudonym_key_id == key_id, (stored.keyspace, row_id)
                cells = {str(cell) for cell in row if cell is not None}
                assert not cells & secret, (stored.keyspace, row_id, cells & secret)
                raw = valid[row_id]
                for f in PSEUDONYMISED:
                    want = None if raw.get(f) is None else hmac_hex(key, raw[f])
                    assert getattr(row, f) == want, (stored.keyspace, row_id, f)
                assert (row.first_name, row.address) == (raw["first_name"], raw["address"])

        raw_values = {r.position: r.value for r in read_raw(lane.raw)}
        cpp_letters, spark_letters = letters_by_source(lane), letters_by_source(spark)
        assert cpp_letters.keys() == spark_letters.keys()
        assert len(cpp_letters) == len(users) - len(valid)
        for source, (letter,) in cpp_letters.items():
            assert letter.value == raw_values[source], source
            assert comparable(letter) == comparable(spark_letters[source][0]), source
    finally:
        drop_lane(other)


def test_spark_job_killed_mid_run_resumes_from_its_checkpoint_exactly_once(
    sluice_bin: Path, lane: Lane, tmp_path: Path
) -> None:
    users = generate(sluice_bin, seed=61, count=8_000, bad_ratio=0.05)
    produce_json(lane.raw, users)
    checkpoint = tmp_path / "checkpoint"
    port = free_port()
    job = start_spark(sluice_bin, lane, checkpoint, tmp_path / "spark.log",
                      "--max-offsets-per-trigger", "1000", metrics_port=port)  # fmt: skip
    try:
        # Kill only once some batches are acknowledged and committed, and work remains.
        deadline = time.monotonic() + 240
        written = commits = 0.0
        while time.monotonic() < deadline and not (written >= 1500 and commits >= 2):
            assert job.poll() is None, (tmp_path / "spark.log").read_text()[-3000:]
            time.sleep(0.2)
            written = metric(port, "sluice_process_written_total") or 0.0
            commits = metric(port, "sluice_process_commits_total") or 0.0
        assert written >= 1500 and commits >= 2, (written, commits)
    finally:
        kill_group(job)
    committed = committed_offsets(lane.group, lane.raw)
    marks = high_watermarks(lane.raw)
    assert 0 < sum(committed.values()) < sum(marks.values()), (committed, marks)

    run_spark_to_end(sluice_bin, lane, checkpoint, "--max-offsets-per-trigger", "20000")
    assert_exactly_once(lane, users, processor_crashed=True)
    assert verify(sluice_bin, lane)["ok"]


def test_spark_job_on_the_standalone_cluster_processes_a_batch_verify_reconciles(
    sluice_bin: Path, lane: Lane, tmp_path: Path
) -> None:
    up = subprocess.run(
        [str(sluice_bin), "up", "--spark-cluster", "true", "--start-pipeline", "false", *UP_FLAGS],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert up.returncode == 0, up.stderr[-3000:]
    try:
        status = json.loads(subprocess.run(
            [str(sluice_bin), "status", "--output", "json", "--spark-cluster", "true", *UP_FLAGS],
            capture_output=True, text=True, timeout=60, check=False,
        ).stdout)  # fmt: skip
        running = {c["name"] for c in status if c["running"]}
        assert {"spark-master", "spark-worker"} <= running, status
        master = requests.get("http://127.0.0.1:8091/json/", timeout=10).json()
        assert master["aliveworkers"] >= 1
        manifest = tmp_path / "manifest.json"
        produced = subprocess.run(
            [str(sluice_bin), "produce", *SLUICE_FLAGS, "--topic", lane.raw, "--count", "5000",
             "--bad-ratio", "0.1", "--seed", "5", "--manifest", str(manifest)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert produced.returncode == 0, produced.stderr
        result = run_spark_to_end(sluice_bin, lane, tmp_path / "checkpoint",
                                  "--master", "spark://127.0.0.1:7077",
                                  "--executor-memory", "512m")  # fmt: skip
        assert "master spark://127.0.0.1:7077" in result.stderr
        apps = requests.get("http://127.0.0.1:8091/json/", timeout=10).json()["completedapps"]
        assert any(a["name"] == "sluice-spark" for a in apps), apps
        report = verify(sluice_bin, lane, True, "--manifest", str(manifest))
        assert report["ok"] and report["stored"] + report["superseded"] > 4000, report
    finally:
        subprocess.run(
            [str(sluice_bin), "down", "--only", "spark-worker,spark-master", *UP_FLAGS],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip


def test_up_with_processor_both_runs_the_spark_job_beside_the_cpp_one_and_verify_balances(
    sluice_bin: Path,
) -> None:
    up = subprocess.run(
        [str(sluice_bin), "up", "--processor", "both", *UP_FLAGS],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert up.returncode == 0, up.stderr[-3000:]
    try:
        assert "sluice_spark.users, users.dlq.spark; group sluice-spark" in up.stdout
        status = {
            c["name"]: c
            for c in json.loads(
                subprocess.run(
                    [str(sluice_bin), "status", "--output", "json", *UP_FLAGS],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=False,
                ).stdout  # fmt: skip
            )
        }
        assert status["spark"]["running"] and status["process"]["running"]
        health = requests.get("http://127.0.0.1:9472/health", timeout=10)
        assert health.status_code == 200
        # The console's live flow shows both processors side by side.
        deadline = time.monotonic() + 60
        while True:
            flow = requests.get("http://127.0.0.1:9000/api/v1/flow?seconds=60", timeout=10).json()
            running = {p["name"]: p for p in flow["processors"] if p["running"] and p["samples"]}
            if {"cpp", "spark"} <= running.keys() or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert {"cpp", "spark"} <= running.keys(), flow
        # The Spark job catches up with everything the stack's producer sent so far and
        # accounts for it on its own keyspace and dead-letter topic.
        result = subprocess.run(
            [str(sluice_bin), "verify", *SLUICE_FLAGS, "--group", "sluice-spark",
             "--keyspace", "sluice_spark", "--dlq-topic", "users.dlq.spark",
             "--timeout", "400", "--output", "json"],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        report = json.loads(result.stdout)
        assert report["ok"] and report["stored"] > 0 and report["dead_by_rule"], report
        metrics = requests.get("http://127.0.0.1:9472/metrics", timeout=10).text
        assert "sluice_process_written_total" in metrics
        assert 'sluice_process_invalid_total{rule="' in metrics
    finally:
        subprocess.run(
            [str(sluice_bin), "down", "--only", "spark", *UP_FLAGS],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip


def spark_cli(
    sluice_bin: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(sluice_bin), "spark", *SLUICE_FLAGS, *args],
        capture_output=True, text=True, timeout=120, check=False,
        env=None if env is None else os.environ | env,
    )  # fmt: skip


def test_spark_job_refuses_bad_configuration_with_a_message_that_says_what_to_do(
    sluice_bin: Path, lane: Lane, tmp_path: Path
) -> None:
    bad_master = spark_cli(sluice_bin, "--master", "yarn")
    assert bad_master.returncode == 2
    assert "--master must be local, local[N], local[*] or spark://HOST:PORT, got 'yarn'" in (
        bad_master.stderr
    )
    row_key = spark_cli(sluice_bin, "--pseudonymise", "email,id")
    assert row_key.returncode == 2
    assert "'id' is refused: the row key cannot be pseudonymised" in row_key.stderr
    short_key = spark_cli(
        sluice_bin, "--pseudonymise", "email", env={"SLUICE_PSEUDONYM_KEY": "short-key"}
    )
    assert short_key.returncode == 2 and "short-key" not in short_key.stderr
    assert "from $SLUICE_PSEUDONYM_KEY is 9 bytes" in short_key.stderr, short_key.stderr
    no_registry = spark_cli(sluice_bin, "--topic", lane.raw, "--registry", "http://127.0.0.1:1")
    assert no_registry.returncode == 2
    assert "the schema registry at http://127.0.0.1:1 does not answer" in no_registry.stderr
    no_kafka = spark_cli(sluice_bin, "--bootstrap", "127.0.0.1:1")
    assert no_kafka.returncode == 2 and "Kafka at 127.0.0.1:1 is unreachable" in no_kafka.stderr
    fake_java = tmp_path / "jdk11" / "bin" / "java"
    fake_java.parent.mkdir(parents=True)
    fake_java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.24\" 2024-07-16' >&2\n")
    fake_java.chmod(0o755)
    old_java = spark_cli(sluice_bin, env={"JAVA_HOME": str(tmp_path / "jdk11")})
    assert old_java.returncode == 2 and "needs Java 17" in old_java.stderr, old_java.stderr
    # A checkpoint is bound to its topic and group: reusing it for another is refused
    # before anything is read (it would skip or re-read the other topic's offsets).
    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    (checkpoint / "sluice-job.json").write_text(
        json.dumps({"job_version": 1, "topic": "users.raw", "group": lane.group})
    )
    reused = spark_cli(sluice_bin, *lane_flags(lane), "--checkpoint", str(checkpoint))
    assert reused.returncode == 2
    assert "belongs to another job: topic 'users.raw'" in reused.stderr, reused.stderr
