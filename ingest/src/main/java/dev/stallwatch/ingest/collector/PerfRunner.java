package dev.stallwatch.ingest.collector;

import dev.stallwatch.ingest.perf.FrameTable;
import dev.stallwatch.ingest.perf.PerfSample;
import dev.stallwatch.ingest.perf.PerfScriptReader;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs perf for as long as the collector runs and hands every sample to a {@link Listener}, on
 * one thread, in perf's order.
 *
 * <p>{@link #start()} returns once perf has delivered its first sample. If perf cannot start or
 * ends before its first sample, it throws {@link PerfUnavailableException} with one line that
 * says why (missing, not permitted, ...). Once perf has worked, a perf that ends is restarted
 * after a pause that doubles up to {@link Builder#maxBackoff} and is counted.
 *
 * <p>{@link #close()} stops perf record with SIGTERM, lets perf script hand over what it still
 * holds, and kills whatever remains with its children; a shutdown hook does the same when the JVM
 * exits. When the JVM is killed outright, perf record sees its control pipe (stdin) close and
 * exits, and perf script follows at the end of its input.
 */
public final class PerfRunner implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PerfRunner.class);
  public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(15);
  public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofSeconds(1);
  public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(30);
  // a perf that ran this long was healthy: its next failure starts the backoff afresh
  private static final Duration HEALTHY_RUN = Duration.ofSeconds(60);

  /** Receives perf's output on the runner thread. */
  public interface Listener {
    /** One sample; the object is reused for the next one, so keep nothing of it. */
    void onSample(PerfSample sample);

    /** Lines of perf script output that could not be read, since the last call. */
    void onMalformedLines(long count);

    /** perf ended while it should be running and is about to be started again. */
    void onRestart();
  }

  private final PerfSettings settings;
  private final Listener listener;
  private final Supplier<PerfPrivileges> privileges;
  private final Duration startTimeout;
  private final Duration stopTimeout;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final FrameTable frames;
  // what a run printed before its first sample, for the error when none comes
  private volatile long linesBeforeFirstSample;
  private volatile String firstUnreadLine;
  private volatile PerfScriptReader reading; // the current run's reader; its counters are read racily, for a message

  private final Object lock = new Object();
  private PerfPipeline current; // guarded by lock
  private boolean closing; // guarded by lock
  private final CountDownLatch closed = new CountDownLatch(1);
  private final CompletableFuture<Void> started = new CompletableFuture<>();
  private final AtomicLong restarts = new AtomicLong();
  private Thread thread;
  private ScheduledExecutorService pinger;
  private Thread shutdownHook;
  private boolean closeDone;

  private PerfRunner(Builder builder) {
    this.settings = builder.settings;
    this.listener = builder.listener;
    this.privileges = builder.privileges;
    this.startTimeout = builder.startTimeout;
    this.stopTimeout = builder.stopTimeout;
    this.initialBackoff = builder.initialBackoff;
    this.maxBackoff = builder.maxBackoff;
    this.frames = builder.frames;
  }

  public static Builder builder(PerfSettings settings, Listener listener) {
    return new Builder(settings, listener);
  }

  /**
   * Starts perf and waits for its first sample (at most the start timeout; a host may be quiet).
   *
   * @throws PerfUnavailableException perf is missing, not permitted, or fails before any sample
   */
  public synchronized void start() throws PerfUnavailableException {
    if (thread != null) {
      throw new IllegalStateException("perf runner already started");
    }
    Optional<PerfUnavailableException> missing =
        PerfFailure.checkInstalled(settings, Objects.requireNonNullElse(System.getenv("PATH"), ""));
    if (missing.isPresent()) {
      throw missing.get();
    }
    shutdownHook = new Thread(this::close, "stallwatch-perf-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    thread = new Thread(this::run, "stallwatch-perf");
    thread.setDaemon(true); // the shutdown hook stops perf; this thread must not keep the JVM alive
    thread.start();
    if (settings.pingsPerf()) {
      pinger = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "stallwatch-perf-flush");
        t.setDaemon(true);
        return t;
      });
      long every = settings.flushInterval().toMillis();
      pinger.scheduleAtFixedRate(this::ping, every, every, TimeUnit.MILLISECONDS);
    }
    try {
      started.get(startTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      close();
      if (e.getCause() instanceof PerfUnavailableException unavailable) {
        throw unavailable;
      }
      throw new IllegalStateException("perf runner failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      PerfScriptReader current = reading;
      if (current != null && current.samples() == 0 && current.malformedLines() > 0) {
        close(); // perf talks, but not in perf script's format: nothing will parse
        throw unreadable(current.lines(), current.firstMalformedLine());
      }
      // perf is running but the host gave it nothing to sample yet: carry on, failures now restart it
      started.complete(null);
      LOG.warn("perf has delivered no sample within {} s; carrying on ({})", startTimeout.toSeconds(), settings.describe());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
      throw new IllegalStateException("interrupted while starting perf", e);
    }
  }

  /** How often perf ended and was started again. */
  public long restarts() {
    return restarts.get();
  }

  private PerfUnavailableException unreadable(long lines, String example) {
    return new PerfUnavailableException("perf printed " + lines + " line(s) of which none parsed as a perf script"
        + " sample, e.g. '" + example + "' (command: " + settings.describe() + ")");
  }

  private void run() {
    Duration backoff = initialBackoff;
    try {
      while (true) {
        PerfPipeline pipeline = null;
        long runStart = System.nanoTime();
        try {
          pipeline = PerfPipeline.start(settings);
        } catch (IOException e) {
          if (!started.isDone()) {
            started.completeExceptionally(PerfFailure.notStarted(settings, e));
            return;
          }
          LOG.warn("could not start perf again: {}", e.getMessage());
        }
        if (pipeline != null) {
          synchronized (lock) {
            if (closing) {
              pipeline.kill();
              return;
            }
            current = pipeline;
          }
          long samples = read(pipeline);
          pipeline.stop(stopTimeout);
          synchronized (lock) {
            current = null;
            if (closing) {
              return;
            }
          }
          if (samples == 0 && !started.isDone() && linesBeforeFirstSample > 0) {
            started.completeExceptionally(unreadable(linesBeforeFirstSample, firstUnreadLine));
            return;
          }
          if (samples == 0 && !started.isDone()) {
            started.completeExceptionally(
                PerfFailure.beforeFirstSample(settings, pipeline.describeExits(), pipeline.stderr(), privileges.get()));
            return;
          }
          if (System.nanoTime() - runStart >= HEALTHY_RUN.toNanos()) {
            backoff = initialBackoff;
          }
          LOG.warn("perf ended ({}; it said: {}); starting it again in {} ms",
              pipeline.describeExits(), PerfFailure.quote(pipeline.stderr()), backoff.toMillis());
        }
        restarts.incrementAndGet();
        listener.onRestart();
        if (closed.await(backoff.toMillis(), TimeUnit.MILLISECONDS)) {
          return;
        }
        backoff = backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      // a failing listener would otherwise end sampling without a word
      LOG.error("perf runner failed; sampling stopped", e);
      started.completeExceptionally(e);
      throw e;
    } finally {
      synchronized (lock) {
        if (current != null) {
          current.kill();
          current = null;
        }
      }
    }
  }

  /** Feeds the listener until perf script's output ends; returns the number of samples. */
  private long read(PerfPipeline pipeline) {
    PerfScriptReader reader = null;
    long[] reported = {0};
    try {
      reader = new PerfScriptReader(pipeline.output(), frames);
      reading = reader;
      PerfScriptReader source = reader;
      reader.read(sample -> {
        listener.onSample(sample);
        if (source.samples() == 1) {
          started.complete(null); // after the listener has the sample: start() returns with it counted
        }
        if (source.malformedLines() != reported[0]) {
          listener.onMalformedLines(source.malformedLines() - reported[0]);
          reported[0] = source.malformedLines();
        }
      });
    } catch (IOException e) {
      // the pipe breaks when perf is killed; whether that was expected is decided by the caller
      LOG.debug("perf script output ended: {}", e.getMessage());
    } finally {
      if (reader != null) {
        if (reader.malformedLines() != reported[0]) {
          listener.onMalformedLines(reader.malformedLines() - reported[0]);
        }
        if (reader.samples() == 0) {
          firstUnreadLine = reader.firstMalformedLine();
          linesBeforeFirstSample = reader.malformedLines() > 0 ? reader.lines() : 0;
        }
      }
      try {
        pipeline.output().close();
      } catch (IOException e) {
        LOG.debug("closing perf script output: {}", e.getMessage());
      }
    }
    return reader == null ? 0 : reader.samples();
  }

  private void ping() {
    PerfPipeline pipeline;
    synchronized (lock) {
      pipeline = current;
    }
    if (pipeline == null) {
      return;
    }
    try {
      pipeline.ping();
    } catch (IOException e) {
      // perf record has just exited; the runner thread sees the end of the output and restarts it
      LOG.debug("could not ping perf record: {}", e.getMessage());
    }
  }

  /** Stops perf and waits until the listener has seen its last sample. Idempotent. */
  @Override
  public synchronized void close() {
    if (closeDone) {
      return;
    }
    closeDone = true;
    PerfPipeline pipeline;
    synchronized (lock) {
      closing = true;
      pipeline = current;
    }
    closed.countDown();
    if (pinger != null) {
      pinger.shutdownNow();
    }
    if (pipeline != null) {
      pipeline.stop(stopTimeout);
    }
    if (thread != null && thread != Thread.currentThread()) {
      try {
        thread.join(stopTimeout.toMillis());
        if (thread.isAlive()) {
          LOG.warn("perf output did not end within {} ms of stopping perf; killing it", stopTimeout.toMillis());
          synchronized (lock) {
            if (current != null) {
              current.kill();
            }
          }
          thread.join(stopTimeout.toMillis());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // the JVM is already shutting down: the hook runs, finds the runner closed and returns
        LOG.debug("JVM shutting down; perf shutdown hook left in place");
      }
    }
  }

  /** Options of {@link PerfRunner}. */
  public static final class Builder {
    private final PerfSettings settings;
    private final Listener listener;
    private Supplier<PerfPrivileges> privileges = PerfPrivileges::current;
    private Duration startTimeout = DEFAULT_START_TIMEOUT;
    private Duration stopTimeout = DEFAULT_STOP_TIMEOUT;
    private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;
    private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
    private final FrameTable frames = new FrameTable(); // one for every run, so ids stay valid across restarts

    private Builder(PerfSettings settings, Listener listener) {
      this.settings = Objects.requireNonNull(settings, "settings");
      this.listener = Objects.requireNonNull(listener, "listener");
    }

    /** Where the explanation of a refusal reads this process's privileges from; {@code /proc} by default. */
    public Builder privileges(Supplier<PerfPrivileges> privileges) {
      this.privileges = Objects.requireNonNull(privileges, "privileges");
      return this;
    }

    public Builder startTimeout(Duration startTimeout) {
      this.startTimeout = positive(startTimeout, "start timeout");
      return this;
    }

    public Builder stopTimeout(Duration stopTimeout) {
      this.stopTimeout = positive(stopTimeout, "stop timeout");
      return this;
    }

    /** The pause before the first restart; it doubles with every failure in a row. */
    public Builder initialBackoff(Duration initialBackoff) {
      this.initialBackoff = positive(initialBackoff, "initial backoff");
      return this;
    }

    public Builder maxBackoff(Duration maxBackoff) {
      this.maxBackoff = positive(maxBackoff, "max backoff");
      return this;
    }

    public PerfRunner build() {
      if (maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException("max backoff " + maxBackoff + " is below the initial backoff " + initialBackoff);
      }
      return new PerfRunner(this);
    }

    private static Duration positive(Duration value, String what) {
      Objects.requireNonNull(value, what);
      if (value.isZero() || value.isNegative()) {
        throw new IllegalArgumentException(what + " must be positive, got " + value);
      }
      return value;
    }
  }
}
