package dev.stallwatch.jobs;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every number of the deadlock detector: typed options with key, type, default and description
 * in one place, in the manner of Flink's {@code ConfigOptions}.
 *
 * <p>Immutable and serializable (it travels inside the Flink function). Build with {@link
 * #defaults()}, {@link #fromMap(Map)}, {@link #load(Path)} and {@link #withOverrides(Map)}; an
 * unknown key or a bad value is an {@link IllegalArgumentException} naming the key and the
 * expected form.
 */
public final class DetectorOptions implements Serializable {

  // before the options below, which parse their defaults with it
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|min|h|d)");

  /** One typed option. */
  public static final class Option<T> {
    private final String key;
    private final Class<T> type;
    private final T defaultValue;
    private final String description;
    private final String expectedForm;
    private final Function<String, T> parser;
    private final Function<T, String> formatter;

    private Option(
        String key,
        Class<T> type,
        T defaultValue,
        String expectedForm,
        Function<String, T> parser,
        Function<T, String> formatter,
        String description) {
      this.key = key;
      this.type = type;
      this.defaultValue = defaultValue;
      this.expectedForm = expectedForm;
      this.parser = parser;
      this.formatter = formatter;
      this.description = description;
    }

    public String key() {
      return key;
    }

    public Class<T> type() {
      return type;
    }

    public T defaultValue() {
      return defaultValue;
    }

    public String description() {
      return description;
    }

    /** How a value is written, e.g. "a duration such as 10s, 500ms, 15m or 1h". */
    public String expectedForm() {
      return expectedForm;
    }

    public String format(T value) {
      return formatter.apply(value);
    }

    public String formatDefault() {
      return formatter.apply(defaultValue);
    }

    T parse(String text) {
      try {
        return parser.apply(text.strip());
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            key + ": expected " + expectedForm + ", got '" + text + "'");
      }
    }

    @Override
    public String toString() {
      return key;
    }
  }

  public static final Option<Duration> WINDOW_SIZE =
      duration("window.size", "10s",
          "Length of the aligned event-time windows every measure is taken over.");
  public static final Option<Integer> SPIKE_MIN_TIMEOUTS =
      integer("spike.min-timeouts", 10,
          "A spike window has at least this many upstream timeouts.");
  public static final Option<Double> SPIKE_MIN_TIMEOUT_RATIO =
      ratio("spike.min-timeout-ratio", 0.05,
          "... and timeouts/requests at least this (any ratio when requests are 0).");
  public static final Option<Duration> DRAIN_MAX_DELAY =
      duration("drain.max-delay", "15m",
          "A drain must come within this time after the latest spike window; an episode"
              + " without one expires (so does a drained episode without stuck"
              + " windows this long after the drain).");
  public static final Option<Double> DRAIN_MAX_REQUEST_RATIO =
      ratio("drain.max-request-ratio", 0.02,
          "Drained: a window with requests <= this x the median per-window requests of"
              + " the baseline before the spike.");
  public static final Option<Duration> DRAIN_BASELINE =
      duration("drain.baseline", "5m",
          "How far before the spike start the request baseline (median) reaches; also"
              + " how much request history is kept.");
  public static final Option<Double> STUCK_MIN_CORES =
      number("stuck.min-cores", 0.5, "a number of CPU cores such as 0.5",
          "Stuck window: CPU cores used is at least this.");
  public static final Option<Double> STUCK_MIN_CPU_RATIO =
      ratio("stuck.min-cpu-ratio", 0.5,
          "Stuck window: CPU cores used is at least this x the mean over the spike windows"
              + " (CPU did not fall after the drain).");
  public static final Option<Duration> STUCK_SUSTAIN =
      duration("stuck.sustain", "60s",
          "An alert opens after this much time of consecutive stuck windows.");
  public static final Option<Integer> RESOLVE_HEALTHY_WINDOWS =
      integer("resolve.healthy-windows", 3,
          "An open alert resolves after this many consecutive non-stuck windows"
              + " (windows with profile data).");
  public static final Option<Duration> RESOLVE_SILENCE =
      duration("resolve.silence", "5m",
          "After this long without any data for a container its state is dropped; an"
              + " open alert resolves with reason 'silence'.");
  public static final Option<Duration> WATERMARK_OUT_OF_ORDERNESS =
      duration("watermark.out-of-orderness", "30s",
          "How late (in event time) a record may arrive behind the newest one of its"
              + " Kafka partition and still count.");
  public static final Option<Duration> WATERMARK_IDLENESS =
      duration("watermark.idleness", "60s",
          "A Kafka partition without records for this long stops holding back event"
              + " time.");
  public static final Option<Duration> INPUT_MAX_FUTURE =
      duration("input.max-future", "10m",
          "A record whose event time is further than this ahead of the job's clock goes to"
              + " the dead-letter topic before it can move the watermark.");
  public static final Option<Duration> INPUT_MAX_AGE =
      duration("input.max-age", "0s",
          "A record whose event time is older than this (by the job's clock) goes to the"
              + " dead-letter topic; 0s: no limit (replays of old captures), only records"
              + " before 2000 are refused.");
  public static final Option<Double> PROFILE_DEFAULT_SAMPLE_FREQUENCY =
      number("profile.default-sample-frequency-hz", 99.0, "a frequency in hertz such as 99",
          "Sampling frequency assumed for SAMPLES-weighted windows that do not say theirs.");
  public static final Option<Integer> EVIDENCE_STACKS_PER_WINDOW =
      integer("evidence.stacks-per-window", 20,
          "Heaviest stacks of each profile window kept as evidence (the rest only count"
              + " towards shares).");
  public static final Option<Integer> EVIDENCE_TOP_STACKS =
      integer("evidence.top-stacks", 10,
          "Heaviest stacks over the stuck windows put into an alert.");

  private static final List<Option<?>> ALL =
      List.of(
          WINDOW_SIZE,
          SPIKE_MIN_TIMEOUTS,
          SPIKE_MIN_TIMEOUT_RATIO,
          DRAIN_MAX_DELAY,
          DRAIN_MAX_REQUEST_RATIO,
          DRAIN_BASELINE,
          STUCK_MIN_CORES,
          STUCK_MIN_CPU_RATIO,
          STUCK_SUSTAIN,
          RESOLVE_HEALTHY_WINDOWS,
          RESOLVE_SILENCE,
          WATERMARK_OUT_OF_ORDERNESS,
          WATERMARK_IDLENESS,
          INPUT_MAX_FUTURE,
          INPUT_MAX_AGE,
          PROFILE_DEFAULT_SAMPLE_FREQUENCY,
          EVIDENCE_STACKS_PER_WINDOW,
          EVIDENCE_TOP_STACKS);

  private static final DetectorOptions DEFAULTS = new DetectorOptions(defaultValues());

  // key -> Duration | Integer | Double; every known key present
  private final LinkedHashMap<String, Object> values;

  private DetectorOptions(LinkedHashMap<String, Object> values) {
    this.values = values;
    validate();
  }

  public static DetectorOptions defaults() {
    return DEFAULTS;
  }

  /** Defaults with the given {@code key -> value text} overrides. */
  public static DetectorOptions fromMap(Map<String, String> settings) {
    return DEFAULTS.withOverrides(settings);
  }

  /** These options with the given {@code key -> value text} overrides. */
  public DetectorOptions withOverrides(Map<String, String> settings) {
    LinkedHashMap<String, Object> copy = new LinkedHashMap<>(values);
    for (Map.Entry<String, String> e : settings.entrySet()) {
      Option<?> option = option(e.getKey());
      if (e.getValue() == null) {
        throw new IllegalArgumentException(
            e.getKey() + ": expected " + option.expectedForm() + ", got nothing");
      }
      copy.put(option.key(), option.parse(e.getValue()));
    }
    return new DetectorOptions(copy);
  }

  /**
   * Defaults overridden by a file: {@code .yaml}/{@code .yml} (flat {@code window.size: 10s} or
   * nested {@code window: {size: 10s}}); any other name ({@code .properties}, {@code .conf}, ...)
   * is read as lines of {@code key=value} or {@code key: value}, with {@code #} comments.
   * Errors name the file, the line and the key.
   */
  public static DetectorOptions load(Path file) {
    String name = file.getFileName() == null ? "" : file.getFileName().toString();
    String lower = name.toLowerCase(Locale.ROOT);
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "options file " + file + ": cannot read it (" + e + ")", e);
    }
    List<Setting> settings = lower.endsWith(".yaml") || lower.endsWith(".yml")
        ? parseYaml(text, file)
        : parseLines(text, file);
    LinkedHashMap<String, Object> values = new LinkedHashMap<>(DEFAULTS.values);
    for (Setting s : settings) {
      try {
        Option<?> option = option(s.key);
        values.put(option.key(), option.parse(s.value));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "options file " + file + " line " + s.line + ": " + e.getMessage(), e);
      }
    }
    try {
      return new DetectorOptions(values);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("options file " + file + ": " + e.getMessage(), e);
    }
  }

  /** All options, in a stable order. */
  public static List<Option<?>> options() {
    return ALL;
  }

  /** Keys, defaults and descriptions, one option per line, for {@code --help}. */
  public static String describe() {
    int width = ALL.stream().mapToInt(o -> o.key().length() + o.formatDefault().length()).max()
        .orElse(20) + 3;
    StringBuilder out = new StringBuilder();
    for (Option<?> o : ALL) {
      String head = o.key() + "=" + o.formatDefault();
      out.append("  ").append(head).append(" ".repeat(Math.max(1, width - head.length())))
          .append(o.description()).append('\n');
    }
    return out.toString();
  }

  public <T> T get(Option<T> option) {
    return option.type().cast(values.get(option.key()));
  }

  /** Every key with its value as text (parsable again by {@link #fromMap}). */
  public Map<String, String> toMap() {
    LinkedHashMap<String, String> out = new LinkedHashMap<>();
    for (Option<?> o : ALL) {
      out.put(o.key(), formatValue(o));
    }
    return Collections.unmodifiableMap(out);
  }

  // typed accessors used by the job

  public Duration windowSize() {
    return get(WINDOW_SIZE);
  }

  public long windowSizeMs() {
    return get(WINDOW_SIZE).toMillis();
  }

  public int spikeMinTimeouts() {
    return get(SPIKE_MIN_TIMEOUTS);
  }

  public double spikeMinTimeoutRatio() {
    return get(SPIKE_MIN_TIMEOUT_RATIO);
  }

  public long drainMaxDelayMs() {
    return get(DRAIN_MAX_DELAY).toMillis();
  }

  public double drainMaxRequestRatio() {
    return get(DRAIN_MAX_REQUEST_RATIO);
  }

  public long drainBaselineMs() {
    return get(DRAIN_BASELINE).toMillis();
  }

  public double stuckMinCores() {
    return get(STUCK_MIN_CORES);
  }

  public double stuckMinCpuRatio() {
    return get(STUCK_MIN_CPU_RATIO);
  }

  /** Consecutive stuck windows needed for an alert: stuck.sustain / window.size, rounded up. */
  public int stuckWindowsToAlert() {
    return (int) ceilDiv(get(STUCK_SUSTAIN).toMillis(), windowSizeMs());
  }

  public int resolveHealthyWindows() {
    return get(RESOLVE_HEALTHY_WINDOWS);
  }

  public long resolveSilenceMs() {
    return get(RESOLVE_SILENCE).toMillis();
  }

  public Duration outOfOrderness() {
    return get(WATERMARK_OUT_OF_ORDERNESS);
  }

  public Duration idleness() {
    return get(WATERMARK_IDLENESS);
  }

  public Duration inputMaxFuture() {
    return get(INPUT_MAX_FUTURE);
  }

  /** Zero: no limit. */
  public Duration inputMaxAge() {
    return get(INPUT_MAX_AGE);
  }

  public double defaultSampleFrequencyHz() {
    return get(PROFILE_DEFAULT_SAMPLE_FREQUENCY);
  }

  public int stacksPerWindow() {
    return get(EVIDENCE_STACKS_PER_WINDOW);
  }

  public int topStacks() {
    return get(EVIDENCE_TOP_STACKS);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DetectorOptions other && values.equals(other.values);
  }

  @Override
  public int hashCode() {
    return values.hashCode();
  }

  @Override
  public String toString() {
    return "DetectorOptions" + toMap();
  }

  private void validate() {
    requirePositive(WINDOW_SIZE);
    if (windowSizeMs() < 1000) {
      throw new IllegalArgumentException(
          WINDOW_SIZE.key() + ": expected at least 1s, got " + formatValue(WINDOW_SIZE));
    }
    requirePositive(DRAIN_MAX_DELAY);
    requirePositive(DRAIN_BASELINE);
    requirePositive(STUCK_SUSTAIN);
    requirePositive(RESOLVE_SILENCE);
    requirePositive(WATERMARK_IDLENESS);
    requirePositive(INPUT_MAX_FUTURE);
    if (get(INPUT_MAX_AGE).isNegative()) {
      throw new IllegalArgumentException(INPUT_MAX_AGE.key() + ": expected a duration >= 0");
    }
    if (get(WATERMARK_OUT_OF_ORDERNESS).isNegative()) {
      throw new IllegalArgumentException(
          WATERMARK_OUT_OF_ORDERNESS.key() + ": expected a duration >= 0");
    }
    requireAtLeast(SPIKE_MIN_TIMEOUTS, 1);
    requireAtLeast(RESOLVE_HEALTHY_WINDOWS, 1);
    requireAtLeast(EVIDENCE_STACKS_PER_WINDOW, 1);
    requireAtLeast(EVIDENCE_TOP_STACKS, 1);
    if (!(defaultSampleFrequencyHz() > 0)) {
      throw new IllegalArgumentException(
          PROFILE_DEFAULT_SAMPLE_FREQUENCY.key() + ": expected a frequency > 0");
    }
    if (stuckMinCores() < 0) {
      throw new IllegalArgumentException(STUCK_MIN_CORES.key() + ": expected a number >= 0");
    }
    if (resolveSilenceMs() < windowSizeMs()) {
      throw new IllegalArgumentException(
          RESOLVE_SILENCE.key() + ": expected at least " + WINDOW_SIZE.key() + " ("
              + formatValue(WINDOW_SIZE) + ")");
    }
  }

  private void requirePositive(Option<Duration> option) {
    Duration d = get(option);
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(
          option.key() + ": expected a duration > 0, got " + formatValue(option));
    }
  }

  private void requireAtLeast(Option<Integer> option, int min) {
    if (get(option) < min) {
      throw new IllegalArgumentException(
          option.key() + ": expected an integer >= " + min + ", got " + get(option));
    }
  }

  private <T> String formatValue(Option<T> option) {
    return option.format(get(option));
  }

  private static Option<?> option(String key) {
    for (Option<?> o : ALL) {
      if (o.key().equals(key)) {
        return o;
      }
    }
    String hint = ALL.stream().map(Option::key).filter(k -> closeTo(k, key)).findFirst()
        .map(k -> " (did you mean " + k + "?)").orElse("");
    throw new IllegalArgumentException(
        "unknown option '" + key + "'" + hint + "; known options: "
            + ALL.stream().map(Option::key).toList());
  }

  private static boolean closeTo(String a, String b) {
    return levenshtein(a, b) <= 2;
  }

  private static int levenshtein(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  private static LinkedHashMap<String, Object> defaultValues() {
    LinkedHashMap<String, Object> values = new LinkedHashMap<>();
    for (Option<?> o : ALL) {
      values.put(o.key(), o.defaultValue());
    }
    return values;
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  // --- option factories -----------------------------------------------------------------

  static Duration parseDuration(String text) {
    Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException("not a duration: " + text);
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m", "min" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      case "d" -> Duration.ofDays(n);
      default -> throw new IllegalArgumentException("unit " + m.group(2));
    };
  }

  static String formatDuration(Duration d) {
    long ms = d.toMillis();
    if (ms == 0) {
      return "0s";
    }
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }

  private static Option<Duration> duration(String key, String defaultText, String description) {
    return new Option<>(key, Duration.class, parseDuration(defaultText),
        "a duration such as 10s, 500ms, 15m or 1h", DetectorOptions::parseDuration,
        DetectorOptions::formatDuration, description);
  }

  private static Option<Integer> integer(String key, int defaultValue, String description) {
    return new Option<>(key, Integer.class, defaultValue, "an integer such as " + defaultValue,
        Integer::valueOf, String::valueOf, description);
  }

  private static Option<Double> ratio(String key, double defaultValue, String description) {
    return new Option<>(key, Double.class, defaultValue,
        "a ratio between 0 and 1 such as " + defaultValue, text -> {
          double v = Double.parseDouble(text);
          if (!(v >= 0.0 && v <= 1.0)) {
            throw new IllegalArgumentException("out of range");
          }
          return v;
        }, String::valueOf, description);
  }

  private static Option<Double> number(
      String key, double defaultValue, String form, String description) {
    return new Option<>(key, Double.class, defaultValue, form, text -> {
      double v = Double.parseDouble(text);
      if (!Double.isFinite(v)) {
        throw new IllegalArgumentException("not finite");
      }
      return v;
    }, DetectorOptions::formatNumber, description);
  }

  private static String formatNumber(Double v) {
    return v == Math.rint(v) ? String.valueOf(v.longValue()) : String.valueOf(v);
  }

  // --- files ------------------------------------------------------------------------------

  private record Setting(String key, String value, int line) {}

  private static List<Setting> parseLines(String text, Path file) {
    List<Setting> out = new ArrayList<>();
    String[] lines = text.split("\r?\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#") || line.startsWith("!")) {
        continue;
      }
      int eq = firstSeparator(line);
      if (eq < 0) {
        throw new IllegalArgumentException(
            "options file " + file + " line " + (i + 1)
                + ": expected key=value or key: value, got '" + line + "'");
      }
      out.add(new Setting(line.substring(0, eq).strip(), line.substring(eq + 1).strip(), i + 1));
    }
    return out;
  }

  private static int firstSeparator(String line) {
    int eq = line.indexOf('=');
    int colon = line.indexOf(':');
    if (eq < 0) {
      return colon;
    }
    return colon < 0 ? eq : Math.min(eq, colon);
  }

  private static List<Setting> parseYaml(String text, Path file) {
    List<Setting> out = new ArrayList<>();
    Deque<String> path = new ArrayDeque<>();
    try (JsonParser p = new YAMLFactory().createParser(text)) {
      JsonToken first = p.nextToken();
      if (first == null) {
        return out; // empty file: defaults
      }
      if (first != JsonToken.START_OBJECT) {
        throw yamlError(file, p.currentTokenLocation(), "expected a map of option: value");
      }
      String field = null;
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        switch (t) {
          case FIELD_NAME -> field = p.currentName();
          case START_OBJECT -> {
            path.addLast(field);
            field = null;
          }
          case END_OBJECT -> {
            if (!path.isEmpty()) {
              path.removeLast();
            }
          }
          case START_ARRAY -> throw yamlError(file, p.currentTokenLocation(),
              join(path, field) + ": expected a single value, got a list");
          case VALUE_NULL -> throw yamlError(file, p.currentTokenLocation(),
              join(path, field) + ": expected a value, got nothing");
          default -> out.add(new Setting(join(path, field), p.getText(),
              p.currentTokenLocation().getLineNr()));
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("options file " + file + ": not valid YAML: "
          + e.getMessage().lines().findFirst().orElse(""), e);
    }
    return out;
  }

  private static String join(Deque<String> path, String field) {
    List<String> parts = new ArrayList<>(path);
    parts.add(Objects.requireNonNullElse(field, ""));
    return String.join(".", parts);
  }

  private static IllegalArgumentException yamlError(Path file, JsonLocation at, String message) {
    return new IllegalArgumentException(
        "options file " + file + " line " + at.getLineNr() + ": " + message);
  }
}
