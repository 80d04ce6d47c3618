"""The job's Kafka consumer group, kept by hand. Spark's Kafka source tracks offsets in its
checkpoint and commits nothing to Kafka, but `sluice verify`, the console and lag
monitoring read a group's committed offsets; so after each micro-batch has been written
to both sinks and recorded in the checkpoint, the batch's end offsets are committed to
`--group` (a group without members: commits only, no rebalancing)."""

from __future__ import annotations

import json
import logging
import threading
import time

from confluent_kafka import OFFSET_INVALID, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource  # type: ignore[attr-defined]

log = logging.getLogger("sluice_spark.kafka_group")

# Answers that mean "the group's coordinator is being set up": ask again.
_COORDINATOR_PENDING = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
}


class GroupOffsets:
    def __init__(
        self, bootstrap: str, group: str, topic: str, settings: dict[str, str] | None = None
    ) -> None:
        self._topic = topic
        self._lock = threading.Lock()
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group,
                "enable.auto.commit": False,
                "client.id": "sluice-spark-offsets",
                "log_level": 3,
                **(settings or {}),
            }
        )
        self.committed_to: dict[int, int] = {}

    def committed(self, timeout: float = 10.0) -> dict[int, int]:
        """The group's committed offsets for the topic (partitions without one left out)."""
        with self._lock:
            metadata = self._consumer.list_topics(self._topic, timeout=timeout)
            partitions = [
                TopicPartition(self._topic, p) for p in metadata.topics[self._topic].partitions
            ]
            answer = self._committed_when_coordinated(partitions, timeout)
        return {tp.partition: tp.offset for tp in answer if tp.offset != OFFSET_INVALID}

    def _committed_when_coordinated(
        self, partitions: list[TopicPartition], timeout: float
    ) -> list[TopicPartition]:
        """committed(), asked again while the group has no coordinator yet (a fresh broker
        creates its offsets topic on the first group request) until `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return list(self._consumer.committed(partitions, timeout=timeout))
            except KafkaException as e:
                code = e.args[0].code() if e.args else None
                if code not in _COORDINATOR_PENDING or time.monotonic() > deadline:
                    raise
                log.info("group coordinator not ready yet (%s); asking again", e.args[0].str())
                time.sleep(0.5)

    def commit(self, end_offsets: dict[int, int]) -> None:
        """Commits (synchronously) the offsets after the last processed record."""
        if not end_offsets:
            return
        with self._lock:
            self._consumer.commit(
                offsets=[TopicPartition(self._topic, p, o) for p, o in end_offsets.items()],
                asynchronous=False,
            )
            self.committed_to.update(end_offsets)

    def lag(self, timeout: float = 5.0) -> dict[int, int]:
        """Per partition: high watermark minus the offset committed by this job."""
        with self._lock:
            metadata = self._consumer.list_topics(self._topic, timeout=timeout)
            out = {}
            for p in metadata.topics[self._topic].partitions:
                _, high = self._consumer.get_watermark_offsets(
                    TopicPartition(self._topic, p), timeout=timeout, cached=False
                )
                out[p] = max(high - self.committed_to.get(p, 0), 0)
        return out

    def close(self) -> None:
        with self._lock:
            self._consumer.close()


def end_offsets_of(progress_end_offset: str | None, topic: str) -> dict[int, int]:
    """The Kafka source's endOffset JSON ({"topic": {"0": 42, ...}}) for one topic."""
    if not progress_end_offset:
        return {}
    parsed = json.loads(progress_end_offset)
    return {int(p): int(o) for p, o in parsed.get(topic, {}).items()}


def starting_offsets_json(topic: str, committed: dict[int, int]) -> str:
    """Spark's startingOffsets for a new checkpoint that resumes the group's commits."""
    return json.dumps({topic: {str(p): o for p, o in sorted(committed.items())}})


def topic_max_message_bytes(
    bootstrap: str, topic: str, timeout: float = 10.0, settings: dict[str, str] | None = None
) -> int:
    """The topic's max.message.bytes as the broker sees it (the dead-letter size limit)."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3, **(settings or {})})
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    try:
        configs = admin.describe_configs([resource])[resource].result(timeout=timeout)
    except KafkaException as e:
        raise RuntimeError(f"asking Kafka at {bootstrap} for {topic}'s config: {e}") from e
    return int(configs["max.message.bytes"].value)
