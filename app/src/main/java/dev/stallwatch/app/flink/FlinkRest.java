package dev.stallwatch.app.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * The parts of Flink's REST API that deploy the job jar: upload, run (optionally from a
 * savepoint), status, stop with a savepoint, checkpoint statistics. Errors are
 * {@link IOException}s carrying Flink's own error text.
 */
public final class FlinkRest {
  /** States after which a job never runs again. */
  public static final Set<String> GLOBALLY_TERMINAL = Set.of("FAILED", "CANCELED", "FINISHED");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

  private final URI base;
  private final HttpClient http;

  public FlinkRest(URI base) {
    String text = base.toString();
    this.base = URI.create(text.endsWith("/") ? text : text + "/");
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  }

  public URI base() {
    return base;
  }

  /** The web UI page of a job. */
  public URI webUi(String jobId) {
    return URI.create(base + "#/job/running/" + jobId + "/overview");
  }

  /** Uploads a jar; returns its ID on the cluster. */
  public String uploadJar(Path jar) throws IOException, InterruptedException {
    String boundary = "stallwatch-" + UUID.randomUUID();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
        + jar.getFileName() + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
        .getBytes(StandardCharsets.UTF_8));
    body.write(Files.readAllBytes(jar));
    body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    JsonNode answer = send(HttpRequest.newBuilder(base.resolve("jars/upload"))
        .header("Content-Type", "multipart/form-data; boundary=" + boundary)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));
    String filename = answer.path("filename").asText("");
    if (filename.isEmpty()) {
        throw new IOException("Flink " + base + ": the upload answered without a file name: " + answer);
    }
    return Path.of(filename).getFileName().toString();
  }

  /** Runs an uploaded jar; returns the job ID. {@code savepoint} may be null. */
  public String runJar(String jarId, String entryClass, List<String> args, int parallelism, String savepoint,
      boolean allowNonRestoredState) throws IOException, InterruptedException {
    ObjectNode request = JSON.createObjectNode();
    request.put("entryClass", entryClass);
    request.set("programArgsList", JSON.valueToTree(args));
    if (parallelism > 0) {
      request.put("parallelism", parallelism);
    }
    if (savepoint != null) {
      request.put("savepointPath", savepoint);
      request.put("allowNonRestoredState", allowNonRestoredState);
    }
    JsonNode answer = send(HttpRequest.newBuilder(base.resolve("jars/" + jarId + "/run"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(request.toString())));
    return answer.path("jobid").asText();
  }

  public void deleteJar(String jarId) throws IOException, InterruptedException {
    send(HttpRequest.newBuilder(base.resolve("jars/" + jarId)).DELETE());
  }

  /** The job's state (RUNNING, RESTARTING, FAILED, ...). */
  public String jobState(String jobId) throws IOException, InterruptedException {
    return job(jobId).path("state").asText();
  }

  public JsonNode job(String jobId) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(base.resolve("jobs/" + jobId)).GET());
  }

  /** How many of the job's tasks are RUNNING, and how many it has. */
  public int[] runningTasks(String jobId) throws IOException, InterruptedException {
    JsonNode job = job(jobId);
    int running = 0;
    int total = 0;
    for (JsonNode vertex : job.path("vertices")) {
      int parallelism = vertex.path("parallelism").asInt();
      total += parallelism;
      running += vertex.path("tasks").path("RUNNING").asInt();
    }
    return new int[] {running, total};
  }

  /** Checkpoint statistics: counts, latest completed, summary. */
  public JsonNode checkpoints(String jobId) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(base.resolve("jobs/" + jobId + "/checkpoints")).GET());
  }

  public JsonNode checkpointConfig(String jobId) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(base.resolve("jobs/" + jobId + "/checkpoints/config")).GET());
  }

  /** The root cause Flink recorded for a failed job, or empty. */
  public String rootCause(String jobId) throws IOException, InterruptedException {
    JsonNode exceptions = send(HttpRequest.newBuilder(base.resolve("jobs/" + jobId + "/exceptions")).GET());
    JsonNode history = exceptions.path("exceptionHistory").path("entries");
    if (history.isArray() && !history.isEmpty()) {
      return rootCauseOf(history.get(0).path("stacktrace").asText(""));
    }
    return rootCauseOf(exceptions.path("root-exception").asText(""));
  }

  /**
   * Stops the job with a savepoint in {@code targetDirectory} (null: the cluster's
   * execution.checkpointing.savepoint-dir) and waits for it; returns the savepoint's path.
   */
  public String stopWithSavepoint(String jobId, String targetDirectory, Duration timeout)
      throws IOException, InterruptedException {
    ObjectNode request = JSON.createObjectNode();
    if (targetDirectory != null) {
      request.put("targetDirectory", targetDirectory);
    }
    request.put("drain", false);
    request.put("formatType", "CANONICAL");
    JsonNode trigger = send(HttpRequest.newBuilder(base.resolve("jobs/" + jobId + "/stop"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(request.toString())));
    String triggerId = trigger.path("request-id").asText();
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      JsonNode status = send(HttpRequest.newBuilder(
          base.resolve("jobs/" + jobId + "/savepoints/" + triggerId)).GET());
      if ("COMPLETED".equals(status.path("status").path("id").asText())) {
        JsonNode operation = status.path("operation");
        if (operation.has("failure-cause")) {
          throw new IOException("the savepoint of job " + jobId + " failed: "
              + firstLine(operation.path("failure-cause").path("stack-trace").asText(operation.toString())));
        }
        return operation.path("location").asText();
      }
      Thread.sleep(250); // polling Flink's asynchronous operation, as its own CLI does
    }
    throw new IOException("the savepoint of job " + jobId + " did not complete within " + timeout);
  }

  private JsonNode send(HttpRequest.Builder request) throws IOException, InterruptedException {
    HttpResponse<String> response = http.send(request.timeout(REQUEST_TIMEOUT).build(),
        HttpResponse.BodyHandlers.ofString());
    JsonNode body = response.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(response.body());
    if (response.statusCode() / 100 != 2) {
      StringBuilder errors = new StringBuilder();
      body.path("errors").forEach(e -> errors.append(e.asText()).append('\n'));
      throw new IOException("Flink " + request.build().uri() + ": HTTP " + response.statusCode() + ": "
          + rootCauseOf(errors.isEmpty() ? response.body() : errors.toString()));
    }
    return body;
  }

  /** The innermost "Caused by" of a Java stack trace in Flink's error text, else its first line. */
  static String rootCauseOf(String text) {
    String cause = null;
    for (String line : text.split("\n")) {
      String t = line.strip();
      if (t.startsWith("Caused by: ")) {
        cause = t.substring("Caused by: ".length());
      }
    }
    return cause != null ? cause : firstLine(text);
  }

  private static String firstLine(String text) {
    for (String line : text.split("\n")) {
      String t = line.strip();
      if (!t.isEmpty() && !t.startsWith("at ") && !t.startsWith("org.apache.flink.runtime.rest.handler.RestHandlerException")) {
        return t;
      }
    }
    return text.strip();
  }
}
