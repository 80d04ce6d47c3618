"""The randomuser-compatible API over real HTTP: the real `sluice api` binary on a free
port, exercised like a randomuser.me client would, including bad requests and load.

Every check looks at each returned user (and first at how many came back), so an empty
or truncated answer fails instead of passing vacuously."""

import csv
import hashlib
import io
import re
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import free_port

# The fields randomuser.me returns for a user, in its order; inc/exc choose among them.
FIELDS = (
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
)
# The country each nationality lives in (src/gen/nations.cc).
COUNTRY = {
    "AU": "Australia",
    "BR": "Brazil",
    "CA": "Canada",
    "DE": "Germany",
    "ES": "Spain",
    "FR": "France",
    "GB": "United Kingdom",
    "US": "United States",
    "IE": "Ireland",
    "NL": "Netherlands",
}
# The generator's fixed "today" (gen::options::as_of): ages are relative to it, not the
# clock, so that a seed gives the same users every day.
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)

ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
OFFSET = re.compile(r"^[+-]?\d{1,2}:\d{2}$")
PORTRAIT = re.compile(
    r"^https://randomuser\.me/api/portraits/(?P<size>med/|thumb/)?(?P<folder>men|women)/"
    r"(?P<number>\d{1,2})\.jpg$"
)
FEMALE_TITLES = {"Ms", "Mrs", "Miss", "Madame"}


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


