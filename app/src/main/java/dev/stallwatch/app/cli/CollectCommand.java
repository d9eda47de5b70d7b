package dev.stallwatch.app.cli;

import dev.stallwatch.ingest.collector.Collector;
import dev.stallwatch.ingest.collector.CollectorHttpServer;
import dev.stallwatch.ingest.collector.CollectorMetrics;
import dev.stallwatch.ingest.collector.JsonLinesSink;
import dev.stallwatch.ingest.collector.PerfSettings;
import dev.stallwatch.ingest.collector.PerfUnavailableException;
import dev.stallwatch.ingest.host.ContainerResolver;
import dev.stallwatch.ingest.host.KubeletClient;
import dev.stallwatch.ingest.publish.EventPublisher;
import dev.stallwatch.ingest.publish.EventSink;
import dev.stallwatch.ingest.publish.SpoolingPublisher;
import dev.stallwatch.incidents.web.ApiToken;
import dev.stallwatch.ingest.publish.WindowManifests;
import dev.stallwatch.ingest.upstream.PrometheusScrapeSource;
import dev.stallwatch.ingest.upstream.PushEndpoints;
import dev.stallwatch.ingest.upstream.UpstreamCollector;
import dev.stallwatch.schemas.Topics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

@Command(
    name = "collect",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Samples every CPU of this host with perf, attributes each sample to its container, and publishes one "
            + "profile window per container every 10 s (with the container's cgroup CPU, pod and Go version) to Kafka, "
            + "or prints them as JSON lines with --dry-run. Upstream request and timeout counts from nginx and Envoy "
            + "logs, Envoy scrapes and POST /v1/upstream, and drain events from POST /v1/traffic, go the same way.",
        "perf must be installed and permitted to sample the whole host: CAP_PERFMON (CAP_SYS_ADMIN before Linux 5.8) "
            + "or kernel.perf_event_paranoid <= 0; in a container also the host's PID namespace and a seccomp profile "
            + "that allows perf_event_open. Exit 2 with one line when it is not.",
        ""})
public final class CollectCommand implements Callable<Integer> {
  @Option(names = "--dry-run", description = "Print each window as one JSON line (protobuf JSON) on stdout instead of publishing.")
  boolean dryRun;

