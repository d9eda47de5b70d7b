#!/usr/bin/env bash
# Regenerates the golden outputs of the folder tests by running FlameGraph's real
# stackcollapse-perf.pl (default options) on every test input beside this script:
#   - the real captures, *.perf.txt.gz
#   - the small recordings, *.perf.txt
# For each input NAME.perf.txt[.gz] it writes NAME.folded (the script's output, byte-sorted) and
# NAME.unrecognized (how many "Unrecognized line" warnings the script printed).
#
# usage: ingest/src/test/resources/perf/regenerate.sh PATH/TO/stackcollapse-perf.pl
set -euo pipefail

SCRIPT=${1:?usage: regenerate.sh PATH/TO/stackcollapse-perf.pl}
HERE=$(cd "$(dirname "$0")" && pwd)

inputs=("$HERE"/*.perf.txt "$HERE"/*.perf.txt.gz)
for input in "${inputs[@]}"; do
  [[ -f $input ]] || { echo "missing input: $input" >&2; exit 1; }
  name=$(basename "$input")
  name=${name%.gz}
  name=${name%.perf.txt}
  zcat -f "$input" | perl "$SCRIPT" 2> "$HERE/$name.stderr" | LC_ALL=C sort > "$HERE/$name.folded"
  grep -c '^Unrecognized line' "$HERE/$name.stderr" > "$HERE/$name.unrecognized" || true
  rm "$HERE/$name.stderr"
  echo "$name: $(wc -l < "$HERE/$name.folded") stacks, $(cat "$HERE/$name.unrecognized") unrecognized lines"
done