def fetch(api: str, **params: str | int) -> dict[str, Any]:
    """One successful JSON page of the API."""
    response = requests.get(f"{api}/api/", params=params, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def users_of(api: str, **params: str | int) -> list[dict[str, Any]]:
    """The users of one page, after checking that exactly `results` came back."""
    users: list[dict[str, Any]] = fetch(api, **params)["results"]
    assert len(users) == int(params.get("results", 1))
    return users


def is_text(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def instant(text: str) -> datetime:
    assert ISO_INSTANT.match(text), text
    return datetime.fromisoformat(text)


def calendar_age(born: datetime, on: datetime) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def assert_age_matches(date: str, age: object) -> None:
    """`age` is the whole years from `date` to AS_OF (within a day or two of a birthday
    the generator's average-year arithmetic may round either way)."""
    assert isinstance(age, int) and not isinstance(age, bool), age
    born = instant(date)
    two_days = timedelta(days=2)
    assert calendar_age(born, AS_OF - two_days) <= age <= calendar_age(born, AS_OF + two_days), (
        date,
        age,
    )


def assert_randomuser_user(user: dict[str, Any]) -> None:
    """Every field a randomuser.me client reads is there, with randomuser's type and shape,
    and the fields agree with each other (gender, title, picture; nat, country)."""
    assert tuple(user) == FIELDS

    assert user["gender"] in ("male", "female")

    name = user["name"]
    assert set(name) == {"title", "first", "last"}
    assert all(is_text(name[k]) for k in ("title", "first", "last")), name
    if user["gender"] == "male":
        assert name["title"] == "Mr", name
    else:
        assert name["title"] in FEMALE_TITLES, name

    location = user["location"]
    assert set(location) == {
        "street",
        "city",
        "state",
        "country",
        "postcode",
        "coordinates",
        "timezone",
    }
    assert set(location["street"]) == {"number", "name"}
    number = location["street"]["number"]
    assert isinstance(number, int) and not isinstance(number, bool) and 1 <= number <= 9999
    assert is_text(location["street"]["name"])
    assert all(is_text(location[k]) for k in ("city", "state", "country")), location
    assert location["country"] == COUNTRY[user["nat"]], (user["nat"], location["country"])
    postcode = location["postcode"]
    # As randomuser does: a number when the postcode is all digits without a leading 0.
    if isinstance(postcode, int):
        assert not isinstance(postcode, bool) and postcode > 0
    else:
        assert is_text(postcode) and not (postcode.isdigit() and postcode[0] != "0"), postcode
    coordinates = location["coordinates"]
    assert set(coordinates) == {"latitude", "longitude"}
    assert all(isinstance(coordinates[k], str) for k in coordinates), coordinates
    assert -90 <= float(coordinates["latitude"]) <= 90
    assert -180 <= float(coordinates["longitude"]) <= 180
    timezone = location["timezone"]
    assert set(timezone) == {"offset", "description"}
    assert OFFSET.match(timezone["offset"]), timezone
    assert is_text(timezone["description"])

    assert isinstance(user["email"], str) and EMAIL.match(user["email"]), user["email"]

    login = user["login"]
    assert set(login) == {"uuid", "username", "password", "salt", "md5", "sha1", "sha256"}
    assert UUID_V4.match(login["uuid"]), login["uuid"]
    assert all(is_text(login[k]) for k in ("username", "password", "salt")), login
    assert re.fullmatch(r"[A-Za-z0-9]{8}", login["salt"]), login["salt"]
    for algorithm, length in (("md5", 32), ("sha1", 40), ("sha256", 64)):
        assert re.fullmatch(f"[0-9a-f]{{{length}}}", login[algorithm]), (algorithm, login)

    for when in ("dob", "registered"):
        assert set(user[when]) == {"date", "age"}, user[when]
        assert_age_matches(user[when]["date"], user[when]["age"])
    assert 18 <= user["dob"]["age"] <= 90, user["dob"]
    registered = instant(user["registered"]["date"])
    assert datetime(2002, 1, 1, tzinfo=UTC) <= registered < AS_OF, registered

    assert is_text(user["phone"]) and any(c.isdigit() for c in user["phone"]), user["phone"]
    assert is_text(user["cell"]) and any(c.isdigit() for c in user["cell"]), user["cell"]

    identity = user["id"]
    assert set(identity) == {"name", "value"}
    assert isinstance(identity["name"], str)
    # randomuser's id.value is null for nationalities without a national id.
    assert identity["value"] is None or is_text(identity["value"]), identity

    picture = user["picture"]
    assert set(picture) == {"large", "medium", "thumbnail"}
    matches: dict[str, re.Match[str]] = {}
    for size, url in picture.items():
        match = PORTRAIT.match(url)
        assert match, url
        matches[size] = match
    assert matches["large"]["size"] is None
    assert matches["medium"]["size"] == "med/"
    assert matches["thumbnail"]["size"] == "thumb/"
    folder = "women" if user["gender"] == "female" else "men"
    assert {m["folder"] for m in matches.values()} == {folder}, picture
    assert len({m["number"] for m in matches.values()}) == 1, picture  # one portrait, 3 sizes


def test_every_user_has_every_randomuser_field_with_its_type_and_shape(api: str) -> None:
    body = fetch(api, results=50, seed="abc")
    assert len(body["results"]) == 50
    for user in body["results"]:
        assert_randomuser_user(user)
    assert body["info"] == {"seed": "abc", "results": 50, "page": 1, "version": "1.4"}


def test_info_echoes_the_requested_seed_results_and_page(api: str) -> None:
    body = fetch(api, results=7, seed="echo-me", page=3)
    assert len(body["results"]) == 7
    assert body["info"] == {"seed": "echo-me", "results": 7, "page": 3, "version": "1.4"}


def test_info_without_a_seed_names_a_random_seed_that_reproduces_the_page(api: str) -> None:
    first = fetch(api, results=4)
    seed = first["info"]["seed"]
    assert is_text(seed)
    assert first["info"] == {"seed": seed, "results": 4, "page": 1, "version": "1.4"}
    assert fetch(api, results=4)["info"]["seed"] != seed
    assert users_of(api, results=4, seed=seed) == first["results"]


def test_noinfo_leaves_out_the_info_block_but_not_the_users(api: str) -> None:
    body = fetch(api, results=3, seed="quiet", noinfo="")
    assert set(body) == {"results"}
    assert body["results"] == users_of(api, results=3, seed="quiet")


def test_login_hashes_are_the_md5_sha1_and_sha256_of_password_plus_salt(api: str) -> None:
    # gen::generator::fill_login_hashes: "as randomuser does", over password + salt.
    users = users_of(api, results=30, seed="hashes", inc="login")
    for user in users:
        login = user["login"]
        salted = (login["password"] + login["salt"]).encode()
        assert login["md5"] == hashlib.md5(salted).hexdigest(), login
        assert login["sha1"] == hashlib.sha1(salted).hexdigest(), login
        assert login["sha256"] == hashlib.sha256(salted).hexdigest(), login


def test_ages_are_the_whole_years_from_birth_and_registration_dates(api: str) -> None:
    users = users_of(api, results=200, seed="ages", inc="dob,registered")
    for user in users:
        assert_age_matches(user["dob"]["date"], user["dob"]["age"])
        assert_age_matches(user["registered"]["date"], user["registered"]["age"])
    ages = {user["dob"]["age"] for user in users}
    assert min(ages) < 30 and max(ages) > 70, sorted(ages)  # the whole 18..90 range is drawn


def test_nobody_registers_before_being_born(api: str) -> None:
    users = users_of(api, results=1000, seed="born", inc="dob,registered")
    early = [u for u in users if u["registered"]["date"] < u["dob"]["date"]]
    assert early == []


def test_users_are_unique_within_a_page(api: str) -> None:
    users = users_of(api, results=500, seed="unique")
    assert len({u["login"]["uuid"] for u in users}) == 500
    assert len({u["login"]["username"] for u in users}) > 450


@pytest.mark.parametrize("nat", ["fr", "FR,de", "us,gb,ie"])
def test_nat_filter_gives_only_those_nationalities_living_in_their_country(
    api: str, nat: str
) -> None:
    wanted = {code.upper() for code in nat.split(",")}
    users = users_of(api, results=60, seed=f"nat-{nat}", nat=nat)
    for user in users:
        assert_randomuser_user(user)
        assert user["nat"] in wanted, user["nat"]
    assert {u["nat"] for u in users} == wanted  # each requested nationality appears


def test_without_nat_filter_every_supported_nationality_appears(api: str) -> None:
    users = users_of(api, results=500, seed="everyone", inc="nat")
    assert {u["nat"] for u in users} == set(COUNTRY)


@pytest.mark.parametrize("gender", ["female", "male", "FEMALE"])
def test_gender_filter_gives_only_that_gender_with_matching_title_and_portrait(
    api: str, gender: str
) -> None:
    users = users_of(api, results=60, seed="gender", gender=gender)
    for user in users:
        assert_randomuser_user(user)  # title and portrait folder agree with the gender
        assert user["gender"] == gender.lower()


def test_without_gender_filter_both_genders_appear(api: str) -> None:
    users = users_of(api, results=60, seed="both", inc="gender")
    assert {u["gender"] for u in users} == {"female", "male"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"inc": "name,nat,email", "exc": "email"}, ("name", "nat")),
        ({"inc": "gender,login"}, ("gender", "login")),
        ({"inc": "Picture, nat"}, ("picture", "nat")),
        ({"exc": "login,id"}, tuple(f for f in FIELDS if f not in ("login", "id"))),
        ({"exc": "nat"}, FIELDS[:-1]),
    ],
)
def test_inc_and_exc_return_exactly_the_chosen_fields_each_complete(
    api: str, params: dict[str, str], expected: tuple[str, ...]
) -> None:
    full = users_of(api, results=20, seed="incexc", nat="fr,de")
    chosen = users_of(api, results=20, seed="incexc", nat="fr,de", **params)
    for whole, user in zip(full, chosen, strict=True):
        assert tuple(user) == expected
        # An included field is the whole field, exactly as without inc/exc.
        assert user == {f: whole[f] for f in expected}


