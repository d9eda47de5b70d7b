package dev.stallwatch.incidents.web;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Objects;

/**
 * The bearer token that guards {@code /api/**}. Only its SHA-256 digest is kept, and a presented
 * token is compared digest to digest with {@link MessageDigest#isEqual} (constant time), so neither
 * the token's characters nor its length leak through response times.
 */
public final class ApiToken {
  /** Shorter tokens can be guessed; 32 random bytes in base64 are 44 characters. */
  public static final int MIN_LENGTH = 16;
  public static final String HOW_TO_MAKE = "e.g. head -c 32 /dev/urandom | base64";
  private static final String SCHEME = "bearer ";

  private final byte[] digest;

  private ApiToken(byte[] digest) {
    this.digest = digest;
  }

  /**
   * @throws IllegalArgumentException for a token that is too short or has characters a header
   *     cannot carry (spaces, control characters, non-ASCII)
   */
  public static ApiToken of(String token) {
    Objects.requireNonNull(token, "token");
    if (token.length() < MIN_LENGTH) {
      throw new IllegalArgumentException("the API token has " + token.length() + " characters; use at least "
          + MIN_LENGTH + " random ones, " + HOW_TO_MAKE);
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        throw new IllegalArgumentException("the API token may hold only visible ASCII characters (no spaces); "
            + "character " + (i + 1) + " is not one");
      }
    }
    return new ApiToken(sha256(token));
  }

  /** Whether an {@code Authorization} header value carries this token; false for null or another scheme. */
  public boolean accepts(String authorization) {
    String presented = presentedToken(authorization);
    return presented != null && MessageDigest.isEqual(digest, sha256(presented));
  }

  /** The token of a {@code Bearer} header (scheme in any case), or null. */
  static String presentedToken(String authorization) {
    if (authorization == null || authorization.length() <= SCHEME.length()
        || !authorization.substring(0, SCHEME.length()).toLowerCase(Locale.ROOT).equals(SCHEME)) {
      return null;
    }
    String token = authorization.substring(SCHEME.length()).strip();
    return token.isEmpty() ? null : token;
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  @Override
  public String toString() {
    return "ApiToken(redacted)";
  }
}
