"""The processor's committed offsets against a batch's offset spans. A record is processed
(stored or dead-lettered, see README: the processor commits only past what both sinks
acknowledged) once the group's committed offset of its partition is past it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from confluent_kafka.admin import AdminClient

# Span: [partition, first offset, end offset (exclusive)], as Manifest.spans() gives them.
Span = Sequence[int]


def remaining(spans: Sequence[Span], committed: Mapping[int, int]) -> int:
    """Offsets of the spans the group has not committed past (what `sluice verify` counts
    as not yet processed). A partition without a commit (-1001) counts whole."""
    behind = 0
    for partition, first, end in spans:
        at = max(committed.get(partition, -1), first)
        behind += max(0, end - at)
    return behind


def make_admin(bootstrap: str) -> AdminClient:
    """An admin client for `read_committed` (librdkafka's own log silenced: errors raise)."""
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})


def read_committed(
    admin: AdminClient, group_id: str, topic: str, partitions: Sequence[int], timeout_s: float
) -> dict[int, int]:
    """The group's committed offset per partition of `topic` (negative: none yet). Blocking;
    raises confluent_kafka.KafkaException when the broker does not answer in time."""
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

    request = ConsumerGroupTopicPartitions(group_id, [TopicPartition(topic, p) for p in partitions])
    future = admin.list_consumer_group_offsets([request], request_timeout=timeout_s)[group_id]
    answer = future.result(timeout=timeout_s + 5)
    found: dict[int, int] = {}
    for tp in answer.topic_partitions or []:
        if tp.error is not None:
            raise RuntimeError(f"committed offset of {topic}[{tp.partition}]: {tp.error}")
        found[tp.partition] = tp.offset
    return found
