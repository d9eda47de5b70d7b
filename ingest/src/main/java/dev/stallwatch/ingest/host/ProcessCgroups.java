package dev.stallwatch.ingest.host;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The content of {@code /proc/PID/cgroup}: one {@code hierarchy-id:controllers:path} line per
 * hierarchy; cgroup v2 has the single line {@code 0::/path}, hybrid hosts have both kinds.
 */
record ProcessCgroups(List<Membership> memberships) {

  /** One line: {@code controllers} is empty for the unified (v2) hierarchy. */
  record Membership(int hierarchyId, List<String> controllers, String path) {
    boolean isUnified() {
      return hierarchyId == 0 && controllers.isEmpty();
    }
  }

  ProcessCgroups {
    memberships = List.copyOf(memberships);
  }

  /** Lines that do not have three fields are skipped: the kernel writes none, fixtures might. */
  static ProcessCgroups parse(String content) {
    List<Membership> memberships = new ArrayList<>();
    for (String line : content.split("\n")) {
      // the path is last and may itself contain ':'
      String[] fields = line.split(":", 3);
      if (fields.length < 3 || fields[2].isEmpty()) {
        continue;
      }
      int hierarchyId;
      try {
        hierarchyId = Integer.parseInt(fields[0]);
      } catch (NumberFormatException e) {
        continue;
      }
      List<String> controllers = fields[1].isEmpty() ? List.of() : List.of(fields[1].split(","));
      memberships.add(new Membership(hierarchyId, controllers, fields[2]));
    }
    return new ProcessCgroups(memberships);
  }

  Optional<String> unifiedPath() {
    return memberships.stream().filter(Membership::isUnified).map(Membership::path).findFirst();
  }

  /** The path in the v1 hierarchy that has {@code controller} ({@code cpuacct}, {@code name=systemd}, ...). */
  Optional<String> pathOf(String controller) {
    return memberships.stream()
        .filter(m -> m.controllers().contains(controller))
        .map(Membership::path)
        .findFirst();
  }

  /**
   * The path whose cgroup counts this process's CPU: the unified path on v2; on v1 the
   * {@code cpuacct} path, falling back to {@code cpu}, then the unified or systemd path (whose
   * CPU then cannot be read, which the reader reports).
   */
  Optional<String> accountingPath(CgroupVersion version) {
    if (version == CgroupVersion.V2) {
      return unifiedPath().or(() -> pathOf("name=systemd"));
    }
    return pathOf("cpuacct")
        .or(() -> pathOf("cpu"))
        .or(this::unifiedPath)
        .or(() -> pathOf("name=systemd"));
  }

  List<String> paths() {
    return memberships.stream().map(Membership::path).toList();
  }
}
