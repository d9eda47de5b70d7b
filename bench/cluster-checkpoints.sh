#!/usr/bin/env bash
# Checkpoint size and duration of the job on the real cluster harness (RocksDB, incremental) with N containers
# publishing in real time (default 1000, plus the control incident and the two decoys), and the job jar's size.
# About 5 minutes. Usage: bench/cluster-checkpoints.sh [CONTAINERS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
containers="${1:-1000}"
cd "$root"
./mvnw -B -ntp -q -pl cluster -am verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false \
  -Dit.test=ClusterFailoverITCase -Dstallwatch.cluster.tm-kills=0 -Dstallwatch.cluster.cases=tm \
  -Dstallwatch.cluster.neighbours="$containers"
cat cluster/target/cluster-failover-figures.txt
