# Flink with the detection job's jar in usrlib, for application mode (the FlinkDeployment and
# the Compose file's JobManager). Flink's distribution ships the Prometheus reporter under
# plugins/metrics-prometheus, and RocksDB in lib/.
# Build from the repository root after './mvnw -B -ntp -DskipTests package':
#   docker build -f deploy/docker/flink-job.Dockerfile -t registry.example.com/stallwatch-flink:0.1.0 .
FROM flink:2.3
COPY --chown=flink:flink jobs/target/stallwatch-job-0.1.0-SNAPSHOT.jar /opt/flink/usrlib/stallwatch-job-0.1.0-SNAPSHOT.jar
