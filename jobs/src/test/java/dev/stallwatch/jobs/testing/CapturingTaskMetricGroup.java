package dev.stallwatch.jobs.testing;

import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.metrics.groups.InternalOperatorMetricGroup;
import org.apache.flink.runtime.metrics.groups.UnregisteredMetricGroups;
import org.apache.flink.runtime.metrics.util.InterceptingOperatorMetricGroup;

/** Hands an operator under test a metric group that remembers what was registered on it. */
public final class CapturingTaskMetricGroup extends UnregisteredMetricGroups.UnregisteredTaskMetricGroup {

  private final InterceptingOperatorMetricGroup operator = new InterceptingOperatorMetricGroup();

  @Override
  public InternalOperatorMetricGroup getOrAddOperator(
      OperatorID operatorID, String name, Map<String, String> additionalVariables) {
    return operator;
  }

  public long count(String name) {
    return ((Counter) operator.get(name)).getCount();
  }
}
