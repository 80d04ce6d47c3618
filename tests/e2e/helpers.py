"""Helpers for end-to-end tests: a fresh topic pair and Cassandra keyspace per test (a
"lane"), so runs never see each other's data, and running `sluice process`."""

import functools
import json
import re
import subprocess
import time
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from cassandra import OperationTimedOut
from cassandra.cluster import Cluster, NoHostAvailable, Session
from cassandra.connection import ConnectionException
from cassandra.policies import ConstantReconnectionPolicy
from cassandra.query import SimpleStatement
from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic

from tests.endpoints import BOOTSTRAP, CASSANDRA_PORT, REGISTRY, SLUICE_FLAGS

__all__ = ["BOOTSTRAP", "REGISTRY", "CASSANDRA_PORT"]

# The rule id each injected defect of `sluice gen --bad-ratio` must be dead-lettered with.
RULE_OF_KIND = {
    "bad_uuid": "id.uuid",
    "bad_email": "email.format",
    "future_dob": "dob.range",
    "missing_email": "email.required",
    "empty_first_name": "first_name.required",
    "long_last_name": "last_name.max_length",
    "bad_dob_format": "dob.format",
    "bad_picture_url": "picture.url",
    "bad_gender": "gender.enum",
    "future_registration": "registered_date.not_future",
    "bad_phone": "phone.format",
    "bad_username": "username.format",
    "bad_registered_format": "registered_date.format",
    "bad_postcode": "postcode.format",
}

REPO = Path(__file__).resolve().parents[2]

# The contract's fields, in the order of contract/user.avsc; each is a column of `users`.
USER_FIELDS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "gender",
    "dob",
    "address",
    "postcode",
    "username",
    "registered_date",
    "picture",
)


@functools.cache
def contract_version(repo: Path = REPO) -> int:
    """The `version:` of contract/rules.yaml, which every row and dead letter carries."""
    text = (repo / "contract" / "rules.yaml").read_text()
    found = re.search(r"^version:\s*(\d+)\s*$", text, re.MULTILINE)
    assert found, "contract/rules.yaml has no top-level `version:`"
    return int(found[1])


@dataclass
class Lane:
    raw: str
    dlq: str
    keyspace: str
    group: str
    session: Session


