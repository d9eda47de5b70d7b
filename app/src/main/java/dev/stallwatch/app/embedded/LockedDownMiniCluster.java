package dev.stallwatch.app.embedded;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Collectors;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.blob.TransientBlobService;
import org.apache.flink.runtime.dispatcher.DispatcherGateway;
import org.apache.flink.runtime.dispatcher.DispatcherRestEndpoint;
import org.apache.flink.runtime.dispatcher.SessionDispatcherFactory;
import org.apache.flink.runtime.dispatcher.runner.DefaultDispatcherRunnerFactory;
import org.apache.flink.runtime.entrypoint.component.DefaultDispatcherResourceManagerComponentFactory;
import org.apache.flink.runtime.entrypoint.component.DispatcherResourceManagerComponentFactory;
import org.apache.flink.runtime.leaderelection.LeaderElection;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.resourcemanager.ResourceManagerGateway;
import org.apache.flink.runtime.resourcemanager.StandaloneResourceManagerFactory;
import org.apache.flink.runtime.rest.HttpMethodWrapper;
import org.apache.flink.runtime.rest.RestEndpointFactory;
import org.apache.flink.runtime.rest.handler.RestHandlerConfiguration;
import org.apache.flink.runtime.rest.handler.RestHandlerSpecification;
import org.apache.flink.runtime.rest.handler.legacy.ExecutionGraphCache;
import org.apache.flink.runtime.rest.handler.legacy.metrics.MetricFetcher;
import org.apache.flink.runtime.rpc.FatalErrorHandler;
import org.apache.flink.runtime.webmonitor.WebMonitorEndpoint;
import org.apache.flink.runtime.webmonitor.retriever.LeaderGatewayRetriever;
import org.apache.flink.shaded.netty4.io.netty.channel.ChannelInboundHandler;

/**
 * A MiniCluster whose REST API only reads. Flink's REST API has no authentication, and
 * {@code web.cancel.enable: false} only hides the button: {@code PATCH /jobs/ID?mode=cancel} still
 * cancels. Nothing here needs REST to change anything (the job is submitted and cancelled in
 * process), so every handler but the GETs is left out, and so are the GETs that stop or cancel.
 */
final class LockedDownMiniCluster extends MiniCluster {
  LockedDownMiniCluster(MiniClusterConfiguration configuration) {
    super(configuration);
  }

  @Override
  protected DispatcherResourceManagerComponentFactory createDispatcherResourceManagerComponentFactory() {
    return new DefaultDispatcherResourceManagerComponentFactory(
        DefaultDispatcherRunnerFactory.createSessionRunner(SessionDispatcherFactory.INSTANCE),
        StandaloneResourceManagerFactory.getInstance(),
        new ReadOnlyRestEndpointFactory());
  }

  /** Whether a REST handler only reads: a GET that neither cancels nor stops (as the old yarn-cancel GET did). */
  static boolean readOnly(RestHandlerSpecification spec) {
    String url = spec.getTargetRestEndpointURL().toLowerCase(Locale.ROOT);
    return spec.getHttpMethod() == HttpMethodWrapper.GET && !url.contains("cancel") && !url.contains("stop");
  }

  private static final class ReadOnlyRestEndpointFactory implements RestEndpointFactory<DispatcherGateway> {
    @Override
    public WebMonitorEndpoint<DispatcherGateway> createRestEndpoint(
        Configuration configuration, LeaderGatewayRetriever<DispatcherGateway> dispatcher,
        LeaderGatewayRetriever<ResourceManagerGateway> resourceManager, TransientBlobService blobs,
        ScheduledExecutorService executor, MetricFetcher metricFetcher, LeaderElection leaderElection,
        FatalErrorHandler fatalErrorHandler) throws Exception {
      RestHandlerConfiguration rest = RestHandlerConfiguration.fromConfiguration(configuration);
      return new ReadOnlyRestEndpoint(dispatcher, configuration, rest, resourceManager, blobs, executor, metricFetcher,
          leaderElection, RestEndpointFactory.createExecutionGraphCache(rest), fatalErrorHandler);
    }
  }

  private static final class ReadOnlyRestEndpoint extends DispatcherRestEndpoint {
    ReadOnlyRestEndpoint(LeaderGatewayRetriever<DispatcherGateway> dispatcher, Configuration configuration,
                         RestHandlerConfiguration rest, LeaderGatewayRetriever<ResourceManagerGateway> resourceManager,
                         TransientBlobService blobs, ScheduledExecutorService executor, MetricFetcher metricFetcher,
                         LeaderElection leaderElection, ExecutionGraphCache cache,
                         FatalErrorHandler fatalErrorHandler) throws Exception {
      super(dispatcher, configuration, rest, resourceManager, blobs, executor, metricFetcher, leaderElection, cache,
          fatalErrorHandler);
    }

    @Override
    protected List<Tuple2<RestHandlerSpecification, ChannelInboundHandler>> initializeHandlers(
        CompletableFuture<String> localAddressFuture) {
      // a mutable list: the endpoint sorts and extends it
      return super.initializeHandlers(localAddressFuture).stream().filter(handler -> readOnly(handler.f0))
          .collect(Collectors.toCollection(ArrayList::new));
    }

    @Override
    protected Collection<Tuple2<RestHandlerSpecification, ChannelInboundHandler>> initializeWebSubmissionHandlers(
        CompletableFuture<String> localAddressFuture) {
      return new ArrayList<>();
    }
  }
}
