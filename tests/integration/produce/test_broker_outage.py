"""`sluice produce` while the Kafka broker is stopped for 20 s in the middle of a run:
the producer keeps running, and once the broker is back every record is in the topic
exactly once (the idempotent producer's retries leave no duplicates)."""

import json
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.endpoints import SLUICE_FLAGS
from tests.kafka_helpers import consume_all, fresh_topic
from tests.stack_control import take_down_for

pytestmark = pytest.mark.usefixtures("stack")


def test_broker_stopped_for_20_s_loses_and_duplicates_nothing(
    sluice_bin: Path, tmp_path: Path
) -> None:
    topic, count, seed = fresh_topic("outage"), 120_000, 77
    manifest_path = tmp_path / "run.json"
    producer = subprocess.Popen(
        [
            str(sluice_bin),
            "produce",
            *SLUICE_FLAGS,
            "--topic",
            topic,
            "--seed",
            str(seed),
            "--count",
            str(count),
            "--rate",
            "4000",
            "--manifest",
            str(manifest_path),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(6)
        assert producer.poll() is None, "the producer finished before the outage began"
        take_down_for(sluice_bin, "kafka", 20)
        assert producer.poll() is None or producer.returncode == 0, "the producer died"
        _, stderr = producer.communicate(timeout=300)
    finally:
        if producer.poll() is None:
            producer.kill()
    assert producer.returncode == 0, stderr[-3000:]
    assert "waiting" in stderr or "Connection refused" in stderr or "Disconnected" in stderr

    manifest = json.loads(manifest_path.read_text())
    assert manifest["acknowledged"] == count

    keys = Counter(m.key().decode() for m in consume_all(topic, count, timeout_s=180))
    duplicates = {k: n for k, n in keys.items() if n > 1}
    assert not duplicates, f"{len(duplicates)} keys appear more than once"
    expected_ids = {
        json.loads(line)["id"]
        for line in subprocess.run(
            [str(sluice_bin), "gen", "--seed", str(seed), "--count", str(count)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    }
    assert set(keys) == expected_ids
