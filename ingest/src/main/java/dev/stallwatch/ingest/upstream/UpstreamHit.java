package dev.stallwatch.ingest.upstream;

/**
 * One request to one upstream address, as an access log line tells it. {@code timestampMs} is
 * {@link #UNKNOWN_TIME} when the line carries no time (the time it is read is used instead).
 */
public record UpstreamHit(String address, long timestampMs, boolean timeout) {
  public static final long UNKNOWN_TIME = Long.MIN_VALUE;
}
