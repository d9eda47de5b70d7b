#!/usr/bin/env bash
# The job jar on the real cluster harness (3 Kafka brokers, a Flink JobManager, 2 TaskManagers, each its own JVM):
# kill -9 a TaskManager during the 60 s sustain of 10 incidents in a row (CI runs 2, with the other failures), and
# print per kill the time until the job is RUNNING and checkpointing again and the alert's delay against the control
# incident. About 10 minutes. Usage: bench/cluster-failover.sh [KILLS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kills="${1:-10}"
cd "$root"
./mvnw -B -ntp -q -pl cluster -am verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false \
  -Dit.test=ClusterFailoverITCase -Dstallwatch.cluster.tm-kills="$kills" -Dstallwatch.cluster.cases=tm
cat cluster/target/cluster-failover-figures.txt
