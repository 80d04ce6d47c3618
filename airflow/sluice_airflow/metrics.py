"""The processor's latency from its Prometheus /metrics: the cumulative buckets of a histogram,
the difference of two scrapes (the records processed in between) and quantiles of it,
interpolated within a bucket as Prometheus' histogram_quantile does."""

from __future__ import annotations

import math
import re

from sluice_airflow.health import http_get

END_TO_END = "sluice_process_end_to_end_seconds"
_BUCKET = re.compile(r"^(?P<name>[a-zA-Z_:][\w:]*)_bucket\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)$")
_LE = re.compile(r'(?:^|,)le="(?P<le>[^"]+)"')

# Cumulative counts by upper bound (math.inf last), e.g. {0.005: 10, 0.01: 42, inf: 50}.
Buckets = dict[float, float]


def parse_buckets(text: str, name: str = END_TO_END) -> Buckets:
    """The buckets of histogram `name` in a Prometheus text exposition ({} if absent)."""
    buckets: Buckets = {}
    for line in text.splitlines():
        match = _BUCKET.match(line.strip())
        if not match or match["name"] != name:
            continue
        le = _LE.search(match["labels"])
        if le:
            bound = math.inf if le["le"] == "+Inf" else float(le["le"])
            buckets[bound] = buckets.get(bound, 0.0) + float(match["value"])
    return dict(sorted(buckets.items()))


def difference(after: Buckets, before: Buckets) -> Buckets:
    """The buckets of what was observed between two scrapes (a restart in between: `after`)."""
    delta = {b: after[b] - before.get(b, 0.0) for b in after}
    if any(v < 0 for v in delta.values()):
        return dict(after)
    return delta


def count(buckets: Buckets) -> int:
    """Observations in the histogram (its +Inf bucket)."""
    return int(buckets.get(math.inf, max(buckets.values(), default=0.0)))


def quantile(buckets: Buckets, q: float) -> float | None:
    """The q-quantile in seconds (None for an empty histogram)."""
    total = count(buckets)
    if total <= 0:
        return None
    rank = q * total
    lower, seen = 0.0, 0.0
    for bound, cumulative in buckets.items():
        if cumulative >= rank:
            if math.isinf(bound):
                return lower
            inside = cumulative - seen
            fraction = (rank - seen) / inside if inside > 0 else 1.0
            return lower + (bound - lower) * fraction
        lower, seen = bound, cumulative
    return lower


def scrape(processor_url: str, timeout_s: float) -> Buckets:
    """The end-to-end latency buckets of a running processor; OSError/ValueError if none."""
    status, body = http_get(processor_url.rstrip("/") + "/metrics", timeout_s)
    if status != 200:
        raise ValueError(f"GET {processor_url}/metrics answered {status}")
    return parse_buckets(body.decode("utf-8", "replace"))


def encode(buckets: Buckets) -> list[list[object]]:
    """Buckets as JSON (an XCom): [[bound, count], ...], the last bound "+Inf"."""
    return [["+Inf" if math.isinf(b) else b, c] for b, c in buckets.items()]


def decode(pairs: list[list[object]] | None) -> Buckets:
    """The inverse of encode (None: no buckets)."""
    return {float(str(b)): float(str(c)) for b, c in pairs or []}
