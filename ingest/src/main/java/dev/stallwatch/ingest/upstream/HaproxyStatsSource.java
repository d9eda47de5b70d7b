package dev.stallwatch.ingest.upstream;

import dev.stallwatch.ingest.publish.EventSink;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls HAProxy's runtime API ({@code show stat} on a stats socket) and turns each backend
 * server's counters into per-window request and timeout counts, and its state into traffic events.
 *
 * <ul>
 *   <li><b>requests</b>: the increase of {@code stot}, the server's cumulative sessions (in HTTP
 *       mode one per request sent to it; HAProxy 2.6 leaves {@code req_tot} empty on server lines).
 *   <li><b>timeouts</b>: the increase of {@code eresp - srv_abrt + econ}. A server that does not
 *       answer within {@code timeout server} makes HAProxy send the client a 504 and count a
 *       response error ({@code eresp}) on the server; its own {@code hrsp_5xx} stays as it was
 *       (that counts statuses the server sent). {@code srv_abrt} (the server closed mid-response)
 *       is part of {@code eresp} and is left out: that server answered. {@code econ} counts
 *       connections that failed or timed out ({@code timeout connect}): a server whose accept
 *       queue is full. {@code cli_abrt} is not counted: clients leave for reasons of their own.
 *       At most the poll's requests.
 *   <li><b>state</b>: a server whose status turns to {@code DRAIN} or {@code MAINT} publishes a
 *       {@code DRAINED} event with actor {@code haproxy:BACKEND/SERVER}; back to anything else
 *       ({@code UP}, {@code no check}, {@code DOWN}, ...) a {@code RESTORED}. A server already
 *       drained at the first poll publishes {@code DRAINED} then.
 * </ul>
 *
 * Each poll's increase is counted in the window holding the midpoint of the two polls. A counter
 * that went down was reset (HAProxy reloaded): its increase is its new value. After more than two
 * windows without a successful poll the counters set a new baseline. Servers map to containers
 * through the address map: by {@code addr} ({@code 10.0.0.7:8080}, or the host alone), else by
 * {@code BACKEND/SERVER}.
 */
public final class HaproxyStatsSource implements UpstreamSource {
  private static final Logger LOG = LoggerFactory.getLogger(HaproxyStatsSource.class);
  /** An answer larger than this is not a stats page this source can handle. */
  static final int MAX_ANSWER_BYTES = 16 << 20;
  private static final int LOGGED_UNKNOWN_SERVERS = 100;
  private static final byte[] SHOW_STAT = "show stat\n".getBytes(StandardCharsets.US_ASCII);

  private final Path socket;
  private final String name;
  private final Duration timeout;
  private final UpstreamAddressMap addresses;
  private final UpstreamAggregator aggregator;
  private final EventSink sink;
  private final UpstreamMetrics metrics;
  private final Clock clock;

  private Map<String, HaproxyStatParser.ServerStat> previous = Map.of();
  private final Map<String, Boolean> drained = new HashMap<>();
  private long previousPollMs = -1;
  private boolean failing;
  private final Set<String> loggedUnknown = new HashSet<>();

