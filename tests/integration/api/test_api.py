"""The randomuser-compatible API over real HTTP: the real `sluice api` binary on a free
port, exercised like a randomuser.me client would, including bad requests and load."""

import csv
import io
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port


@pytest.fixture(scope="module")
def api(sluice_bin: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [str(sluice_bin), "api", "--port", str(port), "--threads", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.05)
    yield base
    process.terminate()
    assert process.wait(10) == 0


def test_response_has_randomuser_shape(api: str) -> None:
    body = requests.get(f"{api}/api/", params={"results": 5, "seed": "abc"}, timeout=10).json()
    assert len(body["results"]) == 5
    user = body["results"][0]
    for key in (
        "gender",
        "name",
        "location",
        "email",
        "login",
        "dob",
        "registered",
        "phone",
        "cell",
        "id",
        "picture",
        "nat",
    ):
        assert key in user, key
    assert set(user["name"]) == {"title", "first", "last"}
    assert isinstance(user["location"]["street"]["number"], int)
    assert isinstance(user["dob"]["age"], int) and 18 <= user["dob"]["age"] <= 90
    assert user["picture"]["large"].startswith("https://")
    assert body["info"] == {"seed": "abc", "results": 5, "page": 1, "version": "1.4"}


def test_same_seed_and_page_give_the_same_users(api: str) -> None:
    def page(n: int) -> list[dict]:
        params = {"results": 3, "seed": "stable", "page": n}
        return requests.get(f"{api}/api/", params=params, timeout=10).json()["results"]

    assert page(2) == page(2)
    assert page(1) != page(2)


def test_inc_exc_and_nat_filters_apply(api: str) -> None:
    params = {"results": 20, "inc": "name,nat,email", "exc": "email", "nat": "fr,de"}
    users = requests.get(f"{api}/api/", params=params, timeout=10).json()["results"]
    assert all(set(u) == {"name", "nat"} for u in users)
    assert {u["nat"] for u in users} <= {"FR", "DE"}


def test_csv_format_has_header_and_rows(api: str) -> None:
    text = requests.get(
        f"{api}/api/", params={"results": 4, "format": "csv", "inc": "name,email"}, timeout=10
    ).text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["name.title", "name.first", "name.last", "email"]
    assert len(rows) == 5


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"results": 0}, "results"),
        ({"results": 100000}, "results"),
        ({"results": "lots"}, "results"),
        ({"page": 0}, "page"),
        ({"nat": "XX"}, "nat"),
        ({"gender": "robot"}, "gender"),
        ({"inc": "shoesize"}, "inc"),
        ({"format": "pdf"}, "format"),
    ],
)
def test_bad_request_gets_400_naming_the_parameter(api: str, query: dict, parameter: str) -> None:
    response = requests.get(f"{api}/api/", params=query, timeout=10)
    assert response.status_code == 400
    assert response.json()["parameter"] == parameter
    assert requests.get(f"{api}/api/", timeout=10).status_code == 200


def test_huge_query_string_is_refused_and_server_keeps_serving(api: str) -> None:
    response = requests.get(f"{api}/api/?seed=" + "x" * 20000, timeout=10)
    assert response.status_code in (414, 431)
    assert requests.get(f"{api}/health", timeout=10).json()["status"] == "ok"


def test_eight_concurrent_clients_get_no_errors(api: str) -> None:
    def client(n: int) -> int:
        failures = 0
        with requests.Session() as session:
            for i in range(200):
                params = {"results": 10, "seed": f"c{n}", "page": i + 1}
                response = session.get(f"{api}/api/", params=params, timeout=10)
                failures += response.status_code != 200 or len(response.json()["results"]) != 10
        return failures

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(client, range(8))) == 0
    metrics = requests.get(f"{api}/metrics", timeout=10).text
    assert "api_users_served_total" in metrics