def users_ddl(repo: Path, keyspace: str) -> list[str]:
    text = (repo / "contract" / "cassandra.cql").read_text()
    lines = [line for line in text.splitlines() if not line.strip().startswith("--")]
    statements = [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
    return [
        s.replace("sluice.", f"{keyspace}.").replace("EXISTS sluice", f"EXISTS {keyspace}")
        for s in statements
    ]


def make_lane(repo: Path) -> Lane:
    tag = uuid.uuid4().hex[:10]
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    raw, dlq = f"e2e-{tag}-raw", f"e2e-{tag}-dlq"
    futures = admin.create_topics([NewTopic(raw, 6, 1), NewTopic(dlq, 3, 1)])
    for future in futures.values():
        future.result(30)
    # Reconnect every second: tests stop Cassandra, and the driver's default exponential
    # backoff would leave the session without a host long after Cassandra is back.
    cluster = Cluster(
        ["127.0.0.1"], port=CASSANDRA_PORT, reconnection_policy=ConstantReconnectionPolicy(1.0)
    )
    session = cluster.connect()
    keyspace = f"e2e_{tag}"
    for statement in users_ddl(repo, keyspace):
        session.execute(statement, timeout=60)
    return Lane(raw, dlq, keyspace, f"e2e-{tag}", session)


def drop_lane(lane: Lane) -> None:
    # A test may have restarted Cassandra last: the driver's connections are then
    # defunct until it reconnects, so wait for an answer before dropping.
    await_session(lane)
    lane.session.execute(f"DROP KEYSPACE IF EXISTS {lane.keyspace}", timeout=60)
    AdminClient({"bootstrap.servers": BOOTSTRAP}).delete_topics([lane.raw, lane.dlq])
    lane.session.cluster.shutdown()


def lane_flags(lane: Lane) -> list[str]:
    """The flags that point process and verify at a lane's topics, group and keyspace."""
    return [
        "--topic",
        lane.raw,
        "--dlq-topic",
        lane.dlq,
        "--group",
        lane.group,
        "--keyspace",
        lane.keyspace,
    ]


def process_command(sluice: Path, lane: Lane, *extra: str, metrics_port: int = 0) -> list[str]:
    return [
        str(sluice),
        "process",
        *lane_flags(lane),
        "--metrics-port",
        str(metrics_port),
        *SLUICE_FLAGS,
        "--cassandra-port",
        str(CASSANDRA_PORT),
        *extra,
    ]


def run_processor_to_end(sluice: Path, lane: Lane, *extra: str) -> subprocess.CompletedProcess[str]:
    command = process_command(sluice, lane, "--stop-at-end", "--idle-exit", "4", *extra)
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def generate(sluice: Path, seed: int, count: int, bad_ratio: float) -> list[dict]:
    out = subprocess.run(
        [
            str(sluice),
            "gen",
            "--seed",
            str(seed),
            "--count",
            str(count),
            "--bad-ratio",
            str(bad_ratio),
            "--with-kind",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines()]


def json_key(user: dict) -> bytes:
    """The key produce_json gives a generated user's record."""
    return (user["id"] or "").encode()


def canonical_value(value: bytes | None) -> bytes | None:
    """A JSON value in one spelling (sorted keys, ASCII escapes), so that records written by
    `sluice produce` and by produce_json compare by content; anything else as it is."""
    if value is None:
        return None
    try:
        return json.dumps(json.loads(value), sort_keys=True).encode()
    except ValueError:
        return value


def await_session(lane: Lane, timeout_s: float = 90) -> None:
    """After Cassandra restarted: waits until the lane's driver session answers again (its
    old connections are defunct until the driver notices)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            lane.session.execute("SELECT release_version FROM system.local", timeout=10)
            return
        except (NoHostAvailable, OperationTimedOut, ConnectionException) as problem:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"Cassandra did not answer the test's session: {problem}"
                ) from problem
            time.sleep(1)


def json_value(user: dict) -> bytes:
    """The value produce_json gives a generated user's record (without `_bad_kind`)."""
    return json.dumps({k: v for k, v in user.items() if k != "_bad_kind"}).encode()


def produce_json(topic: str, users: list[dict]) -> None:
    producer = Producer(
        {"bootstrap.servers": BOOTSTRAP, "enable.idempotence": True, "linger.ms": 20}
    )
    for user in users:
        while True:
            try:
                producer.produce(topic, key=json_key(user), value=json_value(user))
                break
            except BufferError:  # the local queue is full: let deliveries drain it
                producer.poll(0.5)
        producer.poll(0)
    assert producer.flush(60) == 0


def _assigning_consumer(purpose: str) -> Consumer:
    # group.id only because the client wants one: partitions are assigned, never subscribed,
    # so no group is joined and nothing is committed.
    return Consumer(
        {
            "bootstrap.servers": BOOTSTRAP,
            "group.id": f"{purpose}-{time.time_ns()}",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
            "isolation.level": "read_uncommitted",
        }
    )


def _watermarks(consumer: Consumer, topic: str) -> dict[int, tuple[int, int]]:
    metadata = consumer.list_topics(topic, timeout=30).topics[topic]
    assert metadata.error is None, f"{topic}: {metadata.error}"
    assert metadata.partitions, f"{topic} has no partitions"
    return {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30, cached=False)
        for p in sorted(metadata.partitions)
    }


def metric(port: int, name: str) -> float | None:
    try:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except requests.RequestException:
        return None
    match = re.search(rf"^{name} ([0-9.e+-]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


def wait_for_metric(port: int, name: str, above: float, timeout_s: float) -> float | None:
    """Polls a processor's /metrics until `name` exceeds `above` (or time runs out)."""
    deadline = time.monotonic() + timeout_s
    value = metric(port, name)
    while (value is None or value <= above) and time.monotonic() < deadline:
        time.sleep(0.5)
        value = metric(port, name)
    return value


def committed_offsets(group: str, topic: str) -> dict[int, int]:
    """The group's committed offset per partition of `topic` (-1001 where none)."""
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    partitions = list(high_watermarks(topic))
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in partitions])
    answer = admin.list_consumer_group_offsets([request])[group].result(30)
    return {tp.partition: tp.offset for tp in answer.topic_partitions}


