package dev.stallwatch.jobs.testing;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.flink.api.common.JobID;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.clusterframework.types.ResourceID;
import org.apache.flink.runtime.executiongraph.ExecutionAttemptID;
import org.apache.flink.runtime.metrics.groups.TaskManagerMetricGroup;
import org.apache.flink.runtime.metrics.groups.TaskMetricGroup;
import org.apache.flink.runtime.metrics.util.TestingMetricRegistry;

/**
 * A real task metric group for an operator under test, whose registry remembers every metric
 * registered in it with the variables of its group: what a reporter would be handed, key/value
 * groups included (their key becomes a variable such as {@code <detector_state>}).
 */
public final class CapturedMetrics {

  private record Registered(String name, Map<String, String> variables, Metric metric) {}

  private final List<Registered> registered = new CopyOnWriteArrayList<>();
  private final TaskMetricGroup task;

  public CapturedMetrics() {
    TestingMetricRegistry registry = TestingMetricRegistry.builder()
        .setRegisterConsumer((metric, name, group) ->
            registered.add(new Registered(name, new HashMap<>(group.getAllVariables()), metric)))
        .build();
    task = TaskManagerMetricGroup.createTaskManagerMetricGroup(registry, "localhost", ResourceID.generate())
        .addJob(new JobID(), "test-job")
        .addTask(ExecutionAttemptID.randomId(), "test-task");
  }

  /** For {@code MockEnvironmentBuilder.setMetricGroup}. */
  public TaskMetricGroup taskGroup() {
    return task;
  }

  /** The value of an operator's counter or numeric gauge {@code name}, registered directly in its group. */
  public long value(String name) {
    return valueOf(find(name, null, null));
  }

  /** The value of the gauge {@code name} in the operator's key/value group {@code key} = {@code value}. */
  public long value(String key, String value, String name) {
    return valueOf(find(name, key, value));
  }

  private Metric find(String name, String key, String value) {
    List<Metric> found = registered.stream()
        .filter(r -> r.name().equals(name) && r.variables().containsKey("<operator_name>"))
        .filter(r -> key == null || value.equals(r.variables().get("<" + key + ">")))
        .map(Registered::metric)
        .toList();
    if (found.size() != 1) {
      throw new AssertionError("expected one operator metric " + name
          + (key == null ? "" : " with " + key + "=" + value) + ", found " + found.size());
    }
    return found.get(0);
  }

  private static long valueOf(Metric metric) {
    if (metric instanceof Counter counter) {
      return counter.getCount();
    }
    return ((Number) ((Gauge<?>) metric).getValue()).longValue();
  }
}
