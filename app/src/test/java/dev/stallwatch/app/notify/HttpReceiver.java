package dev.stallwatch.app.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** A receiver on loopback (JDK HttpServer) that records requests and answers as the test says. */
final class HttpReceiver implements AutoCloseable {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** Decides the status of the answer to request number {@code index}; may block. */
  interface Responder {
    int status(JsonNode body, int index) throws InterruptedException;
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final List<JsonNode> received = new ArrayList<>();
  private final List<JsonNode> accepted = new ArrayList<>();
  private volatile Responder responder = (body, index) -> 202;

  HttpReceiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.setExecutor(executor);
    server.start();
  }

  HttpReceiver respond(Responder responder) {
    this.responder = responder;
    return this;
  }

  URI url(String path) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
  }

  synchronized List<JsonNode> received() {
    return List.copyOf(received);
  }

  /** Bodies of the requests answered with a 2xx. */
  synchronized List<JsonNode> accepted() {
    return List.copyOf(accepted);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      JsonNode body;
      try {
        body = MAPPER.readTree(exchange.getRequestBody().readAllBytes());
      } catch (IOException e) {
        throw new UncheckedIOException("a receiver here only takes JSON", e);
      }
      int index;
      synchronized (this) {
        index = received.size();
        received.add(body);
      }
      int status;
      try {
        status = responder.status(body, index);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        status = 503;
      }
      byte[] answer = "{}".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(status, answer.length);
      exchange.getResponseBody().write(answer);
      if (status >= 200 && status < 300) {
        synchronized (this) {
          accepted.add(body);
        }
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
