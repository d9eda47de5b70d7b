package dev.stallwatch.incidents.web;

import dev.stallwatch.incidents.health.HealthIngestMetrics;
import dev.stallwatch.incidents.health.HealthIngestor;
import dev.stallwatch.incidents.health.HealthStore;
import dev.stallwatch.incidents.notify.AlertNotifier;
import dev.stallwatch.incidents.notify.AlertmanagerNotifier;
import dev.stallwatch.incidents.notify.JdbcDeliveryLog;
import dev.stallwatch.incidents.notify.Notifier;
import dev.stallwatch.incidents.notify.NotifierMetrics;
import dev.stallwatch.incidents.query.Incident;
import dev.stallwatch.incidents.query.IncidentFilter;
import dev.stallwatch.incidents.query.IncidentQuery;
import dev.stallwatch.incidents.query.IncidentStatus;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.incidents.store.IncidentIngestor;
import dev.stallwatch.schemas.Topics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code stallwatch serve} runs: the incident store's ingestor and the pager notifier, both
 * consuming the alerts topic, the container health ingestor beside them (the detector's
 * per-window series into {@code container_health}), and the web server in front of the store.
 * Without Kafka it serves the store read-only. {@link #close()} stops them in the order that
 * loses nothing: the web server, then the notifier (alerts in flight are delivered and
 * committed), then the incident ingestor, then the health ingestor, then the database.
 */
public final class IncidentService implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(IncidentService.class);

  private final IncidentDatabase database;
  private final IngestorThread ingestor;
  private final IngestorThread healthIngestor;
  private final Duration healthRetention;
  private final AlertNotifier notifier;
  private final IncidentWebServer web;
  private final int firingFromStore;

  private IncidentService(IncidentDatabase database, IngestorThread ingestor, IngestorThread healthIngestor,
                          Duration healthRetention, AlertNotifier notifier, IncidentWebServer web,
                          int firingFromStore) {
    this.database = database;
    this.ingestor = ingestor;
    this.healthIngestor = healthIngestor;
    this.healthRetention = healthRetention;
    this.notifier = notifier;
    this.web = web;
    this.firingFromStore = firingFromStore;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** {@code http://host:port} of the pages and the API. */
  public URI baseUri() {
    return web.baseUri();
  }

  public InetSocketAddress address() {
    return web.address();
  }

  /** Where the store is, for people; never a password. */
  public String storeDescription() {
    return database.describe();
  }

  /** Whether alerts from Kafka are stored (false: the store is served read-only). */
  public boolean ingesting() {
    return ingestor != null;
  }

  /** Whether container health windows from Kafka are stored in {@code container_health}. */
  public boolean ingestingHealth() {
    return healthIngestor != null;
  }

  /** How much event time of {@code container_health} is kept, counted back from the newest window. */
  public Duration healthRetention() {
    return healthRetention;
  }

  /** The receivers pages go to; empty without notifiers. */
  public List<String> receivers() {
    return notifier == null ? List.of() : notifier.receivers();
  }

  /** Open incidents from the store that Alertmanager keeps hearing about from the start. */
  public int firingFromStore() {
    return firingFromStore;
  }

  @Override
  public void close() {
    List<RuntimeException> failures = new ArrayList<>();
    closeCollecting(failures, web);
    closeCollecting(failures, notifier);
    closeCollecting(failures, ingestor);
    closeCollecting(failures, healthIngestor);
    closeCollecting(failures, database);
    if (!failures.isEmpty()) {
      RuntimeException first = failures.get(0);
      failures.subList(1, failures.size()).forEach(first::addSuppressed);
      throw first;
    }
  }

  /** Closes one part even when an earlier part failed to close; its failure is added to the list. */
  private static void closeCollecting(List<RuntimeException> failures, AutoCloseable part) {
    if (part == null) {
      return;
    }
    try {
      part.close();
    } catch (RuntimeException e) {
      failures.add(e);
    } catch (Exception e) {
      failures.add(new IllegalStateException("could not close " + part + ": " + e.getMessage(), e));
    }
  }

  /**
   * Seeds Alertmanager's re-sends with the incidents the store holds open, so that a restart does
   * not let Alertmanager time them out as resolved. The seed is as fresh as the store: an incident
   * whose RESOLVED alert was paged while the store was down (and not yet stored) is re-sent as
   * firing until the next restart.
   */
  private static int keepOpenIncidentsFiring(IncidentQuery query, List<Notifier> notifiers) {
    List<AlertmanagerNotifier> alertmanagers = notifiers.stream()
        .filter(AlertmanagerNotifier.class::isInstance)
        .map(AlertmanagerNotifier.class::cast)
        .toList();
    if (alertmanagers.isEmpty()) {
      return 0;
    }
    IncidentFilter open = IncidentFilter.builder().status(IncidentStatus.OPEN).build();
    List<Incident> newestFirst = new ArrayList<>(
        query.search(open, Math.min(AlertmanagerNotifier.DEFAULT_MAX_FIRING, IncidentQuery.MAX_LIMIT), 0).incidents());
    Collections.reverse(newestFirst);
    for (AlertmanagerNotifier alertmanager : alertmanagers) {
      // the notifier's own record of what Alertmanager accepted: before start(), no delivery thread runs yet
      newestFirst.forEach(incident -> alertmanager.accepted(incident.openAlert()));
    }
    LOG.info("re-sending {} open incident(s) from the store to Alertmanager", newestFirst.size());
    return newestFirst.size();
  }

  /** Configures the service; {@link #start()} checks the whole. */
  public static final class Builder {
    private IncidentDatabase database;
    private InetSocketAddress listen;
    private ApiToken apiToken;
    private String bootstrapServers;
    private Topics topics = Topics.defaults();
    private Properties kafkaProperties = new Properties();
    private final List<Notifier> notifiers = new ArrayList<>();
    private Clock clock = Clock.systemUTC();
    private Duration healthRetention = HealthIngestor.DEFAULT_RETENTION;
    private String healthGroupId = HealthIngestor.DEFAULT_GROUP_ID;
    private final Map<String, HealthCheck> moreHealthChecks = new LinkedHashMap<>();

    private Builder() {}

    /** A part beside the service that {@code /healthz} reports too, e.g. the detection job of {@code demo --serve}. */
    public Builder healthCheck(String name, HealthCheck check) {
      if (moreHealthChecks.putIfAbsent(Objects.requireNonNull(name, "name"), Objects.requireNonNull(check, "check"))
          != null) {
        throw new IllegalArgumentException("a health check named '" + name + "' is there already");
      }
      return this;
    }

    /** The store; the service closes it. Open it READ_WRITE to ingest. */
    public Builder database(IncidentDatabase database) {
      this.database = Objects.requireNonNull(database, "database");
      return this;
    }

    public Builder listen(InetSocketAddress listen) {
      this.listen = Objects.requireNonNull(listen, "listen address");
      return this;
    }

    public Builder apiToken(ApiToken apiToken) {
      this.apiToken = Objects.requireNonNull(apiToken, "API token");
      return this;
    }

    /** The Kafka of the alerts topic; without it the store is served read-only, and nothing pages. */
    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrap servers");
      return this;
    }

    public Builder topics(Topics topics) {
      this.topics = Objects.requireNonNull(topics, "topics");
      return this;
    }

    /** Client settings for the deployment's Kafka (security, timeouts), for the ingestor and the notifier. */
    public Builder kafkaProperties(Properties kafkaProperties) {
      Objects.requireNonNull(kafkaProperties, "Kafka properties");
      this.kafkaProperties = new Properties();
      this.kafkaProperties.putAll(kafkaProperties);
      return this;
    }

    /** Where pages go; none: no notifier runs. */
    public Builder notifiers(List<? extends Notifier> notifiers) {
      this.notifiers.addAll(Objects.requireNonNull(notifiers, "notifiers"));
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * How much event time of {@code container_health} to keep, counted back from the newest
     * window (default {@link HealthIngestor#DEFAULT_RETENTION}); whole UTC days are dropped.
     */
    public Builder healthRetention(Duration retention) {
      Objects.requireNonNull(retention, "health retention");
      if (retention.isNegative() || retention.isZero()) {
        throw new IllegalArgumentException("the health retention must be positive, got " + retention);
      }
      this.healthRetention = retention;
      return this;
    }

    /** The consumer group of the container health ingestor (default {@link HealthIngestor#DEFAULT_GROUP_ID}). */
    public Builder healthGroupId(String groupId) {
      this.healthGroupId = Objects.requireNonNull(groupId, "health group id");
      return this;
    }

    /**
     * Starts the ingestor and the notifier (with Kafka), then the web server.
     *
     * @throws java.io.UncheckedIOException when the address cannot be bound; what started is closed again
     */
    public IncidentService start() {
      if (database == null || listen == null || apiToken == null) {
        throw new IllegalStateException("the incident service needs database(...), listen(...) and apiToken(...)");
      }
      if (!notifiers.isEmpty() && bootstrapServers == null) {
        throw new IllegalStateException("the notifier reads alerts from Kafka: give the bootstrap servers too");
      }
      if (bootstrapServers != null && database.options().access() != DatabaseOptions.Access.READ_WRITE) {
        throw new IllegalStateException("ingesting alerts writes the store: open it with Access.READ_WRITE");
      }
      PrometheusRegistry registry = new PrometheusRegistry();
      // a bug on the query side cannot write: its connections are read-only
      IncidentQuery query = new IncidentQuery(database.readOnlyDataSource());
      IngestorThread ingestor = null;
      IngestorThread healthIngestor = null;
      AlertNotifier notifier = null;
      try {
        IncidentWebServer.Builder web = IncidentWebServer.builder()
            .listen(listen)
            .query(query)
            .apiToken(apiToken)
            .registry(registry)
            .clock(clock)
            .healthCheck("store", new StoreHealthCheck(database.readOnlyDataSource()));
        if (bootstrapServers != null) {
          IncidentIngestor incidentIngestor = IncidentIngestor.builder()
              .bootstrapServers(bootstrapServers)
              .topics(topics)
              .kafkaProperties(kafkaProperties)
              .store(database.store())
              .build();
          IngestMetrics.register(registry, incidentIngestor);
          ingestor = IngestorThread.start(incidentIngestor);
          web.healthCheck("ingestor", ingestor);
          HealthIngestor health = HealthIngestor.builder()
              .bootstrapServers(bootstrapServers)
              .topics(topics)
              .groupId(healthGroupId)
              .kafkaProperties(kafkaProperties)
              .store(new HealthStore(database.dataSource()))
              .retention(healthRetention)
              .clock(clock)
              .build();
          HealthIngestMetrics.register(registry, health);
          healthIngestor = IngestorThread.start(health);
          web.healthCheck("health-ingestor", healthIngestor);
        } else {
          web.healthCheck("ingestor", () -> Health.ok("off: the store is served read-only"));
          web.healthCheck("health-ingestor", () -> Health.ok("off: the store is served read-only"));
        }
        int firing = 0;
        if (!notifiers.isEmpty()) {
          firing = keepOpenIncidentsFiring(query, notifiers);
          notifier = AlertNotifier.builder()
              .bootstrapServers(bootstrapServers)
              .topics(topics)
              .kafkaProperties(kafkaProperties)
              .notifiers(notifiers)
              .metrics(NotifierMetrics.register(registry))
              // alerts come at least once: what went out survives a restart in the store
              .deliveryLog(new JdbcDeliveryLog(database.dataSource()))
              .build();
          notifier.start();
          web.healthCheck("notifier", notifierHealth(notifier));
        } else {
          web.healthCheck("notifier", () -> Health.ok("off: no receiver configured"));
        }
        moreHealthChecks.forEach(web::healthCheck);
        return new IncidentService(database, ingestor, healthIngestor, healthRetention, notifier, web.start(),
            firing);
      } catch (RuntimeException e) {
        List<RuntimeException> failures = new ArrayList<>();
        closeCollecting(failures, notifier);
        closeCollecting(failures, ingestor);
        closeCollecting(failures, healthIngestor);
        failures.forEach(e::addSuppressed);
        throw e;
      }
    }

    private static HealthCheck notifierHealth(AlertNotifier notifier) {
      return () -> notifier.failure()
          .map(error -> Health.failing("stopped: " + error))
          .orElseGet(() -> notifier.isRunning() ? Health.ok("running, paging " + notifier.receivers())
              : Health.failing("stopped"));
    }
  }
}