def high_watermarks(topic: str) -> dict[int, int]:
    """Each partition's high watermark, uncommitted records included: the offset its next
    record will get, so all 0 means nothing was ever written to the topic."""
    consumer = _assigning_consumer("watermarks")
    try:
        return {p: high for p, (_, high) in _watermarks(consumer, topic).items()}
    finally:
        consumer.close()


def assert_topic_empty(topic: str) -> None:
    """Asserts from the brokers' high watermarks (not from a read that may give up early)
    that no record was ever written to `topic`."""
    marks = high_watermarks(topic)
    assert sum(marks.values()) == 0, f"{topic} holds records: high watermarks {marks}"


def read_all(topic: str, timeout: float = 180) -> list[Message]:
    """Every record of `topic` up to each partition's high watermark taken at the start.

    Partitions are assigned from offset 0 (no group to join) and read until each reached
    its mark, so the read cannot end early; it fails after `timeout` seconds instead.
    """
    consumer = _assigning_consumer("reader")
    try:
        marks = _watermarks(consumer, topic)
        deleted = {p: low for p, (low, _) in marks.items() if low != 0}
        assert not deleted, f"{topic}: records were deleted (low watermarks {deleted})"
        left = {p: high for p, (_, high) in marks.items() if high > 0}
        consumer.assign([TopicPartition(topic, p, 0) for p in left])
        messages: list[Message] = []
        deadline = time.monotonic() + timeout
        while left:
            assert time.monotonic() < deadline, f"{topic}: not read to {left} in {timeout} s"
            for m in consumer.consume(1000, 0.5):
                if m.error() is not None:
                    if m.error().fatal():
                        raise KafkaException(m.error())
                    continue
                end = left.get(m.partition())
                if end is not None and m.offset() < end:
                    messages.append(m)
                    if m.offset() + 1 >= end:
                        del left[m.partition()]
        return messages
    finally:
        consumer.close()


@dataclass(frozen=True)
class RawRecord:
    """One record as the raw topic holds it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    headers: dict[str, str]

    @property
    def position(self) -> tuple[str, int, int]:
        return (self.topic, self.partition, self.offset)


def read_raw(topic: str) -> list[RawRecord]:
    return [
        RawRecord(
            m.topic(),
            m.partition(),
            m.offset(),
            m.key(),
            m.value(),
            m.timestamp()[1],
            headers_of(m),
        )
        for m in read_all(topic)
    ]


def headers_of(message: Message) -> dict[str, str]:
    return {k: v.decode() for k, v in (message.headers() or [])}


def stored_ids(lane: Lane) -> list[str]:
    rows = lane.session.execute(f"SELECT id FROM {lane.keyspace}.users", timeout=120)
    return [str(row.id) for row in rows]


def stored_rows(lane: Lane) -> dict[str, Any]:
    """Every row of the lane's `users` (named tuples of all columns), by id."""
    statement = SimpleStatement(f"SELECT * FROM {lane.keyspace}.users", fetch_size=5000)
    return {str(row.id): row for row in lane.session.execute(statement, timeout=120)}


