#!/usr/bin/env bash
# Time from the end of the 60 s sustain to the alert readable on the alerts topic, in real time,
# with the job unbounded on the embedded stack. Each run takes about two and a half minutes.
# Usage: bench/alert-latency.sh [--set watermark.out-of-orderness=10s] [--checkpoint-interval 2s]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/bin/stallwatch" --version >/dev/null   # builds the CLI if needed
exec java -cp "$root/app/target/stallwatch.jar" dev.stallwatch.app.bench.AlertLatencyBenchmark "$@"
