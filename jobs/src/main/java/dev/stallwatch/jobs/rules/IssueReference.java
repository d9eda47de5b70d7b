package dev.stallwatch.jobs.rules;

import java.io.Serializable;
import java.util.Objects;

/** A public bug report or advisory that a signature points to, e.g. golang/go#38023. */
public record IssueReference(String id, String url, String title) implements Serializable {

  public IssueReference {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(title, "title");
  }
}
