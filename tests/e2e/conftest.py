"""Fixtures for end-to-end tests (see helpers.py)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import Lane, drop_lane, make_lane


@pytest.fixture
def lane(repo: Path) -> Iterator[Lane]:
    created = make_lane(repo)
    yield created
    drop_lane(created)
