#!/usr/bin/env bash
# The collector's CPU per sample at fleet-size sample rates: synthetic `perf script` text at the
# rate of a 16-, 64- and 192-core host sampled at 99 Hz, fed in real time (epoch timestamps of
# now) through the real `stallwatch collect --dry-run --perf-command ...` process with the JVM
# flags bin/stallwatch uses. Several Docker-style containers (real processes in real cgroups
# made for the run), Go stacks of 6-30 frames (most 13-14), 5% of samples from pids that do not
# exist and 3% from a host process. Reports collector CPU us per sample, share of a core, RSS and
# samples dropped, and beside it what perf script itself costs per sample (real perf recorded at
# the same rate on this host, then `perf script` timed on it).
#
#   bench/collector-rate.sh                       # 16, 64 and 192 cores
#   COLLECT_RATE_CORES="64" COLLECT_RATE_SECONDS=60 bench/collector-rate.sh
#   COLLECT_RATE_JAR=/tmp/old/stallwatch.jar bench/collector-rate.sh    # another build
#   COLLECT_RATE_PERF=0 bench/collector-rate.sh   # skip the perf script measurement
#
# Needs root (cgroups are made under /sys/fs/cgroup/{cpu,cpuacct,pids}/docker, v1) and perl.
# The generated text is never written to disk; nothing is committed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cores_list="${COLLECT_RATE_CORES:-16 64 192}"
seconds="${COLLECT_RATE_SECONDS:-45}"
warmup="${COLLECT_RATE_WARMUP:-15}"
containers="${COLLECT_RATE_CONTAINERS:-8}"
hz=99
jar="${COLLECT_RATE_JAR:-$root/app/target/stallwatch.jar}"
java_opts="-XX:+UseSerialGC -Xmx128m -XX:TieredStopAtLevel=1 ${STALLWATCH_JAVA_OPTS:-}" # as bin/stallwatch collect
work="$(mktemp -d "${TMPDIR:-/tmp}/stallwatch-collector-rate.XXXXXX")"
tick="$(getconf CLK_TCK)"

