package dev.stallwatch.jobs.rules;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The signatures the detector looks for: data, loaded from a YAML or JSON rules file.
 *
 * <pre>
 * version: 1                       # optional; 1 is the only format
 * rules:
 *   - id: go-timer-livelock        # required, unique; goes into alerts and incident IDs
 *     title: "..."                 # required
 *     frames: [runtime.osyield, runtime.morestack]   # required; all in one stack
 *     minShare: 0.5                # optional, default 0.5; in (0, 1]
 *     references:                  # optional
 *       - {id: "golang/go#38023", url: "https://...", title: "..."}
 *     affectedVersions: [go1.14, go1.14.1]   # optional; exact runtime version strings
 *     fixedIn: go1.14.2            # optional
 *     remediation: "..."           # optional
 * </pre>
 *
 * <p>The bundled rules are the resource {@value #DEFAULT_RESOURCE} next to this class.
 * Every problem in a file is an {@link IllegalArgumentException} whose message starts with
 * {@code rules file <name>:} and says what to fix.
 */
public final class SignatureRules implements Serializable {

  public static final String DEFAULT_RESOURCE = "default-rules.yaml";
  public static final double DEFAULT_MIN_SHARE = 0.5;

  private static final Set<String> TOP_FIELDS = Set.of("version", "rules");
  private static final Set<String> RULE_FIELDS =
      Set.of(
          "id",
          "title",
          "frames",
          "minShare",
          "references",
          "affectedVersions",
          "fixedIn",
          "remediation");
  private static final Set<String> REFERENCE_FIELDS = Set.of("id", "url", "title");

  private final List<SignatureRule> rules;

  private SignatureRules(List<SignatureRule> rules) {
    this.rules = List.copyOf(rules);
  }

  public static SignatureRules of(List<SignatureRule> rules) {
    Set<String> ids = new HashSet<>();
    for (SignatureRule rule : rules) {
      if (!ids.add(rule.id())) {
        throw new IllegalArgumentException("duplicate rule id " + rule.id());
      }
    }
    return new SignatureRules(rules);
  }

  /** The rules bundled with Stallwatch ({@value #DEFAULT_RESOURCE}). */
  public static SignatureRules defaults() {
    try (InputStream in = SignatureRules.class.getResourceAsStream(DEFAULT_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("resource " + DEFAULT_RESOURCE + " is missing");
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), DEFAULT_RESOURCE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads a rules file: {@code .json} as JSON, anything else as YAML. */
  public static SignatureRules load(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "rules file " + file + ": cannot read it (" + e + ")", e);
    }
    return parse(text, file.toString());
  }

  /**
   * Parses rules text. {@code name} is used in error messages; a name ending in {@code .json}
   * is read as JSON, anything else as YAML (which also reads JSON).
   */
  public static SignatureRules parse(String text, String name) {
    ObjectMapper mapper =
        name.toLowerCase(Locale.ROOT).endsWith(".json")
            ? new ObjectMapper()
            : new ObjectMapper(new YAMLFactory());
    mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    JsonNode root;
    try {
      root = mapper.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "rules file " + name + ": not valid " + formatOf(name) + ": "
              + e.getOriginalMessage() + locationOf(e),
          e);
    }
    try {
      return fromTree(root);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("rules file " + name + ": " + e.getMessage(), e);
    }
  }

  public List<SignatureRule> rules() {
    return rules;
  }

  public Optional<SignatureRule> byId(String id) {
    return rules.stream().filter(r -> r.id().equals(id)).findFirst();
  }

  public boolean isEmpty() {
    return rules.isEmpty();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SignatureRules other && rules.equals(other.rules);
  }

  @Override
  public int hashCode() {
    return rules.hashCode();
  }

  @Override
  public String toString() {
    return "SignatureRules" + rules.stream().map(SignatureRule::id).toList();
  }

  private static SignatureRules fromTree(JsonNode root) {
    if (root == null || root.isMissingNode() || root.isNull()) {
      throw new IllegalArgumentException("the file is empty; expected a map with 'rules:'");
    }
    if (!root.isObject()) {
      throw new IllegalArgumentException(
          "expected a map with 'rules:' at the top, got " + describe(root));
    }
    checkFields(root, TOP_FIELDS, "top level");
    JsonNode version = root.get("version");
    if (version != null && !(version.canConvertToInt() && version.asInt() == 1)) {
      throw new IllegalArgumentException(
          "version: only format version 1 is known, got " + version.asText());
    }
    JsonNode list = root.get("rules");
    if (list == null || !list.isArray() || list.isEmpty()) {
      throw new IllegalArgumentException("'rules' must be a non-empty list of rules");
    }
    List<SignatureRule> rules = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode node = list.get(i);
      String where = "rule #" + (i + 1);
      if (node.isObject() && node.get("id") != null && node.get("id").isTextual()) {
        where += " (" + node.get("id").asText() + ")";
      }
      try {
        SignatureRule rule = ruleFrom(node);
        if (!ids.add(rule.id())) {
          throw new IllegalArgumentException(
              "id " + rule.id() + " is used by an earlier rule; ids must be unique");
        }
        rules.add(rule);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": " + stripRulePrefix(e.getMessage()), e);
      }
    }
    return new SignatureRules(rules);
  }

  private static SignatureRule ruleFrom(JsonNode node) {
    if (!node.isObject()) {
      throw new IllegalArgumentException("expected a map, got " + describe(node));
    }
    checkFields(node, RULE_FIELDS, "rule");
    String id = requiredText(node, "id");
    if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new IllegalArgumentException(
          "id must be letters, digits, '.', '_' or '-' (e.g. go-timer-livelock), got '"
              + id + "'");
    }
    String title = requiredText(node, "title");
    List<String> frames = textList(node, "frames");
    if (frames.isEmpty()) {
      throw new IllegalArgumentException(
          "frames must be a non-empty list of frame names, e.g. [runtime.osyield]");
    }
    for (String frame : frames) {
      if (frame.isBlank()) {
        throw new IllegalArgumentException("frames must not contain empty names");
      }
    }
    double minShare = DEFAULT_MIN_SHARE;
    JsonNode share = node.get("minShare");
    if (share != null) {
      if (!share.isNumber() || !(share.asDouble() > 0.0 && share.asDouble() <= 1.0)) {
        throw new IllegalArgumentException(
            "minShare must be a number in (0, 1], e.g. 0.5, got " + share);
      }
      minShare = share.asDouble();
    }
    List<IssueReference> references = new ArrayList<>();
    JsonNode refs = node.get("references");
    if (refs != null && !refs.isNull()) {
      if (!refs.isArray()) {
        throw new IllegalArgumentException(
            "references must be a list of {id, url, title}, got " + describe(refs));
      }
      for (int i = 0; i < refs.size(); i++) {
        JsonNode ref = refs.get(i);
        if (!ref.isObject()) {
          throw new IllegalArgumentException(
              "references[" + i + "] must be a map with id, url and title");
        }
        try {
          checkFields(ref, REFERENCE_FIELDS, "reference");
          references.add(
              new IssueReference(
                  requiredText(ref, "id"),
                  requiredText(ref, "url"),
                  requiredText(ref, "title")));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "references[" + i + "]: " + e.getMessage(), e);
        }
      }
    }
    List<String> affected = textList(node, "affectedVersions");
    return new SignatureRule(
        id,
        title,
        frames,
        minShare,
        references,
        affected,
        optionalText(node, "fixedIn"),
        optionalText(node, "remediation"));
  }

  private static void checkFields(JsonNode node, Set<String> known, String what) {
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!known.contains(name)) {
        throw new IllegalArgumentException(
            "unknown field '" + name + "' in " + what + "; known fields: "
                + known.stream().sorted().toList());
      }
    }
  }

  private static String requiredText(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      throw new IllegalArgumentException(field + " is missing");
    }
    if (!value.isValueNode() || value.asText().isBlank()) {
      throw new IllegalArgumentException(
          field + " must be a non-empty string, got " + describe(value));
    }
    return value.asText();
  }

  private static String optionalText(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isValueNode()) {
      throw new IllegalArgumentException(field + " must be a string, got " + describe(value));
    }
    return value.asText().strip();
  }

  private static List<String> textList(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return List.of();
    }
    if (!value.isArray()) {
      throw new IllegalArgumentException(
          field + " must be a list of strings, got " + describe(value));
    }
    List<String> out = new ArrayList<>();
    for (JsonNode item : value) {
      if (!item.isValueNode() || item.isNull()) {
        throw new IllegalArgumentException(
            field + " must be a list of strings, got an item " + describe(item));
      }
      out.add(item.asText());
    }
    return out;
  }

  private static String describe(JsonNode node) {
    JsonNodeType type = node.getNodeType();
    return switch (type) {
      case ARRAY -> "a list";
      case OBJECT -> "a map";
      case NULL -> "nothing";
      default -> "'" + node.asText() + "'";
    };
  }

  private static String stripRulePrefix(String message) {
    // SignatureRule's own checks already say "rule <id>: ..."; the caller adds the position
    return message.startsWith("rule ") && message.contains(": ")
        ? message.substring(message.indexOf(": ") + 2)
        : message;
  }

  private static String formatOf(String name) {
    return name.toLowerCase(Locale.ROOT).endsWith(".json") ? "JSON" : "YAML";
  }

  private static String locationOf(JsonProcessingException e) {
    return e.getLocation() == null
        ? ""
        : " (line " + e.getLocation().getLineNr() + ", column "
            + e.getLocation().getColumnNr() + ")";
  }
}