# The first user of `/api/?seed=pinned`: the seed string is hashed (FNV-1a) into the
# generator's seed, so a client gets this user on every machine and every day.
PINNED = {
    "gender": "male",
    "name": {"title": "Mr", "first": "João", "last": "Lima"},
    "location": {
        "street": {"number": 9613, "name": "Rua XV de Novembro"},
        "city": "Fortaleza",
        "state": "Ceará",
        "country": "Brazil",
        "postcode": "99547-446",
        "coordinates": {"latitude": "-77.5689", "longitude": "-103.0744"},
        "timezone": {"offset": "+1:00", "description": "Brussels, Copenhagen, Madrid, Paris"},
    },
    "email": "joao.lima@example.com",
    "login": {
        "uuid": "1ca33b37-c596-4cb4-b95c-89ffacde9635",
        "username": "beautifulcat853",
        "password": "letmein",
    },
    "dob": {"date": "1945-09-09T23:06:15.728Z", "age": 80},
    "registered": {"date": "2012-04-27T04:43:20.819Z", "age": 13},
    "phone": "(23) 9362-6074",
    "cell": "(81) 37228-8784",
    "id": {"name": "CPF", "value": "477.047.681-66"},
    "picture": {
        "large": "https://randomuser.me/api/portraits/men/2.jpg",
        "medium": "https://randomuser.me/api/portraits/med/men/2.jpg",
        "thumbnail": "https://randomuser.me/api/portraits/thumb/men/2.jpg",
    },
    "nat": "BR",
}


def test_seed_pinned_serves_the_pinned_user_on_every_machine(api: str) -> None:
    first, second = users_of(api, results=2, seed="pinned")
    # The salt (and so the hashes) comes from std::hash of the uuid, which differs between
    # C++ standard libraries: it is checked against password + salt elsewhere, not pinned.
    login = first["login"]
    first["login"] = {k: login[k] for k in ("uuid", "username", "password")}
    assert first == PINNED
    assert (second["login"]["uuid"], second["nat"]) == (
        "f0f2f7a7-18a8-40dc-8293-9b64498743c6",
        "FR",
    )
    assert second["location"]["postcode"] == "00359"  # a leading zero keeps it a string