  @Option(names = "--duration", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Stop after this long (e.g. 20s, 5m), publishing the last windows; default: until stopped.")
  Duration duration;

  @Option(names = "--host", paramLabel = "NAME",
      description = "Host name the windows carry (the node name in Kubernetes); default: this machine's host name.")
  String host;

  @Option(names = "--include-host-processes",
      description = "Also attribute processes outside containers, to pseudo-containers named after their cgroup (cgroup:/system.slice/x.service).")
  boolean includeHostProcesses;

  @Option(names = "--proc-root", paramLabel = "DIR", description = "Where the host's /proc is mounted (default: ${DEFAULT-VALUE}).")
  Path procRoot = ContainerResolver.DEFAULT_PROC_ROOT;

  @Option(names = "--cgroup-root", paramLabel = "DIR", description = "Where the host's cgroup hierarchy is mounted (default: ${DEFAULT-VALUE}).")
  Path cgroupRoot = ContainerResolver.DEFAULT_CGROUP_ROOT;

  @Option(names = "--window", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Window size; the detector expects 10s (default: 10s).")
  Duration window = Collector.DEFAULT_WINDOW;

  @Option(names = "--window-grace", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "How long after a window's end its samples and upstream counts may still arrive before it is"
          + " published (default: 2s); its window manifest follows 1 s later.")
  Duration grace = Collector.DEFAULT_GRACE;

  @Option(names = "--perf", paramLabel = "PATH", description = "The perf executable (default: ${DEFAULT-VALUE} on PATH).")
  String perf = PerfSettings.DEFAULT_PERF;

  @Option(names = "--frequency", paramLabel = "HZ", description = "Samples per second per CPU (default: ${DEFAULT-VALUE}).")
  int frequencyHz = PerfSettings.DEFAULT_FREQUENCY_HZ;

  @Option(names = "--event", paramLabel = "EVENT", description = "perf event to sample (default: ${DEFAULT-VALUE}; needs no hardware counters).")
  String event = PerfSettings.DEFAULT_EVENT;

  @Option(names = "--call-graph", paramLabel = "MODE",
      description = "How perf walks stacks: fp (frame pointers, cheap) or dwarf (complete, costs perf CPU) (default: fp).")
  String callGraph = PerfSettings.CallGraph.FP.perfName();

  @Option(names = "--perf-mmap-pages", paramLabel = "PAGES", description = "perf record -m: buffer pages per CPU, a power of two (default: perf's own).")
  int mmapPages;

  @Option(names = "--perf-flush-interval", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "How often perf record is told to write out its buffers (through --control fd:0, perf 5.10+), "
          + "so that samples arrive within about a second; 0 to never (default: 250ms).")
  Duration perfFlushInterval = PerfSettings.DEFAULT_FLUSH_INTERVAL;

  @Option(names = "--perf-command", paramLabel = "COMMAND",
      description = "Run this shell command instead of perf record | perf script; its stdout must be perf script text "
          + "with epoch timestamps (perf record -k CLOCK_REALTIME).")
  String perfCommand;

  @Option(names = "--kubelet-url", paramLabel = "URL",
      description = "Kubelet to name pods from, e.g. http://127.0.0.1:10255 or https://$NODE_IP:10250 (optional).")
  URI kubeletUrl;

  @Option(names = "--kubelet-token-file", paramLabel = "FILE",
      description = "Bearer token for the kubelet, re-read on every fetch (e.g. the service account token).")
  Path kubeletTokenFile;

  @Option(names = "--kubelet-refresh", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "How often the pod list is fetched (default: 30s).")
  Duration kubeletRefresh = Collector.DEFAULT_KUBELET_REFRESH;

  @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]", description = "Kafka to publish to (required without --dry-run).")
  String bootstrapServers;

  @Option(names = "--kafka-config", paramLabel = "FILE",
      description = "Kafka producer properties (SASL, TLS, ...), applied over the collector's defaults.")
  Path kafkaConfig;

  @Option(names = "--profiles-topic", paramLabel = "TOPIC", description = "Topic of profile windows (default: ${DEFAULT-VALUE}).")
  String profilesTopic = Topics.DEFAULT_PROFILES;

  @Option(names = "--upstream-topic", paramLabel = "TOPIC", description = "Topic of upstream windows (default: ${DEFAULT-VALUE}).")
  String upstreamTopic = Topics.DEFAULT_UPSTREAM;

  @Option(names = "--traffic-topic", paramLabel = "TOPIC", description = "Topic of traffic events (default: ${DEFAULT-VALUE}).")
  String trafficTopic = Topics.DEFAULT_TRAFFIC;

  @Option(names = "--spool-dir", paramLabel = "DIR",
      description = "Keep events on disk in DIR until Kafka acknowledges them, so that none is lost while Kafka is "
          + "unreachable or the collector restarts (recommended; without it events are lost during an outage).")
  Path spoolDir;

  @Option(names = "--spool-max-bytes", paramLabel = "SIZE", converter = SizeConverter.class,
      description = "Bound of the spool on disk; when full the oldest events are dropped and counted (default: 256MB).")
  long spoolMaxBytes = SpoolingPublisher.DEFAULT_MAX_BYTES;

  @Option(names = "--upstream-map", paramLabel = "FILE",
      description = "address,container_id lines naming the container behind each upstream address the logs and "
          + "scrapes report; re-read when it changes. Needed by --nginx-log, --envoy-log, --scrape-envoy and --haproxy-socket.")
  Path upstreamMap;

  @Option(names = "--nginx-log", paramLabel = "FILE",
      description = "nginx access log to count upstream requests and timeouts (504) in; repeatable.")
  List<Path> nginxLogs = new ArrayList<>();

  @Option(names = "--nginx-log-format", paramLabel = "FORMAT",
      description = "The log_format of the nginx logs, with $upstream_addr and $upstream_status "
          + "(default: nginx's combined followed by $upstream_addr $upstream_status $request_time $upstream_response_time).")
  String nginxLogFormat;

  @Option(names = "--nginx-slow", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Also count nginx upstream attempts at least this slow as timeouts.")
  Duration nginxSlow;

  @Option(names = "--envoy-log", paramLabel = "FILE",
      description = "Envoy JSON access log (upstream_host, response_flags with UT); repeatable.")
  List<Path> envoyLogs = new ArrayList<>();

  @Option(names = "--scrape-envoy", paramLabel = "URL",
      description = "Envoy admin /stats/prometheus to scrape once per window for envoy_cluster_upstream_rq_timeout; "
          + "repeatable.")
  List<URI> envoyScrapes = new ArrayList<>();

  @Option(names = "--haproxy-socket", paramLabel = "PATH",
      description = "HAProxy stats socket (runtime API, level operator or admin) to poll with show stat: per server, "
          + "requests (stot) and timeouts (eresp - srv_abrt + econ); DRAIN or MAINT publishes DRAINED with actor "
          + "haproxy:BACKEND/SERVER, READY publishes RESTORED. Servers map by address or BACKEND/SERVER through "
          + "--upstream-map; repeatable.")
  List<Path> haproxySockets = new ArrayList<>();

  @Option(names = "--haproxy-poll-interval", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "How often the HAProxy sockets are polled, at most the window (default: 1s).")
  Duration haproxyPollInterval = Duration.ofSeconds(1);

  @Option(names = "--http-address", paramLabel = "HOST:PORT",
      description = "Where /metrics (Prometheus text format) and the push endpoints POST /v1/upstream and "
          + "POST /v1/traffic are served; empty or off for none (default: ${DEFAULT-VALUE}).")
  String httpAddress = CollectorHttpServer.DEFAULT_ADDRESS;

  @Option(names = "--push-token-file", paramLabel = "FILE",
      description = "File (chmod 600) holding the bearer token POST /v1/upstream and POST /v1/traffic require, at "
          + "least 16 characters (default: the " + PushEndpoints.PUSH_TOKEN_ENV + " environment variable; without "
          + "either the push endpoints refuse every request).")
  Path pushTokenFile;

  @Option(names = "--http-allowed-host", paramLabel = "NAME",
      description = "A host name pushes may carry in their Host header besides the address they reach (and "
          + "localhost on loopback), e.g. the node name a load balancer hook calls; repeatable.")
  List<String> allowedHosts = new ArrayList<>();

  private final Object stopLock = new Object();
  private final CountDownLatch stopped = new CountDownLatch(1);
  /** Counted down once perf and the upstream sources run: {@code stallwatch up} waits on it. */
  final CountDownLatch running = new CountDownLatch(1);
  private Collector collector;
  private UpstreamCollector upstream;
  private EventSink sink;
  private CollectorHttpServer http;

  @Override
  public Integer call() throws Exception {
    PerfSettings perfSettings = perfSettings();
    Optional<InetSocketAddress> listen = listenAddress();
    PushEndpoints.Access pushAccess = pushAccess(System.getenv());
    String hostName = host != null ? host : localHostName();
    PrintStream stdout = System.out;
    // stdout carries only the windows: whatever a library prints goes to stderr
    System.setOut(System.err);
    Thread hook = new Thread(this::stop, "stallwatch-collect-shutdown");
    Thread.UncaughtExceptionHandler previousHandler = FatalErrors.install("collect");
    try {
      CollectorMetrics metrics = new CollectorMetrics(new PrometheusRegistry());
      sink = dryRun ? new JsonLinesSink(new FileOutputStream(FileDescriptor.out)) : withManifests(kafkaSink(metrics.registry()), hostName);
      if (listen.isPresent()) {
        http = startHttp(listen.get(), metrics);
        http.onFatalError(e -> FatalErrors.fatal("collect", "an HTTP request", e));
      }
      upstream = upstream(hostName, metrics.registry());
      if (http != null) {
        upstream.pushEndpoints().register(http, pushAccess);
      }
      Collector.Builder builder = Collector.builder()
          .host(hostName)
          .procRoot(procRoot)
          .cgroupRoot(cgroupRoot)
          .includeHostProcesses(includeHostProcesses)
          .perf(perfSettings)
          .window(window)
          .grace(grace)
          .sink(sink)
          .metrics(metrics);
      kubelet().ifPresent(client -> builder.kubelet(client, kubeletRefresh));
      collector = build(builder);
      Runtime.getRuntime().addShutdownHook(hook);
      collector.start(); // first: a host where perf may not run gets its one line before anything else starts
      upstream.start();
      running.countDown();
      Progress.log("collecting on " + hostName + " with " + perfSettings.describe() + "; windows go to "
          + (dryRun ? "stdout" : "Kafka at " + bootstrapServers + (spoolDir == null ? " (no spool)" : " through " + spoolDir))
          + (http == null ? "" : "; metrics and push endpoints on http://" + hostAndPort(http.address())
              + (pushAccess.bearer().isEmpty() ? " (pushes off: no " + PushEndpoints.PUSH_TOKEN_ENV
                  + " or --push-token-file)" : "")));
      if (duration == null) {
        stopped.await();
      } else {
        stopped.await(duration.toMillis(), TimeUnit.MILLISECONDS);
      }
      stop();
      return 0;
    } catch (PerfUnavailableException e) {
      stop();
      throw new UserError(e.getMessage(), e);
    } catch (RuntimeException | Error e) {
      stop();
      throw e;
    } finally {
      removeHook(hook);
      Thread.setDefaultUncaughtExceptionHandler(previousHandler);
      System.setOut(stdout);
    }
  }

  /**
   * Stops perf and the upstream sources, publishes their last windows and closes the outputs;
   * from the main thread at the end of {@code --duration}, or from the shutdown hook on
   * SIGTERM/SIGINT. Runs once.
   */
  private void stop() {
    synchronized (stopLock) {
      if (stopped.getCount() == 0) {
        return;
      }
      try {
        if (http != null) {
          http.close(); // no more pushes
        }
        if (collector != null) {
          collector.close();
        }
        if (upstream != null) {
          upstream.close();
        }
      } finally {
        if (sink != null) {
          sink.close(); // the spool waits a little for Kafka to take what is pending
        }
        stopped.countDown();
      }
    }
  }

  /** Stops the collector as its shutdown hook would; for {@code stallwatch up}, which stops it first. */
  void requestStop() {
    stop();
  }

  private static void removeHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down and runs the hook, which finds everything stopped
      Progress.log("collect: shutting down");
    }
  }

