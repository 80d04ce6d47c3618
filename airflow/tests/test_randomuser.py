"""The randomuser mapping: a real answer of `sluice api` (tests/data/randomuser_answer.json,
GET /api/?results=3&seed=sluice) maps onto exactly the records the generator itself makes
for those users (randomuser_answer.gen.jsonl, `sluice gen` with the API's seed), with the
UUID as a string, numeric postcodes as text and missing parts as null; messages are keyed
by id with JSON values; a failed delivery raises."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from sluice_airflow.randomuser import (
    CONTRACT_FIELDS,
    ApiError,
    DeliveryError,
    api_url,
    delivery_report,
    fetch_users,
    messages,
    to_contract,
)

from tests.conftest import DATA, REPO


def answer() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "randomuser_answer.json").read_text())
    return data


def expected() -> list[dict[str, Any]]:
    lines = (DATA / "randomuser_answer.gen.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_fields_are_the_contracts() -> None:
    schema = json.loads((REPO / "contract" / "user.avsc").read_text())
    assert CONTRACT_FIELDS == tuple(f["name"] for f in schema["fields"])


def test_real_answer_maps_to_the_generators_records() -> None:
    records = [to_contract(user) for user in answer()["results"]]
    assert records == expected()
    assert answer()["results"][0]["location"]["postcode"] == 3004  # a number on the wire
    assert records[0]["postcode"] == "3004"


def test_uuid_objects_are_serialised_as_strings() -> None:
    user = answer()["results"][0]
    user["login"]["uuid"] = uuid.UUID(user["login"]["uuid"])
    record = to_contract(user)
    assert record["id"] == "d2358d6a-363d-47ae-adbe-369c1c0229bd"
    key, value = next(messages([record]))
    assert key == record["id"] and json.loads(value)["id"] == record["id"]


def test_missing_parts_become_null_not_invented() -> None:
    user = answer()["results"][1]
    del user["email"], user["location"]["street"], user["registered"]
    record = to_contract(user)
    assert record["email"] is None and record["address"] is None
    assert record["registered_date"] is None
    assert list(record) == list(CONTRACT_FIELDS)


def test_messages_are_keyed_by_id_with_the_record_as_json() -> None:
    records = expected()
    sent = list(messages(records))
    assert [k for k, _ in sent] == [r["id"] for r in records]
    assert [json.loads(v) for _, v in sent] == records
    assert "Otávio" in sent[2][1]  # UTF-8 as is


def test_failed_delivery_raises() -> None:
    class Msg:
        def key(self) -> bytes:
            return b"k1"

        def topic(self) -> str:
            return "users.raw"

    delivery_report(None, Msg())  # delivered: nothing to do
    with pytest.raises(DeliveryError, match="Message timed out"):
        delivery_report("KafkaError{code=_MSG_TIMED_OUT,str=Local: Message timed out}", Msg())


class Api(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        ok = "results=3" in self.path
        body = json.dumps(answer() if ok else {"error": "results must be ...", "parameter": "x"})
        self.send_response(200 if ok else 400)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), Api)
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_fetch_asks_for_results_seed_and_page(api: HTTPServer) -> None:
    base = f"http://127.0.0.1:{api.server_port}"
    users = fetch_users(base, 3, "sluice-20261203T101000Z")
    assert len(users) == 3
    assert api.paths == ["/api/?results=3&seed=sluice-20261203T101000Z&page=1"]  # type: ignore[attr-defined]
    with pytest.raises(ApiError, match="answered 400"):
        fetch_users(base, 4, "s")


def test_fetch_from_nowhere_says_what_to_start() -> None:
    with pytest.raises(ApiError, match="is `sluice api` running"):
        fetch_users("http://127.0.0.1:1", 1, "s", timeout_s=2)
    assert api_url("http://h:1/", 2, "a b").endswith("/api/?results=2&seed=a+b&page=1")
