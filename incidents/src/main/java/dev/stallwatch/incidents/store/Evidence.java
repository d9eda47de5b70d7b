package dev.stallwatch.incidents.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.KnownIssue;
import dev.stallwatch.schemas.alerts.v1.WeightedStack;
import java.util.ArrayList;
import java.util.List;

/**
 * Why an incident is believed: the top stacks after the drain with their weights, the runtime
 * version and the known issues of the signature. Stored as the {@code evidence} JSONB column with
 * the field names of the alert's JSON form.
 *
 * @param runtimeVersion null when the collector could not read it
 */
public record Evidence(List<Stack> topStacks, String runtimeVersion, List<Issue> knownIssues) {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /**
   * One folded stack of the evidence.
   *
   * @param folded {@code comm;root;...;leaf}
   * @param weight CPU nanoseconds (or samples) over the stuck windows
   * @param share of all sample weight over the stuck windows
   */
  public record Stack(String folded, long weight, double share) {}

  /** A known runtime bug the signature points at; versionAffected when the runtime is a listed version. */
  public record Issue(String id, String url, String title, String fixedIn, boolean versionAffected) {}

  public Evidence {
    topStacks = List.copyOf(topStacks);
    knownIssues = List.copyOf(knownIssues);
  }

  public static Evidence of(DeadlockAlert alert) {
    List<Stack> stacks = new ArrayList<>();
    for (WeightedStack s : alert.getTopStacks()) {
      stacks.add(new Stack(s.getFolded(), s.getWeight(), s.getShare()));
    }
    List<Issue> issues = new ArrayList<>();
    for (KnownIssue i : alert.getKnownIssues()) {
      issues.add(new Issue(i.getId(), i.getUrl(), i.getTitle(), i.getFixedIn(), i.getVersionAffected()));
    }
    return new Evidence(stacks, alert.getRuntimeVersion(), issues);
  }

  public String toJson() {
    ObjectNode json = MAPPER.createObjectNode();
    ArrayNode stacks = json.putArray("topStacks");
    for (Stack s : topStacks) {
      stacks.addObject().put("folded", s.folded()).put("weight", s.weight()).put("share", s.share());
    }
    json.put("runtimeVersion", runtimeVersion);
    ArrayNode issues = json.putArray("knownIssues");
    for (Issue i : knownIssues) {
      issues.addObject().put("id", i.id()).put("url", i.url()).put("title", i.title()).put("fixedIn", i.fixedIn())
          .put("versionAffected", i.versionAffected());
    }
    return json.toString();
  }

  public static Evidence fromJson(String text) {
    JsonNode json;
    try {
      json = MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("evidence is not JSON: " + e.getOriginalMessage(), e);
    }
    List<Stack> stacks = new ArrayList<>();
    for (JsonNode s : json.path("topStacks")) {
      stacks.add(new Stack(s.path("folded").asText(), s.path("weight").asLong(), s.path("share").asDouble()));
    }
    List<Issue> issues = new ArrayList<>();
    for (JsonNode i : json.path("knownIssues")) {
      issues.add(new Issue(i.path("id").asText(), i.path("url").asText(), i.path("title").asText(),
          textOrNull(i.path("fixedIn")), i.path("versionAffected").asBoolean()));
    }
    return new Evidence(stacks, textOrNull(json.path("runtimeVersion")), issues);
  }

  private static String textOrNull(JsonNode node) {
    return node.isTextual() ? node.asText() : null;
  }
}
