package dev.stallwatch.ingest.upstream;

import java.util.List;

/** Turns one access log line into the upstream requests it records. */
public interface UpstreamLineParser {
  /**
   * The requests the line records, one per upstream attempt; empty when the request went to no
   * upstream (served locally, no healthy host).
   */
  List<UpstreamHit> parse(String line) throws MalformedLineException;
}
