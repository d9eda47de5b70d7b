package dev.stallwatch.ingest.collector;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How the collector runs {@code perf}: which event it samples, how often, how it walks stacks, and
 * how it keeps perf's output flowing. Built with {@link #builder()}; every option has a default.
 *
 * <p>The pipeline is {@code perf record -k CLOCK_REALTIME -e cpu-clock -F 99 --call-graph fp -a
 * --control fd:0 -o - | perf script -i - -F comm,pid,tid,cpu,time,period,event,ip,sym,dso}. In
 * pipe mode perf record writes a buffer only when it is half full, which on an idle 2-core host
 * took up to 10 s (default buffers) or 2–5 s (small ones, or dwarf stacks) to reach perf script.
 * Writing {@code ping} to its control descriptor (its stdin here) every {@link #flushInterval()}
 * makes it drain every buffer at once: samples then reach us within about half a second whatever
 * the load or the call-graph mode, without shrinking buffers (which loses samples on busy hosts)
 * or rotating files. The same stdin also ends perf record when the JVM dies, so no perf outlives
 * the collector.
 */
public final class PerfSettings {
  public static final String DEFAULT_PERF = "perf";
  public static final int DEFAULT_FREQUENCY_HZ = 99;
  public static final String DEFAULT_EVENT = "cpu-clock";
  public static final Duration DEFAULT_FLUSH_INTERVAL = Duration.ofMillis(250);
  /** The fields {@link dev.stallwatch.ingest.perf.PerfScriptReader} reads; period gives exact weights. */
  public static final String SCRIPT_FIELDS = "comm,pid,tid,cpu,time,period,event,ip,sym,dso";

  /** How perf walks stacks. */
  public enum CallGraph {
    /** Frame pointers: cheap, but stacks stop at code built without them. */
    FP("fp"),
    /** A copy of the user stack unwound with DWARF by perf script: complete, costs perf CPU. */
    DWARF("dwarf");

    private final String perfName;

    CallGraph(String perfName) {
      this.perfName = perfName;
    }

    public String perfName() {
      return perfName;
    }

    public static CallGraph parse(String text) {
      for (CallGraph mode : values()) {
        if (mode.perfName.equalsIgnoreCase(text)) {
          return mode;
        }
      }
      throw new IllegalArgumentException("call-graph mode must be fp or dwarf, got '" + text + "'");
    }
  }

  private final String perf;
  private final int frequencyHz;
  private final String event;
  private final CallGraph callGraph;
  private final int mmapPages;
  private final Duration flushInterval;
  private final String command;

  private PerfSettings(Builder builder) {
    this.perf = builder.perf;
    this.frequencyHz = builder.frequencyHz;
    this.event = builder.event;
    this.callGraph = builder.callGraph;
    this.mmapPages = builder.mmapPages;
    this.flushInterval = builder.flushInterval;
    this.command = builder.command;
  }

  public static Builder builder() {
    return new Builder();
  }

  public static PerfSettings defaults() {
    return builder().build();
  }

  /** The perf executable: a name looked up on {@code PATH}, or a path. */
  public String perf() {
    return perf;
  }

  public int frequencyHz() {
    return frequencyHz;
  }

  public String event() {
    return event;
  }

  public CallGraph callGraph() {
    return callGraph;
  }

  /** perf record's {@code -m}, or 0 for perf's default. */
  public int mmapPages() {
    return mmapPages;
  }

  /** How often perf record is told to write out its buffers; zero when it is not. */
  public Duration flushInterval() {
    return flushInterval;
  }

  /** A shell command that replaces the whole pipeline and prints {@code perf script} text, if set. */
  public Optional<String> command() {
    return Optional.ofNullable(command);
  }

  /** Whether perf record is driven through its control descriptor (not with a custom command). */
  boolean pingsPerf() {
    return command == null && !flushInterval.isZero();
  }

  /** The processes to start: perf record and perf script, or {@code sh -c COMMAND}. */
  List<List<String>> processes() {
    if (command != null) {
      return List.of(List.of("/bin/sh", "-c", command));
    }
    List<String> record = new ArrayList<>(List.of(
        perf, "record", "-k", "CLOCK_REALTIME", "-e", event, "-F", Integer.toString(frequencyHz),
        "--call-graph", callGraph.perfName(), "-a"));
    if (mmapPages > 0) {
      record.addAll(List.of("-m", Integer.toString(mmapPages)));
    }
    if (pingsPerf()) {
      record.addAll(List.of("--control", "fd:0"));
    }
    record.addAll(List.of("-o", "-"));
    List<String> script = List.of(perf, "script", "-i", "-", "-F", SCRIPT_FIELDS);
    return List.of(List.copyOf(record), script);
  }

  /** The pipeline as a shell would show it, for logs and messages. */
  public String describe() {
    List<String> parts = new ArrayList<>();
    for (List<String> process : processes()) {
      parts.add(String.join(" ", process));
    }
    return String.join(" | ", parts);
  }

  /** Options of {@link PerfSettings}. */
  public static final class Builder {
    private String perf = DEFAULT_PERF;
    private int frequencyHz = DEFAULT_FREQUENCY_HZ;
    private String event = DEFAULT_EVENT;
    private CallGraph callGraph = CallGraph.FP;
    private int mmapPages;
    private Duration flushInterval = DEFAULT_FLUSH_INTERVAL;
    private String command;

    private Builder() {}

    public Builder perf(String perf) {
      this.perf = Objects.requireNonNull(perf, "perf");
      return this;
    }

    public Builder frequencyHz(int frequencyHz) {
      this.frequencyHz = frequencyHz;
      return this;
    }

    public Builder event(String event) {
      this.event = Objects.requireNonNull(event, "event");
      return this;
    }

    public Builder callGraph(CallGraph callGraph) {
      this.callGraph = Objects.requireNonNull(callGraph, "callGraph");
      return this;
    }

    public Builder mmapPages(int mmapPages) {
      this.mmapPages = mmapPages;
      return this;
    }

    public Builder flushInterval(Duration flushInterval) {
      this.flushInterval = Objects.requireNonNull(flushInterval, "flushInterval");
      return this;
    }

    /** Replaces the pipeline: run with {@code /bin/sh -c}, its stdout must be perf script text. */
    public Builder command(String command) {
      this.command = Objects.requireNonNull(command, "command");
      return this;
    }

    public PerfSettings build() {
      if (perf.isBlank()) {
        throw new IllegalArgumentException("the perf executable is empty: give a name on PATH or a path");
      }
      if (frequencyHz < 1) {
        throw new IllegalArgumentException("sampling frequency must be at least 1 Hz, got " + frequencyHz);
      }
      if (event.isBlank() || event.chars().anyMatch(Character::isWhitespace)) {
        throw new IllegalArgumentException("perf event must be one name such as cpu-clock, got '" + event + "'");
      }
      // perf wants 2^n data pages
      if (mmapPages < 0 || (mmapPages > 0 && Integer.bitCount(mmapPages) != 1)) {
        throw new IllegalArgumentException("perf mmap pages must be a power of two (or 0 for perf's default), got " + mmapPages);
      }
      if (flushInterval.isNegative()) {
        throw new IllegalArgumentException("perf flush interval must not be negative, got " + flushInterval);
      }
      if (command != null && command.isBlank()) {
        throw new IllegalArgumentException("the perf command is empty");
      }
      return new PerfSettings(this);
    }
  }
}
