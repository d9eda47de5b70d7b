#!/usr/bin/env bash
# Record sizes per topic and the job's state per container, from the demo bundle on the embedded
# stack (figures for deploy/README.md's sizing). About a minute.
# Usage: bench/topic-sizing.sh [EXTRA_NEIGHBOURS_SMALL EXTRA_NEIGHBOURS_LARGE]   (default 0 40)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/bin/stallwatch" --version >/dev/null   # builds the CLI if needed
exec java -cp "$root/app/target/stallwatch.jar" dev.stallwatch.app.bench.TopicSizingBenchmark "$@"