  PerfSettings perfSettings() {
    try {
      PerfSettings.Builder settings = PerfSettings.builder()
          .perf(perf)
          .frequencyHz(frequencyHz)
          .event(event)
          .callGraph(PerfSettings.CallGraph.parse(callGraph))
          .mmapPages(mmapPages)
          .flushInterval(perfFlushInterval);
      if (perfCommand != null) {
        settings.command(perfCommand);
      }
      return settings.build();
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
  }

  /** The push endpoints' token, from --push-token-file or the environment; none turns pushes off. */
  PushEndpoints.Access pushAccess(Map<String, String> env) {
    String token;
    String source;
    if (pushTokenFile != null) {
      token = TokenFile.read(pushTokenFile, "--push-token-file");
      source = "--push-token-file " + pushTokenFile;
    } else {
      token = env.get(PushEndpoints.PUSH_TOKEN_ENV);
      source = PushEndpoints.PUSH_TOKEN_ENV;
      if (token == null || token.isBlank()) {
        if (!allowedHosts.isEmpty()) {
          throw new UserError("--http-allowed-host is for pushes, which need a token: set "
              + PushEndpoints.PUSH_TOKEN_ENV + " or --push-token-file FILE");
        }
        return PushEndpoints.Access.off();
      }
      token = token.strip();
    }
    try {
      return PushEndpoints.Access.bearer(ApiToken.of(token)::accepts, Set.copyOf(allowedHosts));
    } catch (IllegalArgumentException e) {
      throw new UserError(source + ": " + e.getMessage().replace("the API token", "the push token"), e);
    }
  }

  Optional<InetSocketAddress> listenAddress() {
    try {
      return CollectorHttpServer.parseAddress(httpAddress);
    } catch (IllegalArgumentException e) {
      throw new UserError("--http-address: " + e.getMessage(), e);
    }
  }

  private static Collector build(Collector.Builder builder) {
    try {
      return builder.build();
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new UserError(e.getMessage(), e);
    }
  }

  private static CollectorHttpServer startHttp(InetSocketAddress address, CollectorMetrics metrics) {
    try {
      return CollectorHttpServer.start(address, metrics.registry());
    } catch (IOException e) {
      throw new UserError("cannot serve metrics on " + hostAndPort(address) + ": " + e.getMessage()
          + " (choose another --http-address, or off)", e);
    }
  }

  private Optional<KubeletClient> kubelet() {
    if (kubeletUrl == null) {
      if (kubeletTokenFile != null) {
        throw new UserError("--kubelet-token-file needs --kubelet-url");
      }
      return Optional.empty();
    }
    try {
      KubeletClient.Builder client = KubeletClient.builder().url(kubeletUrl);
      if (kubeletTokenFile != null) {
        client.bearerTokenFile(kubeletTokenFile);
      }
      return Optional.of(client.build());
    } catch (IllegalStateException e) {
      throw new UserError(e.getMessage(), e);
    }
  }

  private EventSink kafkaSink(PrometheusRegistry registry) {
    if (bootstrapServers == null || bootstrapServers.isBlank()) {
      throw new UserError("no Kafka to publish to: give --bootstrap-servers HOST:PORT, or --dry-run to print the windows");
    }
    Properties overrides = new Properties();
    if (kafkaConfig != null) {
      try (InputStream in = Files.newInputStream(kafkaConfig)) {
        overrides.load(new InputStreamReader(in, StandardCharsets.UTF_8));
      } catch (NoSuchFileException e) {
        throw new UserError(kafkaConfig + ": no such file", e);
      } catch (IOException | IllegalArgumentException e) {
        throw new UserError(kafkaConfig + ": cannot read producer properties: " + e.getMessage(), e);
      }
    }
    Topics topics = Topics.defaults().withInputs(profilesTopic, upstreamTopic, trafficTopic);
    if (spoolDir == null) {
      Progress.log("collect: no --spool-dir: windows published while Kafka is unreachable are lost");
      return new EventPublisher(bootstrapServers, topics, overrides);
    }
    try {
      return SpoolingPublisher.builder()
          .bootstrapServers(bootstrapServers)
          .topics(topics)
          .kafkaProperties(overrides)
          .spoolDir(spoolDir)
          .maxBytes(spoolMaxBytes)
          .registry(registry)
          .build();
    } catch (IllegalStateException | UncheckedIOException e) {
      throw new UserError(e.getMessage(), e);
    }
  }

  /** The completeness signal: a manifest per container and window, a second after the last grace. */
  private EventSink withManifests(EventSink kafka, String hostName) {
    Duration delay = grace.plusSeconds(1);
    if (delay.compareTo(window) >= 0) {
      throw new UserError("--window-grace " + grace + " leaves no room for window manifests in a " + window
          + " window: keep the grace under the window minus 1 s");
    }
    WindowManifests manifests = new WindowManifests(kafka, hostName, window, delay,
        WindowManifests.DEFAULT_KEEP_REPORTING, java.time.Clock.systemUTC());
    manifests.startTimer();
    return manifests;
  }

  private UpstreamCollector upstream(String hostName, PrometheusRegistry registry) {
    if (upstreamMap == null && !(nginxLogs.isEmpty() && envoyLogs.isEmpty() && envoyScrapes.isEmpty()
        && haproxySockets.isEmpty())) {
      throw new UserError("--nginx-log, --envoy-log, --scrape-envoy and --haproxy-socket report upstream addresses, not containers:"
          + " give --upstream-map FILE with address,container_id lines");
    }
    try {
      UpstreamCollector.Builder builder = UpstreamCollector.builder()
          .sink(sink)
          .registry(registry)
          .host(hostName)
          .window(window)
          // one grace for profiles and upstream counts: the window manifest follows both
          .grace(grace);
      if (upstreamMap != null) {
        builder.addressMap(upstreamMap);
      }
      nginxLogs.forEach(log -> builder.nginxLog(log, nginxLogFormat, nginxSlow));
      envoyLogs.forEach(builder::envoyLog);
      envoyScrapes.forEach(url -> builder.prometheus(url, PrometheusScrapeSource.Counters.envoyCluster()));
      haproxySockets.forEach(builder::haproxy);
      builder.haproxyPollInterval(haproxyPollInterval);
      return builder.build();
    } catch (IllegalStateException | IllegalArgumentException | UncheckedIOException e) {
      throw new UserError(e.getMessage(), e);
    }
  }

  /** The kernel's host name, as {@code hostname} prints it; no DNS look-up. */
  private String localHostName() {
    Path kernelHostName = procRoot.resolve("sys/kernel/hostname");
    try {
      String name = Files.readString(kernelHostName, StandardCharsets.UTF_8).strip();
      if (!name.isEmpty()) {
        return name;
      }
    } catch (IOException e) {
      Progress.log("collect: cannot read " + kernelHostName + " (" + e.getMessage() + "); asking the resolver");
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      throw new UserError("cannot tell this host's name (" + e.getMessage() + "): give --host NAME", e);
    }
  }

  private static String hostAndPort(InetSocketAddress address) {
    String host = address.getAddress() == null ? address.getHostString() : address.getAddress().getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
  }

  /** {@code 268435456}, {@code 512KB}, {@code 256MB}, {@code 1GB} (binary units; {@code MiB} spellings too). */
  static final class SizeConverter implements ITypeConverter<Long> {
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib)");

    @Override
    public Long convert(String value) {
      Matcher m = SIZE.matcher(value.strip().toLowerCase(Locale.ROOT));
      if (!m.matches()) {
        throw new IllegalArgumentException("expected a size such as 256MB, 1GB or a number of bytes, got '" + value + "'");
      }
      long unit = switch (m.group(2)) {
        case "k", "kb", "kib" -> 1L << 10;
        case "m", "mb", "mib" -> 1L << 20;
        case "g", "gb", "gib" -> 1L << 30;
        default -> 1L;
      };
      return Math.multiplyExact(Long.parseLong(m.group(1)), unit);
    }
  }

  /** {@code 500ms}, {@code 20s}, {@code 5m}, {@code 1h}, {@code 3d}, or ISO-8601 ({@code PT20S}). */
  static final class DurationConverter implements ITypeConverter<Duration> {
    private static final Pattern SIMPLE = Pattern.compile("(\\d+)(ms|s|m|h|d)");

    @Override
    public Duration convert(String value) {
      String text = value.strip().toLowerCase(Locale.ROOT);
      Matcher m = SIMPLE.matcher(text);
      if (m.matches()) {
        long amount = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(amount);
          case "s" -> Duration.ofSeconds(amount);
          case "m" -> Duration.ofMinutes(amount);
          case "h" -> Duration.ofHours(amount);
          default -> Duration.ofDays(amount);
        };
      }
      try {
        return Duration.parse(value.strip());
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("expected a duration such as 500ms, 20s, 5m, 1h or 3d, got '" + value + "'", e);
      }
    }
  }
}