  public HaproxyStatsSource(Path socket, Duration timeout, UpstreamAddressMap addresses, UpstreamAggregator aggregator,
      EventSink sink, UpstreamMetrics metrics, Clock clock) {
    this.socket = Objects.requireNonNull(socket, "socket");
    this.name = "haproxy:" + socket;
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.addresses = Objects.requireNonNull(addresses, "addresses");
    this.aggregator = Objects.requireNonNull(aggregator, "aggregator");
    this.sink = Objects.requireNonNull(sink, "sink");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public String name() {
    return name;
  }

  /** One {@code show stat}. A failed one is counted and logged; the counters keep their last baseline. */
  @Override
  public synchronized void poll() throws IOException {
    String answer;
    try {
      answer = showStat();
    } catch (IOException e) {
      failed(e.toString());
      return;
    }
    if (failing) {
      failing = false;
      LOG.info("{}: answering again", name);
    }
    accept(answer, clock.millis());
  }

  private void failed(String problem) {
    metrics.scrapeFailures.labelValues(name).inc();
    if (!failing) {
      failing = true;
      LOG.warn("{}: show stat failed ({}); counting resumes with the next good answer", name, problem);
    }
  }

  /** Sends {@code show stat} and reads the answer until HAProxy closes the connection, within the timeout. */
  private String showStat() throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
         Selector selector = Selector.open()) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      channel.configureBlocking(false);
      ByteBuffer request = ByteBuffer.wrap(SHOW_STAT);
      SelectionKey key = channel.register(selector, SelectionKey.OP_WRITE);
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
      while (true) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          throw new IOException("no complete answer within " + timeout.toMillis() + " ms");
        }
        selector.select(left);
        selector.selectedKeys().clear();
        if (request.hasRemaining()) {
          channel.write(request);
          if (!request.hasRemaining()) {
            key.interestOps(SelectionKey.OP_READ);
          }
          continue;
        }
        buffer.clear();
        int read = channel.read(buffer);
        if (read < 0) {
          return answer.toString(StandardCharsets.UTF_8);
        }
        answer.write(buffer.array(), 0, buffer.position());
        if (answer.size() > MAX_ANSWER_BYTES) {
          throw new IOException("answer is larger than " + MAX_ANSWER_BYTES + " bytes");
        }
      }
    }
  }

  /** Counts one answer; package-private so tests can feed answers with their own times. */
  synchronized void accept(String answer, long pollTimeMs) {
    HaproxyStatParser.Result result;
    try {
      result = HaproxyStatParser.parse(answer);
    } catch (MalformedLineException e) {
      metrics.malformedLines.labelValues(name).inc();
      failed(e.getMessage());
      return;
    }
    for (String line : result.malformed()) {
      metrics.malformedLines.labelValues(name).inc();
      LOG.debug("{}: skipping a malformed line: {}", name, line);
    }
    metrics.lines.labelValues(name).inc(result.servers().size());
    Map<String, HaproxyStatParser.ServerStat> current = new HashMap<>();
    for (HaproxyStatParser.ServerStat server : result.servers()) {
      current.put(server.name(), server);
    }
    boolean gap = previousPollMs >= 0 && pollTimeMs - previousPollMs > 2 * aggregator.windowMs();
    if (gap) {
      LOG.info("{}: {} ms since the last good answer; counters set a new baseline", name, pollTimeMs - previousPollMs);
    }
    if (previousPollMs >= 0 && !gap) {
      count(current, previousPollMs + (pollTimeMs - previousPollMs) / 2);
    }
    for (HaproxyStatParser.ServerStat server : current.values()) {
      states(server, pollTimeMs);
    }
    previous = current;
    previousPollMs = pollTimeMs;
  }

  private void count(Map<String, HaproxyStatParser.ServerStat> current, long timestampMs) {
    for (HaproxyStatParser.ServerStat now : current.values()) {
      HaproxyStatParser.ServerStat before = previous.get(now.name());
      if (before == null) {
        continue; // a new server: this answer is its baseline
      }
      boolean reset = now.sessions() < before.sessions() || now.connectErrors() < before.connectErrors()
          || now.responseErrors() < before.responseErrors() || now.serverAborts() < before.serverAborts();
      long requests;
      long failures;
      if (reset) {
        metrics.counterResets.labelValues(name).inc();
        requests = now.sessions();
        failures = now.responseErrors() - now.serverAborts() + now.connectErrors();
      } else {
        requests = now.sessions() - before.sessions();
        failures = (now.responseErrors() - before.responseErrors()) - (now.serverAborts() - before.serverAborts())
            + (now.connectErrors() - before.connectErrors());
      }
      long timeouts = Math.max(0, Math.min(requests, failures));
      Optional<String> container = containerOf(now);
      if (container.isEmpty()) {
        metrics.unmappedRequests.labelValues(name).inc(requests);
        continue;
      }
      aggregator.record(name, container.get(), timestampMs, requests, timeouts);
    }
  }

  private void states(HaproxyStatParser.ServerStat server, long pollTimeMs) {
    Boolean was = drained.put(server.name(), server.drained());
    boolean is = server.drained();
    if ((was == null && !is) || (was != null && was == is)) {
      return;
    }
    Optional<String> container = containerOf(server);
    if (container.isEmpty()) {
      LOG.warn("{}: server {} is now {}, but it is in no container of the address map: no traffic event",
          name, server.name(), server.status());
      return;
    }
    TrafficAction action = is ? TrafficAction.TRAFFIC_ACTION_DRAINED : TrafficAction.TRAFFIC_ACTION_RESTORED;
    LOG.info("{}: server {} ({}) is {}: {} for container {}", name, server.name(), server.address(),
        server.status(), is ? "DRAINED" : "RESTORED", container.get());
    sink.publish(TrafficEvent.newBuilder()
        .setContainerId(container.get())
        .setAction(action)
        .setActor("haproxy:" + server.name())
        .setReason("haproxy status " + server.status())
        .setTimestampMs(pollTimeMs)
        .build());
  }

  private Optional<String> containerOf(HaproxyStatParser.ServerStat server) {
    Optional<String> container = server.address().isEmpty() ? Optional.empty()
        : addresses.containerFor(server.address());
    if (container.isEmpty()) {
      container = addresses.containerFor(server.name());
    }
    if (container.isEmpty() && loggedUnknown.size() < LOGGED_UNKNOWN_SERVERS && loggedUnknown.add(server.name())) {
      LOG.warn("{}: server {} ({}) is not in the address map; its requests are counted as unmapped", name,
          server.name(), server.address().isEmpty() ? "no address" : server.address());
    }
    return container;
  }

  @Override
  public void close() {
    // one connection per poll: nothing stays open
  }
}
