package dev.stallwatch.incidents.notify;

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

/** An HTTP receiver on loopback that records what it is sent and answers as the test says. */
final class TestReceiver implements AutoCloseable {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** One request as received. */
  record Request(String method, String path, String contentType, String body) {
    JsonNode json() {
      try {
        return MAPPER.readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException("not JSON: " + body, e);
      }
    }
  }

  /** Decides the status of an answer; may block (a slow receiver). */
  interface Responder {
    int status(Request request, int index) throws InterruptedException;
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final List<Request> received = new ArrayList<>();
  private final List<Request> accepted = new ArrayList<>();
  private volatile Responder responder = (request, index) -> 202;

  private TestReceiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.setExecutor(executor);
    server.start();
  }

  static TestReceiver start() throws IOException {
    return new TestReceiver();
  }

  TestReceiver respond(Responder responder) {
    this.responder = responder;
    return this;
  }

  /** Answers these statuses to the first requests, then 202. */
  TestReceiver answerFirst(int... statuses) {
    return respond((request, index) -> index < statuses.length ? statuses[index] : 202);
  }

  URI url(String path) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
  }

  synchronized List<Request> received() {
    return List.copyOf(received);
  }

  /** The requests answered with a 2xx. */
  synchronized List<Request> accepted() {
    return List.copyOf(accepted);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      Request request = new Request(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
          exchange.getRequestHeaders().getFirst("Content-Type"), body);
      int index;
      synchronized (this) {
        index = received.size();
        received.add(request);
      }
      int status;
      try {
        status = responder.status(request, index);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        status = 503;
      }
      byte[] answer = (status >= 200 && status < 300 ? "{\"status\":\"success\"}" : "{\"status\":\"error\"}")
          .getBytes(StandardCharsets.UTF_8);
      if (status == 429) {
        exchange.getResponseHeaders().add("Retry-After", "0");
      }
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(status, answer.length);
      exchange.getResponseBody().write(answer);
      if (status >= 200 && status < 300) {
        synchronized (this) {
          accepted.add(request);
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
