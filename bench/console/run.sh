#!/usr/bin/env bash
# The console's figures, against the running stack (`sluice up`: the processor, the
# producer at 50/s and `sluice ui` running), in Debian's headless Chromium:
#   first paint: the dashboard (until the C++ processor's consumed rate shows) and a
#     500-message page of users.raw (until the 500th message shows), RUNS fresh contexts;
#   cost of `sluice ui` during a full-rate run: RECORDS users produced as fast as possible
#     while the processor drains them, first with no page open (the sampler alone), then
#     with the dashboard open and polling every second: CPU (% of one core, user+system
#     from /proc over the run) and peak resident memory of the ui process.
# Goals (issue): first paint < 1 s; the ui under 5% of one core and under 100 MB.
# Usage: bench/console/run.sh [records (300000)] [runs (5)]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RECORDS="${1:-300000}"
RUNS="${2:-5}"
SLUICE="${SLUICE:-$ROOT/build/sluice}"
HERE="$ROOT/bench/console"
UI_PID="$(awk '{ print $1 }' "$ROOT/.stack/run/ui.pid" 2>/dev/null || true)"
[[ -n "$UI_PID" && -d /proc/$UI_PID ]] || { echo "sluice ui is not running: start the stack with sluice up" >&2; exit 1; }
(cd "$HERE" && [[ -d node_modules/playwright-core ]] || npm ci --no-audit --no-fund --loglevel=error)
HZ=$(getconf CLK_TCK)

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$UI_PID/stat"; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$UI_PID/status"; }

# cost LABEL [browser]: produces RECORDS as fast as possible, samples the ui each second.
cost() {
  local label="$1" browser="${2:-}" holder="" peak=0 start_ticks end_ticks start end
  local stop_file="${TMPDIR:-/tmp}/sluice-console-bench.$$.stop"
  if [[ -n "$browser" ]]; then
    rm -f "$stop_file"
    node "$HERE/measure.mjs" hold "$stop_file" &
    holder=$!
    sleep 5  # the page is loaded and polling
  fi
  start_ticks=$(cpu_ticks)
  start=$(date +%s.%N)
  "$SLUICE" produce --bootstrap 127.0.0.1:9092 --registry http://127.0.0.1:8081 \
    --schema "$ROOT/contract/user.avsc" --count "$RECORDS" --rate 0 --bad-ratio 0.05 >/dev/null 2>&1 &
  local producer=$!
  while kill -0 "$producer" 2>/dev/null; do
    peak=$(( $(rss_kib) > peak ? $(rss_kib) : peak ))
    sleep 1
  done
  sleep 10  # the processor drains what is left while the page keeps polling
  peak=$(( $(rss_kib) > peak ? $(rss_kib) : peak ))
  end_ticks=$(cpu_ticks)
  end=$(date +%s.%N)
  if [[ -n "$holder" ]]; then
    touch "$stop_file"
    wait "$holder" || true
    rm -f "$stop_file"
  fi
  awk -v l="$label" -v t=$((end_ticks - start_ticks)) -v hz="$HZ" -v s="$start" -v e="$end" -v p="$peak" \
    'BEGIN { printf "%-34s cpu %5.2f%% of one core over %5.1f s, peak RSS %5.1f MB\n", l, 100 * t / hz / (e - s), e - s, p / 1024 }'
}

echo "first paint of the dashboard ($RUNS fresh contexts):"
node "$HERE/measure.mjs" paint "" rate-consumed 1 "$RUNS"
echo "first paint of 500 messages of users.raw partition 0 ($RUNS fresh contexts):"
node "$HERE/measure.mjs" paint "topics/users.raw/messages?partition=0&newest=500&limit=500" message 500 "$RUNS"
echo "sluice ui during a full-rate run of $RECORDS records:"
cost "no page open (sampler only)"
cost "dashboard open" browser
