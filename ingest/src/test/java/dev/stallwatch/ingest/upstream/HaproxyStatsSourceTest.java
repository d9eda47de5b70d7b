package dev.stallwatch.ingest.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code show stat} answers, written as HAProxy 2.6 writes them, turned into window counts and traffic events. */
class HaproxyStatsSourceTest {
  private static final String ORDERS = "3f9c2b7d81e4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";
  private static final String CHECKOUT = "9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
  private static final Instant T0 = Instant.parse("2024-03-05T10:15:30Z");
  // the columns of HAProxy 2.6 up to addr, in its order; the reader finds them by name
  private static final String HEADER = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,"
      + "eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,"
      + "tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,"
      + "hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,"
      + "comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,"
      + "agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,"
      + "agent_health,addr,cookie,mode,";

  private final MutableClock clock = new MutableClock(T0);
  private final RecordingSink sink = new RecordingSink();
  private final UpstreamMetrics metrics = new UpstreamMetrics(new PrometheusRegistry());
  private final UpstreamAggregator aggregator = new UpstreamAggregator(sink, "node-a", clock, Duration.ofSeconds(10),
      Duration.ofSeconds(5), Duration.ofMinutes(5), metrics);
  private final UpstreamAddressMap addresses = UpstreamAddressMap.of(Map.of(
      "10.0.0.7:8080", ORDERS, "shop/checkout-1", CHECKOUT));
  private final HaproxyStatsSource source = new HaproxyStatsSource(Path.of("/run/haproxy/admin.sock"),
      Duration.ofSeconds(2), addresses, aggregator, sink, metrics, clock);

  /** One server line; the counters this source reads, the rest as HAProxy leaves them on a server. */
  private static String server(String backend, String server, String address, String status, long stot, long econ,
      long eresp, long srvAbrt, long cliAbrt, long hrsp5xx) {
    String[] v = new String[HEADER.substring(2).split(",", -1).length];
    java.util.Arrays.fill(v, "");
    String[] names = HEADER.substring(2).split(",", -1);
    Map<String, String> values = Map.ofEntries(Map.entry("pxname", backend), Map.entry("svname", server),
        Map.entry("stot", Long.toString(stot)), Map.entry("econ", Long.toString(econ)),
        Map.entry("eresp", Long.toString(eresp)), Map.entry("srv_abrt", Long.toString(srvAbrt)),
        Map.entry("cli_abrt", Long.toString(cliAbrt)), Map.entry("hrsp_5xx", Long.toString(hrsp5xx)),
        Map.entry("status", status), Map.entry("addr", address), Map.entry("mode", "http"));
    for (int i = 0; i < names.length; i++) {
      v[i] = values.getOrDefault(names[i], "");
    }
    return String.join(",", v);
  }

  private static String answer(String... servers) {
    StringBuilder b = new StringBuilder(HEADER).append('\n');
    b.append("shop,FRONTEND,,,0,0,9986,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,0,,,,0,0,0,0,0,0,,0,0,0,,,0\n");
    for (String s : servers) {
      b.append(s).append('\n');
    }
    b.append("shop,BACKEND,0,0,0,0,999,0,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,1,0,,1,2,0,,0,,1,0\n");
    return b.append('\n').toString();
  }

  private void poll(Instant at, String answer) {
    clock.set(at);
    source.accept(answer, at.toEpochMilli());
  }

  private static UpstreamWindow window(String container, Instant start, long requests, long timeouts) {
    return UpstreamWindow.newBuilder().setSource("haproxy:/run/haproxy/admin.sock").setContainerId(container)
        .setHost("node-a").setWindowStartMs(start.toEpochMilli()).setWindowEndMs(start.toEpochMilli() + 10_000)
        .setRequests(requests).setTimeouts(timeouts).build();
  }

  @Test
  void increasesBecomeWindowCountsAndServerTimeoutsAreResponseErrorsThatWereNoAborts() {
    poll(T0.plusSeconds(1), answer(
        server("shop", "orders-1", "10.0.0.7:8080", "UP", 100, 0, 4, 1, 7, 3),
        server("shop", "checkout-1", "10.0.0.9:8080", "UP", 50, 0, 0, 0, 0, 0)));
    // orders: 200 more sessions; 30 more eresp of which 5 server aborts, 2 failed connects, 9 client aborts, 6 5xx
    poll(T0.plusSeconds(5), answer(
        server("shop", "orders-1", "10.0.0.7:8080", "UP", 300, 2, 34, 6, 16, 9),
        server("shop", "checkout-1", "10.0.0.9:8080", "UP", 90, 0, 0, 0, 0, 0)));
    poll(T0.plusSeconds(9), answer(
        server("shop", "orders-1", "10.0.0.7:8080", "UP", 310, 2, 34, 6, 16, 9),
        server("shop", "checkout-1", "10.0.0.9:8080", "UP", 90, 0, 0, 0, 0, 0)));
    clock.set(T0.plusSeconds(16));
    aggregator.tick();

    assertThat(sink.windows()).containsExactlyInAnyOrder(
        window(ORDERS, T0, 210, 27),
        window(CHECKOUT, T0, 40, 0));
    assertThat(sink.traffic()).isEmpty();
  }