def verify(sluice: Path, lane: Lane, expect_ok: bool | None = True, *extra: str) -> dict:
    """Runs `sluice verify --output json [extra]`; expect_ok None accepts either verdict."""
    result = subprocess.run(
        [
            str(sluice),
            "verify",
            *lane_flags(lane),
            "--output",
            "json",
            "--bootstrap",
            BOOTSTRAP,
            "--cassandra-port",
            str(CASSANDRA_PORT),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    allowed = {0, 1} if expect_ok is None else {0 if expect_ok else 1}
    assert result.returncode in allowed, result.stdout + result.stderr
    return json.loads(result.stdout)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def wait_until_verified(sluice: Path, lane: Lane, timeout_s: float) -> dict:
    """Polls `sluice verify` (every 5 s) until the running processors have caught up, or
    `timeout_s` passed; returns the last report."""
    deadline = time.monotonic() + timeout_s
    while True:
        report = verify(sluice, lane, expect_ok=None)
        if report["ok"] or time.monotonic() > deadline:
            return report
        time.sleep(5)


def epoch_ms(instant: datetime) -> int:
    """Milliseconds since the epoch; a naive datetime (as the driver returns) is UTC."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return (instant - _EPOCH) // timedelta(milliseconds=1)


def schema_id_in(value: bytes | None) -> int | None:
    """The registry schema id of a Confluent-framed value (magic 0, 4-byte id), else None."""
    if value is None or len(value) < 5 or value[0] != 0:
        return None
    return int.from_bytes(value[1:5], "big")


@dataclass(frozen=True)
class Expect:
    """What one raw record must become: a `users` row of `user`'s values (`schema_id` the
    registry id it was written with, None for JSON), or, when `rule` is set, dead letters."""

    user: dict[str, str] | None = None
    schema_id: int | None = None
    rule: str | None = None


def row_problems(
    row: Any, user: dict[str, str], raw: RawRecord, schema_id: int | None
) -> list[str]:
    """How a stored row differs from the row `raw` (sent as `user`) must give: every column."""
    expected: dict[str, object] = {name: user[name] for name in USER_FIELDS}
    expected["registered_date"] = epoch_ms(datetime.fromisoformat(user["registered_date"]))
    expected |= {
        "contract_version": contract_version(),
        "schema_id": schema_id,
        "source_topic": raw.topic,
        "source_partition": raw.partition,
        "source_offset": raw.offset,
        "produced_at": raw.timestamp_ms,
        "pseudonym_key_id": "",
    }
    if set(row._fields) != set(expected):
        return [f"row {user['id']}: columns {sorted(row._fields)}, expected {sorted(expected)}"]
    actual = row._asdict()
    actual["id"] = str(row.id)
    actual["dob"] = row.dob.date().isoformat() if row.dob is not None else None
    for name in ("registered_date", "produced_at"):
        actual[name] = epoch_ms(actual[name]) if actual[name] is not None else None
    return [
        f"row {user['id']} (from {raw.topic}/{raw.partition}/{raw.offset}): "
        f"{name} is {actual[name]!r}, expected {want!r}"
        for name, want in expected.items()
        if actual[name] != want
    ]


# The dead letter of a record with a null value has a null value too (so `sluice dlq
# replay` sends a null back, not an empty value).
NULL_RECORD_LETTER_VALUE: bytes | None = None


def letter_problems(letter: Message, raw: RawRecord, rule: str) -> list[str]:
    """How a dead letter differs from the one `raw` must give for `rule`: every header,
    its key and its value (the raw record's bytes)."""
    where = f"dead letter {letter.partition()}/{letter.offset()} of {raw.position}"
    names = [name for name, _ in letter.headers() or []]
    problems = [f"{where}: repeated headers {names}"] if len(names) != len(set(names)) else []
    field = "" if rule.startswith("decode.") else rule.split(".")[0]
    expected = {
        "sluice.rule": rule,
        "sluice.field": field,
        "sluice.source.topic": raw.topic,
        "sluice.source.partition": str(raw.partition),
        "sluice.source.offset": str(raw.offset),
        "sluice.contract.version": str(contract_version()),
    }
    if schema_id_in(raw.value) is not None:
        expected["sluice.schema.id"] = str(schema_id_in(raw.value))
    headers = headers_of(letter)
    problems += [
        f"{where}: {name} is {headers.get(name)!r}, expected {want!r}"
        for name, want in expected.items()
        if headers.get(name) != want
    ]
    unexpected = set(headers) - set(expected) - {"sluice.reason"}
    if unexpected:
        problems.append(f"{where}: unexpected headers {sorted(unexpected)}")
    reason = headers.get("sluice.reason", "")
    if not reason.strip() or field not in reason:
        problems.append(f"{where}: sluice.reason {reason!r} does not explain {field or rule}")
    if letter.key() != raw.key:
        problems.append(f"{where}: key {letter.key()!r}, expected {raw.key!r}")
    value = raw.value if raw.value is not None else NULL_RECORD_LETTER_VALUE
    if letter.value() != value:
        problems.append(f"{where}: value {letter.value()!r:.80}, expected {value!r:.80}")
    return problems


def assert_lane_holds(
    lane: Lane,
    raw: list[RawRecord],
    expect: Callable[[RawRecord], Expect],
    *,
    letters_may_repeat: bool,
) -> int:
    """Asserts that each raw record became what `expect` says, and nothing else exists:
    a row per valid record, all columns equal, at that record's position (one version per
    id); dead letters at each invalid record's position, exactly one unless
    `letters_may_repeat` (a crashed processor re-sends them); no other rows or letters.
    Returns how many re-sent letters there were."""
    rows = stored_rows(lane)
    letters: defaultdict[tuple[str, int, int], list[Message]] = defaultdict(list)
    for letter in read_all(lane.dlq):
        h = headers_of(letter)
        source = h.get("sluice.source.topic", "?")
        partition, offset = (
            h.get("sluice.source.partition", "-1"),
            h.get("sluice.source.offset", "-1"),
        )
        letters[(source, int(partition), int(offset))].append(letter)
    plan = [(record, expect(record)) for record in raw]
    ids = [e.user["id"] for _, e in plan if e.user is not None]
    assert len(ids) == len(set(ids)), "test setup: at most one valid record per id"
    problems: list[str] = []
    for record, e in plan:
        got = letters.get(record.position, [])
        if e.rule is None:
            assert e.user is not None, "test setup: expect a row or a rule"
            row = rows.get(e.user["id"])
            if row is None:
                problems.append(f"no row {e.user['id']} for {record.position}")
            else:
                problems += row_problems(row, e.user, record, e.schema_id)
            if got:
                problems.append(f"valid {record.position} has {len(got)} dead letter(s)")
            continue
        if not got:
            problems.append(f"no dead letter for {record.position} ({e.rule})")
        elif len(got) > 1 and not letters_may_repeat:
            problems.append(f"{len(got)} dead letters for {record.position}, expected 1")
        for letter in got:
            problems += letter_problems(letter, record, e.rule)
    extra_rows = set(rows) - set(ids)
    if extra_rows:
        problems.append(f"{len(extra_rows)} rows no valid record gives: {sorted(extra_rows)[:5]}")
    invalid = {record.position for record, e in plan if e.rule is not None}
    stray = sorted(set(letters) - invalid)
    if stray:
        problems.append(f"{len(stray)} dead letter source(s) with no invalid record: {stray[:5]}")
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:30])
    return sum(len(got) - 1 for got in letters.values())


