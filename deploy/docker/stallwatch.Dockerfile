# The stallwatch CLI image: serve, topics, collect (the collector's DaemonSet), drain.
# Build from the repository root after './mvnw -B -ntp -DskipTests package':
#   docker build -f deploy/docker/stallwatch.Dockerfile -t registry.example.com/stallwatch:0.1.0 .
FROM eclipse-temurin:17-jre
# perf for the collector (Debian/Ubuntu linux-perf; the kernel's own perf matches best)
RUN apt-get update && apt-get install -y --no-install-recommends linux-tools-generic \
    && rm -rf /var/lib/apt/lists/*
COPY app/target/stallwatch.jar /opt/stallwatch/stallwatch.jar
COPY app/target/lib/ /opt/stallwatch/lib/
RUN useradd --system --uid 10001 stallwatch
# serve and topics run unprivileged; the DaemonSet runs the collector as root for perf
USER 10001
ENTRYPOINT ["java", "-jar", "/opt/stallwatch/stallwatch.jar"]
