package dev.stallwatch.incidents.notify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.Map;

/** JSON POST requests, as every receiver here takes them. */
final class JsonRequests {
  static final ObjectMapper MAPPER = new ObjectMapper();
  static final String USER_AGENT = "stallwatch-notifier";

  private JsonRequests() {}

  static HttpRequest post(URI url, JsonNode body, Map<String, String> headers) {
    byte[] bytes;
    try {
      bytes = MAPPER.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      // a tree of plain nodes always serializes; this would be a bug in the notifier
      throw new IllegalStateException("could not write a JSON body for " + url + ": " + e.getMessage(), e);
    }
    HttpRequest.Builder request = HttpRequest.newBuilder(url)
        .header("Content-Type", "application/json")
        .header("User-Agent", USER_AGENT)
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes));
    headers.forEach(request::header);
    return request.build();
  }
}
