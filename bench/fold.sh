#!/usr/bin/env bash
# Benchmarks `stallwatch fold FILE` (the CLI, whole process)
# against FlameGraph's stackcollapse-perf.pl on a real `perf script` capture of >= 500 MB,
# checks that both print the same folded stacks, and prints MB/s and samples/s for both.
#
# usage: bench/fold.sh PATH/TO/stackcollapse-perf.pl
#
# The capture is recorded here with real perf (perf record -F 999 -g -a while a mixed workload
# runs), and its `perf script` text is repeated until it is at least FOLD_BENCH_MIN_MB large.
# It lives under FOLD_BENCH_DIR (default /tmp/stallwatch-fold-bench), never in git, and is
# reused by later runs; delete it to record a new one. Needs root (or perf_event_paranoid <= 1).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PERL_SCRIPT=${1:?usage: bench/fold.sh PATH/TO/stackcollapse-perf.pl}
WORK=${FOLD_BENCH_DIR:-/tmp/stallwatch-fold-bench}
MIN_MB=${FOLD_BENCH_MIN_MB:-500}
RUNS=${FOLD_BENCH_RUNS:-3}
JAR=$ROOT/app/target/stallwatch.jar
CAPTURE=$WORK/capture.perf.txt
CAPTURES=$ROOT/ingest/src/test/resources/perf # the real captures the golden tests use
mkdir -p "$WORK"

"$ROOT/bin/stallwatch" --version > /dev/null # builds the CLI when it is missing or stale

record_capture() {
  echo "recording 20 s of perf samples at 999 Hz on all CPUs while a mixed workload runs..." >&2
  local until=$((SECONDS + 22))
  # user-space C (gzip), an interpreter (perl), a JVM (our folder) and kernel file system paths
  (while ((SECONDS < until)); do zcat "$CAPTURES"/*.perf.txt.gz | gzip -1 > /dev/null; done) &
  (while ((SECONDS < until)); do zcat "$CAPTURES"/c-dwarf-callgraph.perf.txt.gz \
     | perl "$PERL_SCRIPT" > /dev/null; done) &
  (while ((SECONDS < until)); do java -jar "$JAR" fold \
     "$CAPTURES"/go1.19-osyield-morestack.perf.txt.gz > /dev/null 2>&1; done) &
  (while ((SECONDS < until)); do find /usr -type f -size -64k 2>/dev/null | head -3000 | xargs cat > /dev/null 2>&1; done) &
  perf record -F 999 -g -a -o "$WORK/record.data" -- sleep 20 2> "$WORK/record.log"
  wait
  perf script -i "$WORK/record.data" > "$WORK/one.perf.txt" 2> /dev/null
  : > "$CAPTURE.tmp"
  while (( $(stat -c %s "$CAPTURE.tmp") < MIN_MB * 1000 * 1000 )); do
    cat "$WORK/one.perf.txt" >> "$CAPTURE.tmp"
  done
  mv "$CAPTURE.tmp" "$CAPTURE"
}

if [[ ! -f $CAPTURE ]] || (( $(stat -c %s "$CAPTURE") < MIN_MB * 1000 * 1000 )); then
  record_capture
fi
BYTES=$(stat -c %s "$CAPTURE")
cat "$CAPTURE" > /dev/null # both contenders read from the page cache

# wall seconds and peak RSS of one run: run NAME OUTPUT COMMAND...
run() {
  local name=$1 out=$2; shift 2
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$WORK/$name.time" "$@" > "$out" 2> "$WORK/$name.stderr"
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
rss_mb() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$WORK/$1.time"; }

echo "capture: $CAPTURE ($((BYTES / 1000000)) MB); $(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "stackcollapse-perf.pl: perl $PERL_SCRIPT"
perl_secs=$(run perl "$WORK/perl.folded" perl "$PERL_SCRIPT" "$CAPTURE")
perl_rss=$(rss_mb perl)

java_cmd=(java -jar "$JAR" fold --stats "$CAPTURE")
echo "ours: ${java_cmd[*]}"
java_all=()
for ((i = 1; i <= RUNS; i++)); do
  java_all+=("$(run java "$WORK/java.folded" "${java_cmd[@]}")")
done
java_secs=$(printf '%s\n' "${java_all[@]}" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
java_rss=$(rss_mb java)
samples=$(sed -nE 's/^stallwatch: fold: ([0-9]+) samples.*/\1/p' "$WORK/java.stderr")

if cmp -s <(LC_ALL=C sort "$WORK/perl.folded") <(LC_ALL=C sort "$WORK/java.folded"); then
  same="identical ($(wc -l < "$WORK/java.folded") folded lines)"
else
  same="DIFFERENT: diff <(LC_ALL=C sort $WORK/perl.folded) <(LC_ALL=C sort $WORK/java.folded)"
fi

printf '%-24s %8s %9s %12s %8s\n' contender seconds MB/s samples/s RSS-MB
printf '%-24s %8.2f %9.1f %12.0f %8s\n' stackcollapse-perf.pl "$perl_secs" \
  "$(echo "$BYTES / 1000000 / $perl_secs" | bc -l)" "$(echo "$samples / $perl_secs" | bc -l)" "$perl_rss"
printf '%-24s %8.2f %9.1f %12.0f %8s   (median of %d: %s)\n' "stallwatch fold" "$java_secs" \
  "$(echo "$BYTES / 1000000 / $java_secs" | bc -l)" "$(echo "$samples / $java_secs" | bc -l)" "$java_rss" \
  "$RUNS" "${java_all[*]}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows both contenders)"
printf 'speed-up: %.1fx; samples: %s; output: %s\n' "$(echo "$perl_secs / $java_secs" | bc -l)" "$samples" "$same"
[[ $same == identical* ]]
