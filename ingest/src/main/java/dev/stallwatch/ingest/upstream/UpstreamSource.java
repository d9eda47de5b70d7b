package dev.stallwatch.ingest.upstream;

import java.io.Closeable;
import java.io.IOException;

/** A source of upstream counts that the collector polls on a schedule. */
public interface UpstreamSource extends Closeable {
  /** The name its windows carry, e.g. {@code nginx:/var/log/nginx/access.log}. */
  String name();

  /** Reads what is new and hands the counts to the aggregator. */
  void poll() throws IOException;
}
