#!/usr/bin/env bash
# Time from the end of the 60 s sustain to the alert on the alerts topic and to the page at a
# PagerDuty-style HTTP receiver, and from the drain to the page, in real time, with the job
# unbounded on the embedded stack. Each run takes about two minutes. --before: the job as it was
# before completeness (watermark only, exactly-once alerts). Figures in BENCHMARKS.md.
# Usage: bench/alert-latency.sh [--before] [--set watermark.out-of-orderness=10s] [--checkpoint-interval 2s]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/bin/stallwatch" --version >/dev/null   # builds the CLI if needed
exec java -cp "$root/app/target/stallwatch.jar" dev.stallwatch.app.bench.AlertLatencyBenchmark "$@"
