"""The randomuser flow done right: fetch users from the randomuser-compatible API
(`sluice api`, GET /api/?results=N&seed=S&page=P), map each onto the contract's twelve flat
string fields (contract/user.avsc, the same mapping as the generator's to_record in
src/gen/generator.cc) with the UUID as its canonical string, and hand (key, JSON value)
pairs to the Kafka provider's ProduceToTopicOperator. A delivery failure raises from the
producer's flush instead of being logged and forgotten."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

from sluice_airflow.health import http_get

log = logging.getLogger(__name__)

# The fields of contract/user.avsc, in its order.
CONTRACT_FIELDS = (
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


class ApiError(RuntimeError):
    """The API did not answer a page of users."""


class DeliveryError(RuntimeError):
    """Kafka did not acknowledge a message."""


def api_url(base: str, results: int, seed: str, page: int = 1) -> str:
    """The URL of one page of users."""
    query = urlencode({"results": results, "seed": seed, "page": page})
    return f"{base.rstrip('/')}/api/?{query}"


def fetch_users(
    base: str, results: int, seed: str, page: int = 1, timeout_s: float = 30
) -> list[Any]:
    """The `results` list of one page; ApiError with the API's own message otherwise."""
    url = api_url(base, results, seed, page)
    try:
        status, body = http_get(url, timeout_s)
    except OSError as e:
        raise ApiError(f"GET {url} failed ({e}): is `sluice api` running there?") from e
    try:
        answer = json.loads(body)
    except json.JSONDecodeError as e:
        raise ApiError(f"GET {url} answered {status} with no JSON: {body[:200]!r}") from e
    if status != 200 or not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
        raise ApiError(f"GET {url} answered {status}: {str(answer)[:300]}")
    return list(answer["results"])


def _text(value: Any) -> str | None:
    """A contract value: text as is, numbers (randomuser sends some postcodes as numbers) and
    UUID objects as their strings, absent as None (the processor judges it)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, uuid.UUID | int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"{value!r} is not a text value")


def _get(user: Mapping[str, Any], *path: str) -> Any:
    node: Any = user
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _address(user: Mapping[str, Any]) -> str | None:
    parts = [
        _get(user, "location", "street", "number"),
        _get(user, "location", "street", "name"),
        _get(user, "location", "city"),
        _get(user, "location", "state"),
        _get(user, "location", "country"),
    ]
    if any(p is None for p in parts):
        return None
    number, street, city, state, country = (_text(p) for p in parts)
    return f"{number} {street}, {city}, {state}, {country}"


def _date(value: Any) -> str | None:
    text = _text(value)
    return None if text is None else text[:10]


def to_contract(user: Mapping[str, Any]) -> dict[str, str | None]:
    """One API user as the contract's record (missing parts become null, never invented)."""
    return {
        "id": _text(_get(user, "login", "uuid")),
        "first_name": _text(_get(user, "name", "first")),
        "last_name": _text(_get(user, "name", "last")),
        "email": _text(_get(user, "email")),
        "phone": _text(_get(user, "phone")),
        "gender": _text(_get(user, "gender")),
        "dob": _date(_get(user, "dob", "date")),
        "address": _address(user),
        "postcode": _text(_get(user, "location", "postcode")),
        "username": _text(_get(user, "login", "username")),
        "registered_date": _text(_get(user, "registered", "date")),
        "picture": _text(_get(user, "picture", "large")),
    }


def to_message(record: Mapping[str, str | None]) -> tuple[str, str]:
    """(key, value) of a record: keyed by its id, the value compact JSON (UTF-8 as is)."""
    value = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    return record.get("id") or "", value


def messages(records: list[dict[str, str | None]]) -> Iterator[tuple[str, str]]:
    """The producer_function of ProduceToTopicOperator."""
    for record in records:
        yield to_message(record)


def delivery_report(err: Any, msg: Any) -> None:
    """The delivery_callback: raises on a failed delivery (confluent-kafka re-raises it from
    the operator's poll()/flush(), which fails the task)."""
    if err is not None:
        key = msg.key() if msg is not None else None
        raise DeliveryError(f"message {key!r} to {msg.topic() if msg else '?'} failed: {err}")
