package dev.stallwatch.ingest.collector;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.stallwatch.ingest.publish.EventSink;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;

/**
 * {@code --dry-run} output: each event as one line of protobuf's JSON mapping (field names in
 * lowerCamelCase, 64-bit integers as strings), written out at once so that the output can be
 * watched or piped line by line. Does not close the stream it writes to.
 */
public final class JsonLinesSink implements EventSink {
  private final JsonFormat.Printer printer = JsonFormat.printer().omittingInsignificantWhitespace();
  private final Writer out;

  public JsonLinesSink(OutputStream out) {
    this.out = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 1 << 16);
  }

  @Override
  public void publish(ProfileWindow window) {
    write(window);
  }

  @Override
  public void publish(UpstreamWindow window) {
    write(window);
  }

  @Override
  public void publish(TrafficEvent event) {
    write(event);
  }

  private synchronized void write(MessageOrBuilder message) {
    try {
      out.write(printer.print(message));
      out.write('\n');
      out.flush();
    } catch (InvalidProtocolBufferException e) {
      // only Any fields with unknown types fail to print; the collector's messages have none
      throw new IllegalStateException("cannot print " + message.getClass().getSimpleName() + " as JSON", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the dry-run output: " + e.getMessage(), e);
    }
  }

  @Override
  public synchronized void flush() {
    try {
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the dry-run output: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    flush();
  }
}