def test_same_seed_and_page_give_the_same_users(api: str) -> None:
    def page(n: int) -> list[dict[str, Any]]:
        return users_of(api, results=3, seed="stable", page=n)

    assert page(2) == page(2)
    assert page(1) != page(2)


def test_page_n_continues_where_page_n_minus_one_ended(api: str) -> None:
    six = users_of(api, results=6, seed="paging")
    assert users_of(api, results=3, seed="paging", page=1) == six[:3]
    assert users_of(api, results=3, seed="paging", page=2) == six[3:]


def test_different_seeds_give_different_users(api: str) -> None:
    a = users_of(api, results=10, seed="one")
    b = users_of(api, results=10, seed="two")
    assert not {u["login"]["uuid"] for u in a} & {u["login"]["uuid"] for u in b}


def test_largest_page_of_5000_users_comes_back_whole(api: str) -> None:
    users = users_of(api, results=5000, seed="big", inc="login,nat")
    assert len({u["login"]["uuid"] for u in users}) == 5000


def test_versioned_path_serves_the_same_users(api: str) -> None:
    params: dict[str, str | int] = {"results": 3, "seed": "v"}
    response = requests.get(f"{api}/api/1.4/", params=params, timeout=10)
    assert response.status_code == 200
    assert response.json()["results"] == users_of(api, results=3, seed="v")


def test_csv_format_has_a_header_and_one_row_per_user_matching_the_json(api: str) -> None:
    params: dict[str, str | int] = {"results": 4, "seed": "csv", "inc": "name,email,location"}
    response = requests.get(f"{api}/api/", params={**params, "format": "csv"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        "name.title",
        "name.first",
        "name.last",
        "location.street.number",
        "location.street.name",
        "location.city",
        "location.state",
        "location.country",
        "location.postcode",
        "location.coordinates.latitude",
        "location.coordinates.longitude",
        "location.timezone.offset",
        "location.timezone.description",
        "email",
    ]
    users = users_of(api, **params)
    assert len(rows) == len(users) == 4
    for row, user in zip(rows, users, strict=True):
        location = user["location"]
        assert row["name.first"] == user["name"]["first"]
        assert row["name.last"] == user["name"]["last"]
        assert row["location.street.number"] == str(location["street"]["number"])
        assert row["location.city"] == location["city"]  # may hold commas: quoted
        assert row["location.postcode"] == str(location["postcode"])
        assert row["location.timezone.description"] == location["timezone"]["description"]
        assert row["email"] == user["email"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"results": 0}, "results"),
        ({"results": 5001}, "results"),
        ({"results": 100000}, "results"),
        ({"results": "lots"}, "results"),
        ({"page": 0}, "page"),
        ({"nat": "XX"}, "nat"),
        ({"nat": "fr,XX"}, "nat"),
        ({"gender": "robot"}, "gender"),
        ({"inc": "shoesize"}, "inc"),
        ({"exc": "name,shoesize"}, "exc"),
        ({"format": "pdf"}, "format"),
        ({"seed": "x" * 65}, "seed"),
    ],
)
def test_bad_request_gets_400_naming_the_parameter(
    api: str, query: dict[str, str | int], parameter: str
) -> None:
    response = requests.get(f"{api}/api/", params=query, timeout=10)
    assert response.status_code == 400
    body = response.json()
    assert body["parameter"] == parameter
    assert is_text(body["error"])
    assert len(users_of(api, results=2)) == 2  # the server keeps serving


def test_huge_query_string_is_refused_and_server_keeps_serving(api: str) -> None:
    response = requests.get(f"{api}/api/?seed=" + "x" * 20000, timeout=10)
    assert response.status_code in (414, 431)
    assert requests.get(f"{api}/health", timeout=10).json()["status"] == "ok"
    assert len(users_of(api, results=2)) == 2


def served_total(api: str) -> int:
    metrics = requests.get(f"{api}/metrics", timeout=10).text
    values = re.findall(r"^api_users_served_total(?:\{\})? (\d+)$", metrics, re.MULTILINE)
    assert len(values) == 1, metrics
    return int(values[0])


def test_eight_concurrent_clients_get_all_their_users_and_are_counted(api: str) -> None:
    before = served_total(api)

    def client(n: int) -> int:
        failures = 0
        with requests.Session() as session:
            for i in range(200):
                params: dict[str, str | int] = {"results": 10, "seed": f"c{n}", "page": i + 1}
                response = session.get(f"{api}/api/", params=params, timeout=10)
                failures += response.status_code != 200 or len(response.json()["results"]) != 10
        return failures

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(client, range(8))) == 0
    assert served_total(api) - before == 8 * 200 * 10