  @Test
  void drainAndMaintPublishDrainedOnceAndReadyPublishesRestored() {
    poll(T0, answer(server("shop", "orders-1", "10.0.0.7:8080", "UP", 0, 0, 0, 0, 0, 0)));
    poll(T0.plusSeconds(1), answer(server("shop", "orders-1", "10.0.0.7:8080", "DRAIN", 0, 0, 0, 0, 0, 0)));
    poll(T0.plusSeconds(2), answer(server("shop", "orders-1", "10.0.0.7:8080", "DRAIN", 0, 0, 0, 0, 0, 0)));
    poll(T0.plusSeconds(3), answer(server("shop", "orders-1", "10.0.0.7:8080", "MAINT", 0, 0, 0, 0, 0, 0)));
    poll(T0.plusSeconds(4), answer(server("shop", "orders-1", "10.0.0.7:8080", "UP", 0, 0, 0, 0, 0, 0)));
    poll(T0.plusSeconds(5), answer(server("shop", "orders-1", "10.0.0.7:8080", "MAINT (via shop/orders-0)",
        0, 0, 0, 0, 0, 0)));

    assertThat(sink.traffic()).extracting(TrafficEvent::getContainerId, TrafficEvent::getAction,
            TrafficEvent::getActor, TrafficEvent::getTimestampMs)
        .containsExactly(
            tuple(ORDERS, TrafficAction.TRAFFIC_ACTION_DRAINED, "haproxy:shop/orders-1", T0.plusSeconds(1).toEpochMilli()),
            tuple(ORDERS, TrafficAction.TRAFFIC_ACTION_RESTORED, "haproxy:shop/orders-1", T0.plusSeconds(4).toEpochMilli()),
            tuple(ORDERS, TrafficAction.TRAFFIC_ACTION_DRAINED, "haproxy:shop/orders-1", T0.plusSeconds(5).toEpochMilli()));
  }

  @Test
  void aServerDrainedAtTheFirstPollIsDrainedThenAndMappedByItsName() {
    poll(T0, answer(server("shop", "checkout-1", "10.0.0.9:8080", "DRAIN", 10, 0, 0, 0, 0, 0),
        server("shop", "orders-1", "10.0.0.7:8080", "UP", 10, 0, 0, 0, 0, 0)));

    assertThat(sink.traffic()).extracting(TrafficEvent::getContainerId, TrafficEvent::getAction)
        .containsExactly(tuple(CHECKOUT, TrafficAction.TRAFFIC_ACTION_DRAINED));
  }

  @Test
  void aReloadResetsTheCountersAndTheirNewValuesAreTheIncrease() {
    poll(T0.plusSeconds(1), answer(server("shop", "orders-1", "10.0.0.7:8080", "UP", 1000, 0, 50, 0, 0, 0)));
    poll(T0.plusSeconds(5), answer(server("shop", "orders-1", "10.0.0.7:8080", "UP", 12, 0, 3, 0, 0, 0)));
    clock.set(T0.plusSeconds(16));
    aggregator.tick();

    assertThat(sink.windows()).containsExactly(window(ORDERS, T0, 12, 3));
    assertThat(metrics.counterResets("haproxy:/run/haproxy/admin.sock")).isEqualTo(1);
  }

  @Test
  void aGapOfMoreThanTwoWindowsSetsANewBaselineInsteadOfASpike() {
    poll(T0.plusSeconds(1), answer(server("shop", "orders-1", "10.0.0.7:8080", "UP", 0, 0, 0, 0, 0, 0)));
    poll(T0.plusSeconds(41), answer(server("shop", "orders-1", "10.0.0.7:8080", "UP", 4000, 0, 400, 0, 0, 0)));
    poll(T0.plusSeconds(45), answer(server("shop", "orders-1", "10.0.0.7:8080", "UP", 4010, 0, 400, 0, 0, 0)));
    clock.set(T0.plusSeconds(56));
    aggregator.tick();

    assertThat(sink.windows()).containsExactly(window(ORDERS, T0.plusSeconds(40), 10, 0));
  }

  @Test
  void unmappedServersAreCountedAndErrorAnswersAreFailures() {
    poll(T0.plusSeconds(1), answer(server("shop", "search-1", "10.0.0.99:8080", "UP", 0, 0, 0, 0, 0, 0)));
    poll(T0.plusSeconds(2), answer(server("shop", "search-1", "10.0.0.99:8080", "UP", 25, 0, 0, 0, 0, 0),
        "shop,broken-line"));
    poll(T0.plusSeconds(3), "Unknown command: 'show stat'\n");

    String name = "haproxy:/run/haproxy/admin.sock";
    assertThat(metrics.unmappedRequests(name)).isEqualTo(25);
    assertThat(metrics.malformedLines(name)).isEqualTo(2);
    assertThat(metrics.scrapeFailures(name)).isEqualTo(1);
  }

  @Test
  void theParserNeedsAShowStatHeaderWithItsColumns() {
    assertThatThrownBy(() -> HaproxyStatParser.parse("Permission denied\n"))
        .isInstanceOf(MalformedLineException.class).hasMessageContaining("Permission denied");
    assertThatThrownBy(() -> HaproxyStatParser.parse("# pxname,svname,stot\n"))
        .isInstanceOf(MalformedLineException.class).hasMessageContaining("econ");
  }
}
