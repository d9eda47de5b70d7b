#!/usr/bin/env bash
# Time from `stallwatch demo --serve` to its "serving" line (incident opened, recovered and
# resolved, every /metrics up), on a fresh data directory; then stops it with SIGTERM.
# Usage: bench/demo-serve.sh   (ports 18080, 19464, 19249 so that a running demo is not in the way)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/bin/stallwatch" --version >/dev/null   # builds the CLI if needed
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
start=$(date +%s%N)
"$root/bin/stallwatch" demo --serve --data-dir "$work/data" --listen 127.0.0.1:18080 \
  --collector-listen 127.0.0.1:19464 --flink-metrics-port 19249 >"$work/out" 2>"$work/err" &
pid=$!
until grep -q "serving; Ctrl-C to stop" "$work/err"; do
  if ! kill -0 "$pid" 2>/dev/null; then
    cat "$work/err" >&2
    exit 1
  fi
  sleep 0.2
done
end=$(date +%s%N)
echo "demo --serve: serving after $(( (end - start) / 1000000 )) ms (load: $(cut -d' ' -f1-3 /proc/loadavg))"
kill -TERM "$pid"
wait "$pid" || true
