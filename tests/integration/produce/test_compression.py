"""What `sluice produce` puts on the broker's disk, read back by Kafka's own
DumpLogSegments tool (an independent witness, not the client's word): batches compressed
with the codec asked for, written by an idempotent producer (a producer id and sequence
numbers), and the records read back unchanged."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.endpoints import SLUICE_FLAGS
from tests.kafka_helpers import consume_all, fresh_topic

pytestmark = pytest.mark.usefixtures("stack")

KAFKA_DATA = Path(os.environ.get("SLUICE_TEST_KAFKA_DATA", REPO / ".stack/data/kafka"))
KAFKA_CP = str(REPO / ".stack/lib/kafka/*")


def dump_batches(topic: str) -> list[dict[str, str]]:
    """Every record batch header of partition 0, as DumpLogSegments prints it."""
    segment = sorted((KAFKA_DATA / f"{topic}-0").glob("*.log"))[0]
    out = subprocess.run(
        [
            "java",
            "-cp",
            KAFKA_CP,
            "org.apache.kafka.tools.DumpLogSegments",
            "--files",
            str(segment),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    batches = []
    for line in out.splitlines():
        if line.startswith("baseOffset:"):
            batches.append(dict(re.findall(r"(\w+): (\S+)", line)))
    return batches


@pytest.mark.parametrize("codec", ["lz4", "zstd"])
def test_produced_batches_are_stored_compressed_by_an_idempotent_producer(
    sluice_bin: Path, codec: str
) -> None:
    topic = fresh_topic(f"codec-{codec}", partitions=1)
    subprocess.run(
        [
            str(sluice_bin),
            "produce",
            *SLUICE_FLAGS,
            "--topic",
            topic,
            "--format",
            "json",
            "--count",
            "2000",
            "--compression",
            codec,
            "--metrics-port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    batches = dump_batches(topic)
    assert batches, "no batch on disk"
    assert {b["compresscodec"] for b in batches} == {codec}
    assert sum(int(b["count"]) for b in batches) == 2000
    # Idempotence: a real producer id (-1 without it) and sequences that run on batch to batch.
    assert {b["producerId"] for b in batches} != {"-1"} and len(
        {b["producerId"] for b in batches}
    ) == 1
    sequences = [(int(b["baseSequence"]), int(b["lastSequence"])) for b in batches]
    assert sequences[0][0] == 0
    for (_, last), (first, _) in zip(sequences, sequences[1:], strict=False):
        assert first == last + 1
    values = [m.value() for m in consume_all(topic, 2000)]
    assert len(values) == 2000 and all(v.startswith(b"{") for v in values)
