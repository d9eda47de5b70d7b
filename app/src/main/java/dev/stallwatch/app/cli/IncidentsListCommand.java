package dev.stallwatch.app.cli;

import dev.stallwatch.incidents.query.IncidentCsv;
import dev.stallwatch.incidents.query.IncidentFilter;
import dev.stallwatch.incidents.query.IncidentJson;
import dev.stallwatch.incidents.query.IncidentPage;
import dev.stallwatch.incidents.query.IncidentQuery;
import dev.stallwatch.incidents.query.IncidentStatus;
import dev.stallwatch.incidents.query.IncidentTable;
import dev.stallwatch.incidents.query.TimeBound;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = {
        "Lists incidents, newest first (by detection time). Filters combine; times are a duration back from now "
            + "(7d, 12h, 30m) or ISO-8601 (2026-11-02, 2026-11-02T10:00:00Z; UTC without an offset).",
        ""})
public final class IncidentsListCommand implements Callable<Integer> {
  @Option(names = "--since", paramLabel = "TIME", description = "Detected at or after TIME, e.g. 7d.")
  String since;

  @Option(names = "--until", paramLabel = "TIME", description = "Detected before TIME.")
  String until;

  @Option(names = "--container", paramLabel = "ID", description = "Container ID or its prefix (e.g. docker's 12 characters).")
  String container;

  @Option(names = "--host", paramLabel = "HOST", description = "Host name.")
  String host;

  @Option(names = "--namespace", paramLabel = "NAMESPACE", description = "Kubernetes namespace.")
  String namespace;

  @Option(names = "--signature", paramLabel = "ID", description = "Signature ID, e.g. go-timer-livelock.")
  String signature;

  @Option(names = "--status", paramLabel = "STATUS", description = "open or resolved.")
  String status;

  @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "table",
      description = "table, json (one object per line, as 'stallwatch replay' prints) or csv. Default: ${DEFAULT-VALUE}.")
  String format;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "" + IncidentQuery.DEFAULT_LIMIT,
      description = "At most N incidents (1 to " + IncidentQuery.MAX_LIMIT + "). Default: ${DEFAULT-VALUE}.")
  int limit;

  @Option(names = "--offset", paramLabel = "N", defaultValue = "0", description = "Skip the N newest matches first.")
  int offset;

  @Mixin
  IncidentStoreOptions store;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  /** Durations count back from this clock; tests fix it. */
  Clock clock = Clock.systemUTC();

  enum Format { TABLE, JSON, CSV }

  @Override
  public Integer call() {
    // every argument is checked before the store starts: a typo costs no database start-up
    IncidentFilter filter = filter();
    Format output = format(format);
    if (limit < 1 || limit > IncidentQuery.MAX_LIMIT) {
      throw new UserError("--limit: expected 1 to " + IncidentQuery.MAX_LIMIT + ", got " + limit);
    }
    if (offset < 0) {
      throw new UserError("--offset: expected 0 or more, got " + offset);
    }
    IncidentPage page;
    try (IncidentDatabase database = store.open(DatabaseOptions.Access.READ_ONLY)) {
      page = new IncidentQuery(database.readOnlyDataSource()).search(filter, limit, offset);
    }
    PrintWriter out = spec.commandLine().getOut();
    switch (output) {
      case TABLE -> {
        if (!page.incidents().isEmpty()) {
          out.print(IncidentTable.render(page.incidents()));
        }
      }
      case JSON -> page.incidents().forEach(i -> out.println(IncidentJson.line(i)));
      case CSV -> {
        out.println(IncidentCsv.header());
        page.incidents().forEach(i -> out.println(IncidentCsv.row(i)));
      }
    }
    out.flush();
    summary(page);
    return 0;
  }

  /** On stderr: stdout stays the incidents alone. */
  private void summary(IncidentPage page) {
    PrintWriter err = spec.commandLine().getErr();
    if (page.incidents().isEmpty()) {
      err.println(page.total() == 0 ? "stallwatch: no incidents match"
          : "stallwatch: no incidents past --offset " + offset + " (" + page.total() + " match)");
    } else if (page.hasMore() || offset > 0) {
      err.println("stallwatch: incidents " + (offset + 1) + "-" + (offset + page.incidents().size()) + " of "
          + page.total() + (page.hasMore() ? "; next page: --offset " + (offset + page.incidents().size()) : ""));
    }
    err.flush();
  }

  IncidentFilter filter() {
    IncidentFilter.Builder filter = IncidentFilter.builder()
        .since(time("--since", since))
        .until(time("--until", until))
        .container(container)
        .host(host)
        .namespace(namespace)
        .signature(signature);
    if (status != null) {
      try {
        filter.status(IncidentStatus.parse(status));
      } catch (IllegalArgumentException e) {
        throw new UserError("--status: " + e.getMessage(), e);
      }
    }
    try {
      return filter.build();
    } catch (IllegalArgumentException e) {
      throw new UserError("--since " + since + " is not before --until " + until, e);
    }
  }

  private Instant time(String option, String text) {
    if (text == null) {
      return null;
    }
    try {
      return TimeBound.parse(text, clock);
    } catch (IllegalArgumentException e) {
      throw new UserError(option + ": " + e.getMessage(), e);
    }
  }

  static Format format(String text) {
    for (Format f : Format.values()) {
      if (f.name().equalsIgnoreCase(text)) {
        return f;
      }
    }
    throw new UserError("--format: expected table, json or csv, got '" + text + "'");
  }
}
