#!/usr/bin/env bash
# Replay throughput: samples/s through parse -> Kafka -> Flink -> alert, whole process.
# Usage: bench/replay.sh [EXTRA_NEIGHBOURS (default 40)] [RUNS (default 3)]
# Writes a demo bundle scaled with extra healthy containers (about 6,000 samples each) to
# /tmp, replays it with bin/stallwatch replay, and prints the figures of each run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
extra="${1:-40}"
runs="${2:-3}"
bundle="${TMPDIR:-/tmp}/stallwatch-bench-bundle-$extra"

"$root/bin/stallwatch" --version >/dev/null   # builds the CLI if needed
rm -rf "$bundle"
java -cp "$root/app/target/stallwatch.jar" dev.stallwatch.app.demo.DemoBundle "$bundle" "$extra"
bytes=$(du -sb "$bundle/perf" | cut -f1)
echo "bundle: $bundle, perf text $((bytes / 1000000)) MB, $(nproc) cores"

for run in $(seq "$runs"); do
  log=$(mktemp)
  /usr/bin/time -f "%e s wall, %M KB max RSS" "$root/bin/stallwatch" replay "$bundle" >"$log.out" 2>"$log"
  samples=$(grep -oP 'published \K[0-9]+(?= samples)' "$log")
  publish_ms=$(grep -oP 'traffic events in \K[0-9]+' "$log")
  job_ms=$(grep -oP 'job finished in \K[0-9]+' "$log")
  wall=$(tail -1 "$log")
  alerts=$(wc -l <"$log.out")
  awk -v s="$samples" -v p="$publish_ms" -v j="$job_ms" -v w="$wall" -v a="$alerts" -v r="$run" 'BEGIN {
    printf "run %d: %d samples; parse+fold+publish %d ms, job %d ms; %.0f samples/s (parse to alert); %d alert(s); whole process %s\n",
      r, s, p, j, s / ((p + j) / 1000.0), a, w }'
  rm -f "$log" "$log.out"
done
