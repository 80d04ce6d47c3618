"""Kafka helpers shared by the integration and end-to-end tests: a fresh topic per test
and an independent consumer that reads a topic from the beginning."""

import time
import uuid

from confluent_kafka import Consumer, Message
from confluent_kafka.admin import AdminClient, NewTopic

from tests.endpoints import BOOTSTRAP


def fresh_topic(prefix: str, partitions: int = 6) -> str:
    topic = f"{prefix}-{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})  # must outlive the future
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(30)
    return topic


def consume_all(topic: str, expected: int, timeout_s: float = 120) -> list[Message]:
    """Reads `topic` from the start until `expected` records arrived or the time is up."""
    consumer = Consumer(
        {
            "bootstrap.servers": BOOTSTRAP,
            "group.id": f"check-{time.time_ns()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while len(messages) < expected and time.monotonic() < deadline:
        messages.extend(m for m in consumer.consume(2000, 1.0) if m.error() is None)
    # A little longer, so that duplicates beyond `expected` would be seen too.
    quiet_until = time.monotonic() + 3
    while time.monotonic() < quiet_until:
        messages.extend(m for m in consumer.consume(2000, 0.5) if m.error() is None)
    consumer.close()
    return messages
