"""Writer schemas by id from a Confluent-compatible schema registry, cached.

The rule is the C++ processor's: only the registry's definite "no such schema id"
(error_code 40403) is a fault of the data (the record becomes `decode.schema_id`); any
other failure (a 5xx, a timeout, a refused connection) is the registry's, and the caller
holds the batch and asks again instead of dead-lettering good records."""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request

SCHEMA_NOT_FOUND = 40403


class RegistryUnavailable(RuntimeError):
    """The registry did not answer definitely; the records must wait, not be judged."""


@dataclasses.dataclass(frozen=True)
class SchemaAnswer:
    schema: str | None  # the writer schema's JSON text
    problem: str  # why there is no schema (empty when there is one)


class RegistryClient:
    def __init__(
        self, url: str, timeout_s: float = 10.0, headers: dict[str, str] | None = None
    ) -> None:
        self._url = url.rstrip("/")
        self._headers = headers or {}
        self._timeout = timeout_s
        self._known: dict[int, SchemaAnswer] = {}

    def schema(self, schema_id: int) -> SchemaAnswer:
        """The schema, or a definite "unknown"; raises RegistryUnavailable otherwise."""
        if schema_id not in self._known:
            self._known[schema_id] = self._fetch(schema_id)
        return self._known[schema_id]

    def _fetch(self, schema_id: int) -> SchemaAnswer:
        if schema_id < 0:
            return SchemaAnswer(None, f"schema id {schema_id} is negative")
        url = f"{self._url}/schemas/ids/{schema_id}"
        try:
            request = urllib.request.Request(url, headers=self._headers)
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:
                body = json.loads(answer.read())
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            if e.code == 404 and _error_code(text) == SCHEMA_NOT_FOUND:
                return SchemaAnswer(None, "unknown schema id")
            raise RegistryUnavailable(f"GET {url}: HTTP {e.code} {text[:200]}") from e
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as e:
            raise RegistryUnavailable(f"GET {url}: {e}") from e
        schema = body.get("schema") if isinstance(body, dict) else None
        if not isinstance(schema, str):
            raise RegistryUnavailable(f"GET {url}: answer without a schema: {str(body)[:200]}")
        return SchemaAnswer(schema, "")


def _error_code(text: str) -> int | None:
    try:
        body = json.loads(text)
    except ValueError:
        return None
    code = body.get("error_code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None
