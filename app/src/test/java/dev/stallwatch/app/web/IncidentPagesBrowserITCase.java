package dev.stallwatch.app.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stallwatch.app.demo.DemoBundle;
import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.app.incidents.IncidentFixtures;
import dev.stallwatch.app.replay.ReplayBundle;
import dev.stallwatch.app.replay.ReplayRunner;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.KnownIssue;
import dev.stallwatch.schemas.alerts.v1.WeightedStack;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * {@code stallwatch serve} end to end in a real headless Chromium. The demo's wedged go1.14.1
 * container is replayed through the real pipeline (collector path, Kafka, the Flink job) onto the
 * alerts topic; serve, a child process as people run it, stores the alert through its ingestor
 * and pages a webhook; the browser then reads the list and the incident page through the API
 * with the bearer token; names from an alert stay text. The last test stops serve with SIGTERM.
 *
 * <p>Needs Debian's {@code chromium} and {@code chromium-driver} (.ci/run installs them); without
 * them the test fails and says so.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class IncidentPagesBrowserITCase {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final String TOKEN = "browser-test-token-7c4a8d09ca3762af";
  private static final String SHORT_CONTAINER = DemoBundle.WEDGED.substring(0, 12);
  private static final Duration PAGE_WAIT = Duration.ofSeconds(20);
  private static final Path SCREENSHOTS = Path.of("target");
  private static final String HOSTILE_HOST = "<img src=x onerror=\"window.pwned='host'\">";
  private static final String HOSTILE_FRAME = "</title><img src=x onerror=\"window.pwned='frame'\">";
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir
  static Path dir;

  private static EmbeddedKafka kafka;
  private static WebhookReceiver webhook;
  private static ServeProcess serve;
  private static URI base;
  private static String incidentId;
  private static WebDriver browser;
  private static WebDriverWait wait;

  @BeforeAll
  static void start() throws Exception {
    requireChromium();
    kafka = EmbeddedKafka.start();
    Path bundle = dir.resolve("bundle");
    new DemoBundle().write(bundle);
    ReplayRunner.Result replay = new ReplayRunner(DetectorOptions.defaults(), SignatureRules.defaults(), line -> {})
        .run(ReplayBundle.load(bundle), kafka);
    assertThat(replay.incidents()).as("the demo has one wedged container").hasSize(1);
    incidentId = replay.incidents().get(0).open().getIncidentId();

    webhook = new WebhookReceiver();
    Path tokenFile = Files.writeString(dir.resolve("api-token"), TOKEN + "\n");
    Files.setPosixFilePermissions(tokenFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    serve = ServeProcess.start(List.of("serve",
        "--listen", "127.0.0.1:0",
        "--bootstrap-servers", kafka.bootstrapServers(), "--kafka-config", kafka.clientConfigFile().toString(),
        "--data-dir", dir.resolve("data").toString(),
        "--api-token-file", tokenFile.toString(),
        "--webhook-url", webhook.url()));
    base = serve.awaitBaseUri(Duration.ofSeconds(60));
    // serve's ingestor stores the replayed alert
    await().atMost(Duration.ofSeconds(30)).until(() -> api("/api/v1/incidents/" + incidentId).statusCode() == 200);
    browser = chromium();
    wait = new WebDriverWait(browser, PAGE_WAIT);
  }

  @AfterAll
  static void stop() throws Exception {
    if (browser != null) {
      browser.quit();
    }
    if (serve != null) {
      serve.close();
    }
    if (webhook != null) {
      webhook.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  private static void requireChromium() {
    for (Path binary : List.of(CHROMIUM, CHROMEDRIVER)) {
      if (!Files.isExecutable(binary)) {
        throw new AssertionError(binary + " is missing: the browser test drives Debian's Chromium; install it with "
            + "'apt-get install -y --no-install-recommends chromium chromium-driver' (.ci/run does)");
      }
    }
  }

  /** Debian's Chromium and chromedriver, named explicitly: Selenium Manager must not download a browser. */
  private static WebDriver chromium() throws IOException {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--user-data-dir=" + Files.createTempDirectory(dir, "chromium-profile"), "--window-size=1400,1800");
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort()
        .build();
    return new ChromeDriver(service, options);
  }

  private static HttpResponse<String> api(String path) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(base.resolve(path)).header("Authorization", "Bearer " + TOKEN).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(base.resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Opens a page with no token stored, and gives the token when the page asks for it. */
  private static void openLoggedIn(String path) {
    browser.get(base.resolve(path).toString());
    forgetToken();
    browser.navigate().refresh();
    logIn(TOKEN);
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("content")));
  }

  private static void forgetToken() {
    ((JavascriptExecutor) browser).executeScript("sessionStorage.clear(); localStorage.clear();");
  }

  private static void logIn(String token) {
    WebElement input = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token")));
    input.sendKeys(token);
    browser.findElement(By.cssSelector("#login-form button[type=submit]")).click();
  }

  private static void screenshot(String name) throws IOException {
    Path png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
    Files.createDirectories(SCREENSHOTS);
    Files.copy(png, SCREENSHOTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
  }

  @SuppressWarnings("unchecked")
  private static List<String> frameTitles() {
    return (List<String>) ((JavascriptExecutor) browser).executeScript(
        "return [...document.querySelectorAll('#flamegraph g.frame title')].map(t => t.textContent);");
  }

  private static WebElement frame(String name) {
    return browser.findElements(By.cssSelector("#flamegraph g.frame")).stream()
        .filter(g -> g.findElement(By.tagName("title")).getDomProperty("textContent").startsWith(name + ":"))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no frame " + name + " among " + frameTitles()));
  }

  @Test
  @Order(1)
  void theListShowsTheDemoIncidentMarkedOpen() throws IOException {
    openLoggedIn("/");
    WebElement row = wait.until(ExpectedConditions.visibilityOfElementLocated(
        By.cssSelector("#incidents tr[data-incident-id='" + incidentId + "']")));
    assertThat(row.getText()).contains(SHORT_CONTAINER, "OPEN", "node-a", "shop", "go-timer-livelock", "go1.14.1");
    assertThat(row.getDomAttribute("class")).isEqualTo("open");
    assertThat(row.findElement(By.cssSelector("a.container-id")).getDomAttribute("title")).isEqualTo(DemoBundle.WEDGED);
    assertThat(browser.findElement(By.id("summary")).getText()).startsWith("Incidents 1–1 of 1");
    screenshot("incident-list.png");
  }

  @Test
  @Order(2)
  void theIncidentPageShowsTheContainerAndAFlameGraphOfTheEvidence() throws IOException {
    openLoggedIn("/");
    wait.until(ExpectedConditions.elementToBeClickable(
        By.cssSelector("#incidents tr[data-incident-id='" + incidentId + "'] a.container-id"))).click();
    wait.until(ExpectedConditions.urlToBe(base.resolve("/incidents/" + incidentId).toString()));
    wait.until(ExpectedConditions.textToBe(By.id("container-id"), DemoBundle.WEDGED));

    assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("OPEN");
    assertThat(browser.findElement(By.id("host")).getText()).isEqualTo("node-a");
    assertThat(browser.findElement(By.id("pod")).getText()).isEqualTo("orders-7f9c6d5b8-x2k4q");
    assertThat(browser.findElements(By.cssSelector("#timeline li")))
        .extracting(WebElement::getText)
        .satisfiesExactly(
            spike -> assertThat(spike).contains("Timeouts spiked", "2021-12-29 12:52:00 UTC", "1,844"),
            drain -> assertThat(drain).contains("Traffic drained", "+30 s"),
            stuck -> assertThat(stuck).contains("Stuck"),
            detected -> assertThat(detected).contains("Detected", "60 s after the drain"),
            open -> assertThat(open).contains("Still open"));
    assertThat(browser.findElement(By.id("numbers")).getText()).contains("0.99 cores", "85.5%", "3,075");
    assertThat(browser.findElement(By.id("runtime")).getText()).isEqualTo("go1.14.1");
    assertThat(browser.findElement(By.cssSelector("#issues a")).getDomAttribute("href"))
        .isEqualTo("https://github.com/golang/go/issues/38023");
    assertThat(browser.findElement(By.id("remediation")).getText()).startsWith("Upgrade to go1.14.2");

    // the flame graph is drawn in the page from the evidence's folded stacks
    assertThat(frameTitles()).anySatisfy(t -> assertThat(t).startsWith("runtime.osyield:"))
        .anySatisfy(t -> assertThat(t).startsWith("runtime.morestack:"))
        .anySatisfy(t -> assertThat(t).startsWith("runtime.futex:"));
    screenshot("incident-page.png");

    // click to zoom: adjusttimers spans the width, and the GC branch beside it is gone
    frame("runtime.adjusttimers").click();
    wait.until(ExpectedConditions.attributeToBe(By.cssSelector("#flamegraph g.zoomed rect"), "width", "1180.00"));
    assertThat(frameTitles()).noneSatisfy(t -> assertThat(t).startsWith("runtime.futex:"))
        .anySatisfy(t -> assertThat(t).startsWith("runtime.osyield:"));
    assertThat(browser.findElement(By.cssSelector("#flamegraph g.zoomed title")).getDomProperty("textContent"))
        .startsWith("runtime.adjusttimers: ");
    screenshot("incident-flamegraph-zoomed.png");

    browser.findElement(By.id("flame-reset")).click();
    wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#flamegraph g.zoomed"), 0));
    assertThat(frameTitles()).anySatisfy(t -> assertThat(t).startsWith("runtime.futex:"));
  }

  @Test
  @Order(3)
  void namesFromAnAlertStayText() {
    DeadlockAlert hostile = DeadlockAlert.newBuilder(IncidentFixtures.open("hostile", "c0ffee00c0ffee00", HOSTILE_HOST,
            IncidentFixtures.DETECTED.plusSeconds(3600)))
        .setTopStacks(List.of(new WeightedStack("svc;" + HOSTILE_FRAME + ";runtime.osyield", 10L, 1.0)))
        .setKnownIssues(List.of(new KnownIssue("evil#1", "javascript:window.pwned='link'", "<b>bold</b>", "never", true)))
        .build();
    // the test joins the embedded PostgreSQL that serve runs on the data directory
    try (IncidentDatabase database = IncidentDatabase.open(DatabaseOptions.embedded(dir.resolve("data")))) {
      database.store().write(hostile);
    }

    openLoggedIn("/");
    WebElement row = wait.until(ExpectedConditions.visibilityOfElementLocated(
        By.cssSelector("#incidents tr[data-incident-id='hostile']")));
    assertThat(row.findElements(By.tagName("td")).get(3).getText()).startsWith(HOSTILE_HOST);

    browser.get(base.resolve("/incidents/hostile").toString());
    wait.until(ExpectedConditions.textToBe(By.id("host"), HOSTILE_HOST));
    assertThat(frameTitles()).anySatisfy(t -> assertThat(t).startsWith(HOSTILE_FRAME + ":"));
    assertThat(browser.findElement(By.id("issues")).getText()).contains("evil#1: <b>bold</b>");
    assertThat(browser.findElements(By.cssSelector("#issues a"))).as("a javascript: URL is no link").isEmpty();
    assertThat(browser.findElements(By.tagName("img"))).isEmpty();
    assertThat(((JavascriptExecutor) browser).executeScript("return window.pwned ?? null;")).isNull();
  }

  @Test
  @Order(4)
  void aWrongTokenIsRefusedAndAskedForAgain() {
    browser.get(base.resolve("/incidents/" + incidentId).toString());
    forgetToken();
    browser.navigate().refresh();
    logIn("not-the-token-of-this-server");
    wait.until(ExpectedConditions.textToBe(By.id("login-message"), "The token was not accepted."));
    assertThat(browser.findElement(By.id("content")).isDisplayed()).isFalse();
    assertThat(browser.findElement(By.id("container-id")).getDomProperty("textContent")).isEmpty();
  }

  @Test
  @Order(4)
  void theTokenStaysInTheTabAndNeverInLocalStorage() {
    JavascriptExecutor script = (JavascriptExecutor) browser;
    openLoggedIn("/");
    assertThat(script.executeScript("return sessionStorage.getItem('stallwatch.apiToken');")).isEqualTo(TOKEN);
    assertThat(script.executeScript("return localStorage.length;")).isEqualTo(0L);

    // a token an older version kept in localStorage is neither used nor kept
    script.executeScript("sessionStorage.clear(); localStorage.setItem('stallwatch.apiToken', arguments[0]);", TOKEN);
    browser.navigate().refresh();
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token")));
    assertThat(script.executeScript("return localStorage.length;")).isEqualTo(0L);
    assertThat(browser.findElements(By.id("remember"))).isEmpty();
  }

  @Test
  @Order(5)
  void servePagedTheWebhookAndReportsItsPartsInHealthAndMetrics() throws Exception {
    await().atMost(Duration.ofSeconds(30)).until(() -> !webhook.received().isEmpty());
    assertThat(webhook.received()).singleElement()
        .satisfies(alert -> assertThat(alert.toString()).contains(incidentId));

    HttpResponse<String> health = get("/healthz");
    assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
    JsonNode checks = MAPPER.readTree(health.body()).get("checks");
    assertThat(checks.get("store").get("detail").asText()).isEqualTo("reachable");
    assertThat(checks.get("ingestor").get("detail").asText()).isEqualTo("running");
    assertThat(checks.get("notifier").get("detail").asText()).contains("webhook");

    String metrics = get("/metrics").body();
    assertThat(metrics)
        .contains("stallwatch_ingest_records_total 1.0")
        .contains("stallwatch_ingest_written_total 1.0")
        .contains("stallwatch_notifier_deliveries_total{receiver=\"webhook\"} 1.0")
        .contains("stallwatch_http_requests_total{method=\"GET\",route=\"/api/v1/incidents/{id}\",status=\"200\"}");
  }

  @Test
  @Order(6)
  void sigtermStopsServeCleanly() throws Exception {
    int exit = serve.terminate(Duration.ofSeconds(60));
    // 128 + SIGTERM: the JVM ran its shutdown hooks and exited on the signal
    assertThat(exit).isEqualTo(143);
    assertThat(serve.stderr()).contains("stallwatch: stopped")
        .noneSatisfy(line -> assertThat(line).contains("internal error"));
    assertThat(dir.resolve("data/postgres/postmaster.pid")).as("the embedded PostgreSQL stopped").doesNotExist();
  }
}
