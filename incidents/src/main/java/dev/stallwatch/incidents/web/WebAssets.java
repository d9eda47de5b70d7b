package dev.stallwatch.incidents.web;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The page shells, scripts and styles from the jar ({@code resources/web/}), read once at start.
 * Only the files named here are served, so no request path can reach another resource. The
 * shells hold no incident data: their scripts fetch it from the API with the bearer token.
 */
final class WebAssets {
  static final String LIST_PAGE = "incidents.html";
  static final String INCIDENT_PAGE = "incident.html";
  /** Served under {@code /assets/}. */
  static final List<String> ASSETS =
      List.of("stallwatch.css", "api.js", "dom.js", "list.js", "incident.js", "flamegraph.js");

  private static final String FOLDER = "/web/";

  /** One file and its content type. */
  record Asset(String contentType, byte[] content) {}

  private final Map<String, Asset> assets = new LinkedHashMap<>();

  WebAssets() {
    for (String name : List.of(LIST_PAGE, INCIDENT_PAGE)) {
      assets.put(name, load(name));
    }
    for (String name : ASSETS) {
      assets.put(name, load(name));
    }
  }

  Asset page(String name) {
    Asset page = assets.get(name);
    if (page == null) {
      throw new IllegalArgumentException("no page " + name);
    }
    return page;
  }

  Optional<Asset> asset(String name) {
    return ASSETS.contains(name) ? Optional.of(assets.get(name)) : Optional.empty();
  }

  private static Asset load(String name) {
    try (InputStream in = WebAssets.class.getResourceAsStream(FOLDER + name)) {
      if (in == null) {
        throw new IllegalStateException("the web page file " + FOLDER + name + " is missing from the jar");
      }
      return new Asset(contentType(name), in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException("could not read " + FOLDER + name + " from the jar", e);
    }
  }

  private static String contentType(String name) {
    if (name.endsWith(".html")) {
      return "text/html";
    }
    if (name.endsWith(".css")) {
      return "text/css";
    }
    if (name.endsWith(".js")) {
      return "text/javascript";
    }
    throw new IllegalArgumentException("no content type for " + name);
  }
}
