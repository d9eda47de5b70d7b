#!/usr/bin/env bash
# container_health ingest: rows/s through HealthStore.write, bytes per row on disk (table, each
# index, WAL), and the dashboards' container_health queries on that data, with their plans.
# Usage: bench/health-store.sh [CONTAINERS (10000)] [WINDOWS (60)] [BATCH (500)] [WRITERS (1)]
# Starts a fresh embedded PostgreSQL 17 (fsync on, as stallwatch serve runs it) in a temporary
# directory and deletes it afterwards; 10,000 x 60 = 600k rows takes under a minute on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/bin/stallwatch" --version >/dev/null   # builds the CLI if needed
exec java -Dstallwatch.home="$root" -cp "$root/app/target/stallwatch.jar" \
  dev.stallwatch.app.bench.HealthStoreBenchmark "${1:-10000}" "${2:-60}" "${3:-500}" "${4:-1}"
