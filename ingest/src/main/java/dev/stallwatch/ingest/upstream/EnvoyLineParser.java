package dev.stallwatch.ingest.upstream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Objects;

/**
 * Reads Envoy access log lines written with a {@code json_format} (one object per line). A
 * request timed out upstream when its response flags hold {@code UT} ({@code %RESPONSE_FLAGS%})
 * or {@code UpstreamRequestTimeout} ({@code %RESPONSE_FLAGS_LONG%}).
 *
 * <p>The keys are those of the {@code json_format}, e.g.
 * {@code {"start_time": "%START_TIME%", "duration": "%DURATION%", "upstream_host": "%UPSTREAM_HOST%",
 * "response_flags": "%RESPONSE_FLAGS%"}}; other keys are ignored. A request counts in the window
 * in which it ended ({@code start_time + duration}), as nginx logs it when it ends. Without a
 * start time the line counts when it is read.
 */
public final class EnvoyLineParser implements UpstreamLineParser {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The keys of the Envoy {@code json_format}. {@code startTime} and {@code duration} may be absent from a line. */
  public record Keys(String upstreamHost, String responseFlags, String startTime, String duration) {
    public Keys {
      Objects.requireNonNull(upstreamHost, "upstreamHost");
      Objects.requireNonNull(responseFlags, "responseFlags");
      Objects.requireNonNull(startTime, "startTime");
      Objects.requireNonNull(duration, "duration");
    }

    public static Keys defaults() {
      return new Keys("upstream_host", "response_flags", "start_time", "duration");
    }
  }

  private final Keys keys;

  public EnvoyLineParser(Keys keys) {
    this.keys = Objects.requireNonNull(keys, "keys");
  }

  @Override
  public List<UpstreamHit> parse(String line) throws MalformedLineException {
    JsonNode entry;
    try {
      entry = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      throw new MalformedLineException("not JSON: " + e.getOriginalMessage());
    }
    if (entry == null || !entry.isObject()) {
      throw new MalformedLineException("not a JSON object");
    }
    if (!entry.has(keys.upstreamHost) || !entry.has(keys.responseFlags)) {
      throw new MalformedLineException("no \"" + keys.upstreamHost + "\" or no \"" + keys.responseFlags + "\"");
    }
    String host = text(entry.get(keys.upstreamHost));
    if (host == null || host.isEmpty() || host.equals("-")) {
      return List.of(); // no upstream was picked (no healthy host, local reply)
    }
    String flags = text(entry.get(keys.responseFlags));
    return List.of(new UpstreamHit(host, endTime(entry), timedOut(flags)));
  }

  static boolean timedOut(String responseFlags) {
    if (responseFlags == null) {
      return false;
    }
    for (String flag : responseFlags.split(",")) {
      String f = flag.strip();
      if (f.equals("UT") || f.equals("UpstreamRequestTimeout")) {
        return true;
      }
    }
    return false;
  }

  private long endTime(JsonNode entry) throws MalformedLineException {
    String start = text(entry.get(keys.startTime));
    if (start == null || start.equals("-")) {
      return UpstreamHit.UNKNOWN_TIME;
    }
    long startMs;
    try {
      startMs = Instant.parse(start).toEpochMilli();
    } catch (DateTimeParseException e) {
      throw new MalformedLineException("\"" + keys.startTime + "\" is not an ISO-8601 time: " + start);
    }
    JsonNode duration = entry.get(keys.duration);
    if (duration == null || duration.isNull()) {
      return startMs;
    }
    if (duration.canConvertToLong()) {
      return startMs + duration.asLong();
    }
    String text = duration.asText();
    if (text.equals("-")) {
      return startMs;
    }
    try {
      return startMs + Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new MalformedLineException("\"" + keys.duration + "\" is not milliseconds: " + text);
    }
  }

  private static String text(JsonNode node) {
    return node == null || node.isNull() ? null : node.asText();
  }
}
