#!/usr/bin/env bash
# What the collector costs on a busy host: runs `stallwatch collect --dry-run` with real perf at
# 99 Hz while CPU burners keep every core busy, and reads the collector JVM's CPU time and memory,
# and perf record's and perf script's, from /proc. The first WARMUP seconds (JVM start, JIT) are
# reported apart from the steady state.
#
#   bench/collector.sh                         # default JVM flags
#   STALLWATCH_JAVA_OPTS='-XX:+UseSerialGC -Xmx64m' bench/collector.sh
#   COLLECT_BENCH_SECONDS=120 COLLECT_BENCH_WARMUP=20 bench/collector.sh
#
# Needs perf permitted to sample the host (root, CAP_PERFMON or perf_event_paranoid <= 0).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${COLLECT_BENCH_SECONDS:-60}"
warmup="${COLLECT_BENCH_WARMUP:-15}"
port="${COLLECT_BENCH_PORT:-19464}"
work="${TMPDIR:-/tmp}/stallwatch-collector-bench"
mkdir -p "$work"
tick="$(getconf CLK_TCK)"
cores="$(nproc)"

pids_to_kill=()
cleanup() {
  for pid in "${pids_to_kill[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

# utime + stime of a process, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
status_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }

# a busy host: one burner per core, each a single process so that cleanup can stop it by pid: a
# shell loop (user time, shallow stacks) and gzip of /dev/urandom (kernel and library stacks)
for ((i = 0; i < cores; i++)); do
  if ((i % 2 == 0)); then
    sh -c 'while :; do :; done' &
  else
    gzip -1 -c </dev/urandom >/dev/null &
  fi
  pids_to_kill+=("$!")
done

# build first (if needed) so that the build does not count, then run the jar bin/stallwatch runs:
# on a shared checkout the launcher could otherwise rebuild in the middle of the measurement
"$root/bin/stallwatch" --version >/dev/null
# shellcheck disable=SC2086
java ${STALLWATCH_JAVA_OPTS:-} -jar "$root/app/target/stallwatch.jar" collect --dry-run --duration "${seconds}s" --include-host-processes \
  --http-address "127.0.0.1:$port" >"$work/windows.jsonl" 2>"$work/collect.err" &
java_pid=$!
pids_to_kill+=("$java_pid")
start=$(date +%s.%N)

sleep "$warmup"
record_pid=$(pgrep -P "$java_pid" -f 'perf record' | head -1)
script_pid=$(pgrep -P "$java_pid" -f 'perf script' | head -1)
if [ -z "$record_pid" ] || [ -z "$script_pid" ]; then
  echo "collector.sh: perf is not running under the collector; its stderr:" >&2
  cat "$work/collect.err" >&2
  exit 1
fi
t1=$(date +%s.%N)
java_1=$(cpu_ticks "$java_pid"); record_1=$(cpu_ticks "$record_pid"); script_1=$(cpu_ticks "$script_pid")
samples_1=$(curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "stallwatch_collector_samples_total" { print $2 }')

sleep $((seconds - warmup - 5))
t2=$(date +%s.%N)
java_2=$(cpu_ticks "$java_pid"); record_2=$(cpu_ticks "$record_pid"); script_2=$(cpu_ticks "$script_pid")
samples_2=$(curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "stallwatch_collector_samples_total" { print $2 }')
java_rss=$(status_kb "$java_pid" VmRSS); java_hwm=$(status_kb "$java_pid" VmHWM)
record_rss=$(status_kb "$record_pid" VmRSS); script_rss=$(status_kb "$script_pid" VmRSS)
threads=$(status_kb "$java_pid" Threads)
wait "$java_pid"
load=$(cut -d' ' -f1-3 /proc/loadavg)

awk -v t0="$start" -v t1="$t1" -v t2="$t2" -v tick="$tick" \
    -v j1="$java_1" -v j2="$java_2" -v r1="$record_1" -v r2="$record_2" -v s1="$script_1" -v s2="$script_2" \
    -v n1="$samples_1" -v n2="$samples_2" -v jrss="$java_rss" -v jhwm="$java_hwm" -v rrss="$record_rss" \
    -v srss="$script_rss" -v threads="$threads" -v opts="${STALLWATCH_JAVA_OPTS:-(none)}" -v load="$load" \
    -v windows="$(wc -l <"$work/windows.jsonl")" 'BEGIN {
  steady = t2 - t1; total = t2 - t0
  printf "JVM options:           %s\n", opts
  printf "steady state:          %.1f s (after %.1f s of start-up), %.0f samples/s\n", steady, t1 - t0, (n2 - n1) / steady
  printf "collector JVM CPU:     %.2f%% of one core steady, %.2f%% including start-up\n", 100 * (j2 - j1) / tick / steady, 100 * j2 / tick / total
  printf "collector JVM memory:  RSS %.0f MB, peak RSS %.0f MB, %d threads\n", jrss / 1024, jhwm / 1024, threads
  printf "perf record CPU:       %.2f%% of one core, RSS %.0f MB\n", 100 * (r2 - r1) / tick / steady, rrss / 1024
  printf "perf script CPU:       %.2f%% of one core, RSS %.0f MB\n", 100 * (s2 - s1) / tick / steady, srss / 1024
  printf "windows printed:       %d; load average at the end: %s\n", windows, load
}'