def assert_exactly_once(lane: Lane, users: list[dict], *, processor_crashed: bool = True) -> int:
    """Asserts that the raw topic holds exactly `users` (as produce_json sent them), that
    each valid one is a row equal in every column, at its record's position, and each bad
    one has dead letters with its rule and position: exactly one, or, when the processor
    crashed, at least one (reported, as re-sending letters is allowed). Returns how many
    letters were re-sent."""
    raw = read_raw(lane.raw)
    by_value = {canonical_value(json_value(u)): u for u in users}
    sent = Counter((json_key(u), value) for value, u in by_value.items())
    assert len(by_value) == len(users), "test setup: generated users are distinct"
    held = Counter((r.key, canonical_value(r.value)) for r in raw)
    missing, unexpected = sent - held, held - sent
    assert not missing and not unexpected, (
        f"the raw topic lacks {sum(missing.values())} produced record(s) "
        f"and holds {sum(unexpected.values())} other(s): {list(missing or unexpected)[:3]}"
    )

    def expect(record: RawRecord) -> Expect:
        user = by_value[canonical_value(record.value)]
        if user["_bad_kind"] == "none":
            return Expect(user=user)
        return Expect(rule=RULE_OF_KIND[user["_bad_kind"]])

    resent = assert_lane_holds(lane, raw, expect, letters_may_repeat=processor_crashed)
    if resent:
        warnings.warn(
            f"{resent} dead letter(s) of {lane.dlq} were re-sent copies (allowed after a crash)",
            stacklevel=2,
        )
    return resent
