package dev.stallwatch.ingest.publish;

import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import dev.stallwatch.schemas.v1.WindowManifest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One event in the spool: which topic it goes to, its key (the container ID) and its protobuf
 * bytes. The topic is stored as a kind, not a name, so a spool written before a topic was renamed
 * is sent to the new name.
 *
 * <p>Body layout: {@code kind (1 byte) | key length (2 bytes) | key (UTF-8) | value}.
 */
record SpoolRecord(Kind kind, String key, byte[] value) {
  enum Kind {
    PROFILE(1), UPSTREAM(2), TRAFFIC(3), MANIFEST(4);

    final byte code;

    Kind(int code) {
      this.code = (byte) code;
    }

    static Kind of(byte code) throws IOException {
      for (Kind kind : values()) {
        if (kind.code == code) {
          return kind;
        }
      }
      throw new IOException("unknown record kind " + code);
    }
  }

  private static final int MAX_KEY_BYTES = 0xFFFF;

  SpoolRecord {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
  }

  static SpoolRecord of(ProfileWindow window) {
    return new SpoolRecord(Kind.PROFILE, window.getContainerId(), window.toByteArray());
  }

  static SpoolRecord of(UpstreamWindow window) {
    return new SpoolRecord(Kind.UPSTREAM, window.getContainerId(), window.toByteArray());
  }

  static SpoolRecord of(TrafficEvent event) {
    return new SpoolRecord(Kind.TRAFFIC, event.getContainerId(), event.toByteArray());
  }

  static SpoolRecord of(WindowManifest manifest) {
    return new SpoolRecord(Kind.MANIFEST, manifest.getContainerId(), manifest.toByteArray());
  }

  byte[] body() {
    byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
    if (keyBytes.length > MAX_KEY_BYTES) {
      throw new IllegalArgumentException("key longer than " + MAX_KEY_BYTES + " bytes: " + key.substring(0, 64) + "...");
    }
    ByteBuffer body = ByteBuffer.allocate(1 + 2 + keyBytes.length + value.length);
    body.put(kind.code).putShort((short) keyBytes.length).put(keyBytes).put(value);
    return body.array();
  }

  static SpoolRecord fromBody(byte[] body) throws IOException {
    if (body.length < 3) {
      throw new IOException("record body of " + body.length + " bytes is too short");
    }
    ByteBuffer buffer = ByteBuffer.wrap(body);
    Kind kind = Kind.of(buffer.get());
    int keyLength = Short.toUnsignedInt(buffer.getShort());
    if (keyLength > buffer.remaining()) {
      throw new IOException("key length " + keyLength + " runs past the record");
    }
    String key = new String(body, 3, keyLength, StandardCharsets.UTF_8);
    byte[] value = new byte[body.length - 3 - keyLength];
    buffer.position(3 + keyLength);
    buffer.get(value);
    return new SpoolRecord(kind, key, value);
  }
}
