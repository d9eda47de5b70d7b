package dev.stallwatch.app.cli;

import dev.stallwatch.incidents.AlertReport;
import dev.stallwatch.incidents.flamegraph.FlameGraphSvg;
import dev.stallwatch.incidents.query.Incident;
import dev.stallwatch.incidents.query.IncidentJson;
import dev.stallwatch.incidents.query.IncidentQuery;
import dev.stallwatch.incidents.query.TerminalText;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.Evidence;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.ingest.perf.FoldedFormat;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "show",
    mixinStandardHelpOptions = true,
    description = {
        "Shows one incident: the timeline (spike, drain, stuck, detected, resolved), CPU before and after the drain, "
            + "the signature's share of the samples, the runtime and the known issue with its link, and the top "
            + "stacks. Optionally writes the evidence as folded stacks or as a flame graph.",
        ""})
public final class IncidentsShowCommand implements Callable<Integer> {
  /** More than one match of an ID prefix is listed up to this many. */
  private static final int AMBIGUOUS_SHOWN = 5;

  @Parameters(paramLabel = "ID",
      description = "Incident ID, or a unique prefix of at least " + IncidentQuery.MIN_ID_PREFIX + " characters.")
  String id;

  @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text",
      description = "text or json (the object 'incidents list --format json' prints). Default: ${DEFAULT-VALUE}.")
  String format;

  @Option(names = "--folded", paramLabel = "FILE",
      description = "Also write the evidence as folded stacks ('comm;root;...;leaf weight' lines) for flamegraph.pl, "
          + "speedscope or 'stallwatch fold' tools.")
  Path folded;

  @Option(names = "--flamegraph", paramLabel = "FILE.svg", description = "Also write the evidence as a flame graph SVG.")
  Path flameGraph;

  @Mixin
  IncidentStoreOptions store;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    boolean json = switch (format.toLowerCase(Locale.ROOT)) {
      case "text" -> false;
      case "json" -> true;
      default -> throw new UserError("--format: expected text or json, got '" + format + "'");
    };
    Incident incident;
    String where;
    try (IncidentDatabase database = store.open(DatabaseOptions.Access.READ_ONLY)) {
      where = database.describe();
      incident = find(new IncidentQuery(database.readOnlyDataSource()), where);
    }
    PrintWriter out = spec.commandLine().getOut();
    out.print(json ? IncidentJson.line(incident) + "\n" : text(incident));
    out.flush();
    if (folded != null) {
      write("--folded", folded, w -> {
        for (Evidence.Stack stack : incident.topStacks()) {
          FoldedFormat.writeLine(w, stack.folded(), stack.weight());
        }
      });
      Progress.log("wrote " + incident.topStacks().size() + " folded stack(s) to " + folded);
    }
    if (flameGraph != null) {
      write("--flamegraph", flameGraph, w -> w.write(FlameGraphSvg.forIncident(incident)));
      Progress.log("wrote the flame graph to " + flameGraph);
    }
    return 0;
  }

  private Incident find(IncidentQuery query, String where) {
    List<Incident> found = query.findByIdOrPrefix(id, AMBIGUOUS_SHOWN);
    if (found.isEmpty()) {
      throw new UserError("no incident " + id + " in the " + where);
    }
    if (found.size() > 1) {
      throw new UserError("incident ID prefix " + id + " is ambiguous: "
          + found.stream().map(Incident::incidentId).collect(Collectors.joining(", "))
          + (found.size() == AMBIGUOUS_SHOWN ? ", ..." : ""));
    }
    return found.get(0);
  }

  /** The report for a terminal: every stored string has its control characters escaped. */
  static String text(Incident incident) {
    String status = incident.status() + (incident.resolveReason() == null ? ""
        : " (" + TerminalText.escape(incident.resolveReason()) + ")");
    return "status " + status + "; recorded " + incident.createdAt() + ", last changed " + incident.updatedAt() + "\n"
        + AlertReport.render(TerminalText.escape(incident.openAlert()),
            TerminalText.escape(incident.resolvedAlertOrNull()));
  }

  private interface Content {
    void writeTo(Writer writer) throws IOException;
  }

  private static void write(String option, Path file, Content content) throws IOException {
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      content.writeTo(w);
    } catch (NoSuchFileException e) {
      throw new UserError(option + " " + file + ": no such directory", e);
    } catch (AccessDeniedException e) {
      throw new UserError(option + " " + file + ": permission denied", e);
    }
  }
}