pids_to_kill=()
cgroups=()
cleanup() {
  for pid in "${pids_to_kill[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids_to_kill[@]}"; do wait "$pid" 2>/dev/null || true; done
  for dir in "${cgroups[@]}"; do rmdir "$dir" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
status_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v name="$2" '$1 == name { v = $2 } END { print v + 0 }'; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
  || perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0")->sockport'; }

[ -f "$jar" ] || "$root/bin/stallwatch" --version >/dev/null

# containers: a sleeping process each, moved into a cgroup that looks like Docker's
container_pids=()
for ((i = 0; i < containers; i++)); do
  id=$(printf '%08x' $((0x5ca1ab1e + i)))
  id="$id$id$id$id$id$id$id$id"
  sleep 100000 &
  pid=$!
  pids_to_kill+=("$pid")
  for ctl in cpu cpuacct pids; do
    dir="/sys/fs/cgroup/$ctl/docker/$id"
    mkdir -p "$dir"
    cgroups+=("$dir")
    echo "$pid" >"$dir/cgroup.procs"
  done
  container_pids+=("$pid")
done
unknown_pids=()
for ((p = 32760; p > 1000 && ${#unknown_pids[@]} < 8; p--)); do
  [ -e "/proc/$p" ] || unknown_pids+=("$p")
done

# the generator: samples at RATE/s in 5 ms steps, each timestamped now, as perf script prints them
cat >"$work/gen.pl" <<'PERL'
use strict; use warnings; use Time::HiRes qw(time sleep);
my ($rate, $stats, $containers, $unknown, $host) = @ARGV;
my @cpids = split /,/, $containers; my @upids = split /,/, $unknown;
srand(42);
my @kernel = ('__schedule', 'schedule', '__x64_sys_sched_yield', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe');
my @go = qw(runtime.osyield runtime.adjusttimers runtime.checkTimers runtime.schedule runtime.goschedImpl
  runtime.gopreempt_m runtime.newstack runtime.morestack);
my @http = ('runtime.mallocgc', 'runtime.newobject', 'main.(*OrderHandler).ServeHTTP', 'net/http.HandlerFunc.ServeHTTP',
  'net/http.(*ServeMux).ServeHTTP', 'net/http.serverHandler.ServeHTTP', 'net/http.(*conn).serve', 'runtime.goexit');
my @more = qw(main.decode main.(*Store).Get main.(*Cache).Lookup encoding/json.Unmarshal encoding/json.(*decodeState).object
  encoding/json.(*decodeState).value reflect.Value.Set runtime.memmove runtime.scanobject runtime.gcDrain
  runtime.gcBgMarkWorker.func2 runtime.systemstack runtime.gcBgMarkWorker sync.(*Mutex).lockSlow runtime.semacquire1
  runtime.futex runtime.futexsleep runtime.notesleep runtime.stopm runtime.findrunnable runtime.park_m runtime.mcall);
sub frame { my ($sym, $dso) = @_; sprintf("\t%16x %s (%s)\n", 0x400000 + int(rand(0x1fffff)), $sym, $dso) }
my @stacks;
for my $v (0 .. 63) {
  my $svc = "/usr/local/bin/svc" . ($v % 8);
  my @syms;
  if ($v % 4 == 0) { @syms = (@go); }                                     # 8 + 5 kernel frames = 13
  elsif ($v % 4 == 1) { @syms = (@http[0 .. 1], @more[$v % 6 .. $v % 6 + 3], @http[2 .. 7]); } # 14
  elsif ($v % 4 == 2) { @syms = (@more[0 .. ($v % 22)], @http[6 .. 7]); }  # 3..26
  else { @syms = (@more[($v % 10) .. ($v % 10) + 11], 'runtime.goexit'); } # 13
  my $text = '';
  if ($v % 4 == 0 || $v % 8 == 3) { $text .= frame($_, '[kernel.kallsyms]') for @kernel; }
  $text .= frame($_, $svc) for @syms;
  push @stacks, $text;
}
$| = 0;
my ($t0, $n, $last) = (time, 0, 0);
open(my $st, '>', $stats) or die;
printf $st "0 0 %.3f\n", $t0; $st->flush();
while (1) {
  my $now = time;
  my $due = int(($now - $t0) * $rate);
  my $out = '';
  while ($n < $due) {
    my $r = rand();
    my $pid = $r < 0.05 ? $upids[$n % @upids] : $r < 0.08 ? $host : $cpids[$n % @cpids];
    my $ts = $now - 0.004 * rand();
    $out .= sprintf("svc%d %7d/%-7d [%03d] %.6f:   10101010 cpu-clock: \n", $pid % 8, $pid, $pid, $n % 192, $ts)
      . $stacks[int(rand(64))] . "\n";
    $n++;
  }
  print $out; STDOUT->flush();
  if ($now - $last >= 1) { seek($st, 0, 0); printf $st "%d %.3f %.3f\n", $n, $now - $t0, $t0; $st->flush(); $last = $now; }
  sleep(0.005);
}
PERL

# perf script's own cost per sample: real perf at the rate on this host, perf script timed on it
perf_script_us() {
  local rate=$1 ncpu freq
  ncpu=$(nproc)
  freq=$(( (rate + ncpu - 1) / ncpu ))
  local burners=()
  for ((i = 0; i < ncpu; i++)); do sh -c 'while :; do :; done' & burners+=("$!"); pids_to_kill+=("$!"); done
  perf record -k CLOCK_REALTIME -e cpu-clock -F "$freq" --call-graph fp -a -o "$work/perf.data" -- sleep 10 \
    >/dev/null 2>"$work/perf-record.err" || { echo "perf record failed: $(tail -1 "$work/perf-record.err")" >&2; return 1; }
  for pid in "${burners[@]}"; do kill "$pid"; done
  /usr/bin/time -f '%U %S' -o "$work/perf-script.time" perf script -F comm,pid,tid,cpu,time,period,event,ip,sym,dso \
    -i "$work/perf.data" >"$work/perf-script.txt" 2>/dev/null
  local n
  n=$(grep -c 'cpu-clock:' "$work/perf-script.txt" || true)
  awk -v n="$n" '{ printf "%.1f %d\n", ($1 + $2) * 1e6 / n, n }' "$work/perf-script.time"
  rm -f "$work/perf.data" "$work/perf-script.txt"
}

printf '%s\n' "jar: $jar; JVM: $java_opts; $(nproc) CPUs; $containers containers; run ${seconds}s, measured after ${warmup}s of samples"
printf '%-6s %8s %9s %10s %9s %8s %8s %10s %12s\n' cores target read/s "us/sample" "core%" "RSS MB" late backlog "perf-script"
for cores in $cores_list; do
  rate=$((cores * hz))
  port=$(free_port)
  cmd="perl $work/gen.pl $rate $work/gen.stats $(IFS=,; echo "${container_pids[*]}") $(IFS=,; echo "${unknown_pids[*]}") $$"
  # shellcheck disable=SC2086
  java $java_opts -jar "$jar" collect --dry-run --duration "$((seconds + 60))s" --perf-command "$cmd" \
    --http-address "127.0.0.1:$port" >"$work/windows.jsonl" 2>"$work/collect.err" &
  java_pid=$!
  pids_to_kill+=("$java_pid")
  gen_pid=""
  for ((w = 0; w < 120 && ${#gen_pid} == 0; w++)); do  # a loaded machine starts the JVM slowly
    sleep 0.5
    gen_pid=$(pgrep -f "^perl $work/gen.pl $rate" | head -1 || true)
  done
  sleep "$warmup"
  t1=$(date +%s.%N); j1=$(cpu_ticks "$java_pid"); g1=$(cpu_ticks "$gen_pid")
  n1=$(metric "$port" stallwatch_collector_samples_total)
  sleep $((seconds - warmup - 5))
  t2=$(date +%s.%N); j2=$(cpu_ticks "$java_pid"); g2=$(cpu_ticks "$gen_pid")
  n2=$(metric "$port" stallwatch_collector_samples_total)
  read -r _ _ g0 <"$work/gen.stats"
  late=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^stallwatch_collector_samples_skipped_total\{reason="late"\}/ { print $2 + 0 }')
  rss=$(status_kb "$java_pid" VmRSS)
  kill -TERM "$java_pid"
  wait "$java_pid" || true # stopped by SIGTERM
  if grep -q "internal error\|ERROR" "$work/collect.err"; then
    echo "collect failed:" >&2; grep -v "^\s*at " "$work/collect.err" | tail -8 >&2; exit 1
  fi
  ps_us="-"
  if [ "${COLLECT_RATE_PERF:-1}" = 1 ]; then
    read -r per_sample recorded < <(perf_script_us "$rate") && ps_us=$(awk -v u="$per_sample" -v r="$rate" \
      'BEGIN { printf "%.1fus=%.1f%%", u, u * r / 1e4 }')
  fi
  awk -v cores="$cores" -v rate="$rate" -v t1="$t1" -v t2="$t2" -v tick="$tick" -v j1="$j1" -v j2="$j2" \
       -v n1="$n1" -v n2="$n2" -v g0="$g0" -v rss="$rss" -v late="${late:-0}" -v ps="$ps_us" \
      -v gt="$(( g2 - g1 ))" 'BEGIN {
    steady = t2 - t1; n = n2 - n1
    lag = rate * (t2 - g0) - n2   # samples due by t2 but not read yet: the collector is behind and the pipe full
    printf "%-6d %8d %9.0f %10.2f %8.2f%% %8.0f %8d %10d %12s   (generator %.1f%% of a core)\n", cores, rate, n / steady,
      (j2 - j1) / tick * 1e6 / n, 100 * (j2 - j1) / tick / steady, rss / 1024, late, lag, ps, 100 * gt / tick / steady }'
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
