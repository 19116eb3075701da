package dev.oneway.standalone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.oneway.common.Setting;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The playground at GET / in a real browser (headless Chromium) against a whole system: a person pastes a
 * key, types a prompt, watches the states arrive over the WebSocket and sees the image. Skipped where
 * Debian's chromium and chromium-driver are not installed (.ci/run installs them).
 */
class PlaygroundTest {

    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final String KEY = "playground-key";

    @TempDir
    static Path dataDir;
    static OnewaySystem system;
    static WebDriver browser;

    @BeforeAll
    static void start() {
        Path chromium = Stream.of("/usr/lib/chromium/chromium", "/usr/bin/chromium").map(Path::of)
                .filter(Files::isExecutable).findFirst().orElse(null);
        assumeTrue(chromium != null && Files.isExecutable(CHROMEDRIVER),
                "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)");
        system = OnewaySystem.builder()
                .dataDir(dataDir)
                .set(Setting.HTTP_PORT, 0)
                .set(Setting.API_KEYS, "web:" + KEY)
                .start();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=900,1100");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (system != null) {
            system.close();
        }
    }

    @Test
    void aPromptBecomesAnImageWhileTheStatesArriveOverTheWebSocket() throws IOException {
        browser.get(system.baseUrl() + "/");
        fill("key", KEY);
        fill("prompt", "a red fox in the snow");
        fill("seed", "7");
        browser.findElement(By.id("submit")).click();

        WebDriverWait patience = new WebDriverWait(browser, OnewayClient.PATIENCE);
        patience.until(ExpectedConditions.textToBe(By.id("state"), "succeeded"));
        long naturalWidth = patience.until(b -> {
            Object width = ((JavascriptExecutor) b).executeScript(
                    "const img = document.getElementById('image'); return img.complete ? img.naturalWidth : 0;");
            return ((Number) width).longValue() > 0 ? (Long) ((Number) width).longValue() : null;
        });

        assertEquals(system.modelDefaults().width(), naturalWidth, "the image is the job's PNG, at its size");
        String log = browser.findElement(By.id("log")).getText();
        assertTrue(log.contains("job.started") && log.contains("job.succeeded"), "events came over the WebSocket: " + log);
        assertFalse(log.contains("no WebSocket"), log);
        assertTrue(log.contains("job.preview (step 1/"), "the sampler's steps were shown as they came: " + log);
        assertEquals("", browser.findElement(By.id("error")).getText());
        File screenshot = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Path saved = Path.of("target", "playground.png");
        Files.createDirectories(saved.getParent());
        Files.copy(screenshot.toPath(), saved, StandardCopyOption.REPLACE_EXISTING);
        assertTrue(Files.size(saved) > 0);
    }

    @Test
    void stepsAndSamplerGoWithTheJob() {
        browser.get(system.baseUrl() + "/");
        fill("key", KEY);
        fill("prompt", "a red fox, looped");
        fill("steps", "2");
        new Select(browser.findElement(By.id("sampler"))).selectByValue("looped");
        browser.findElement(By.id("submit")).click();

        WebDriverWait patience = new WebDriverWait(browser, OnewayClient.PATIENCE);
        patience.until(ExpectedConditions.textToBe(By.id("state"), "succeeded"));
        String id = browser.findElement(By.id("job-id")).getText();
        OnewayClient client = new OnewayClient(system.vertx(), system.httpPort());
        try {
            OnewayClient.Reply job = client.get(KEY, "/v1/jobs/" + id);
            assertEquals(200, job.status());
            assertEquals(2, job.json().getInteger("steps"), job.body().toString());
            assertEquals("looped", job.json().getString("sampler"), job.body().toString());
        } finally {
            client.close();
        }
    }

    @Test
    void theModelPickerListsTheServedModelsAndTheJobRunsOnTheOneChosenWithItsDecoder() {
        browser.get(system.baseUrl() + "/");
        fill("key", KEY);
        fill("prompt", "a red fox on the other model"); // leaving the key field loads the models for that key
        WebDriverWait patience = new WebDriverWait(browser, OnewayClient.PATIENCE);
        // Read and chosen in one script each: the page may refill the picker (once per key it sees) meanwhile.
        String label = patience.until(b -> (String) ((JavascriptExecutor) b).executeScript(
                "const o = Array.from(document.getElementById('model').options).find(o => o.value === 'tiny-sd21');"
                        + " return o ? o.text : null;"));
        assertTrue(label.contains("multiple of 16 up to 128") && label.contains("taesd"), label);
        ((JavascriptExecutor) browser).executeScript("document.getElementById('model').value = 'tiny-sd21';");
        new Select(browser.findElement(By.id("decoder"))).selectByValue("taesd");
        browser.findElement(By.id("submit")).click();

        patience.until(ExpectedConditions.textToBe(By.id("state"), "succeeded"));
        String id = browser.findElement(By.id("job-id")).getText();
        OnewayClient client = new OnewayClient(system.vertx(), system.httpPort());
        try {
            OnewayClient.Reply job = client.get(KEY, "/v1/jobs/" + id);
            assertEquals("tiny-sd21", job.json().getString("model"), job.body().toString());
            assertEquals("taesd", job.json().getString("decoder"), job.body().toString());
        } finally {
            client.close();
        }
    }

    @Test
    void aRejectedSubmissionReplacesThePreviousResultWithTheErrorUnderTheButton() {
        browser.get(system.baseUrl() + "/");
        fill("key", KEY);
        fill("prompt", "a red fox");
        browser.findElement(By.id("submit")).click();
        WebDriverWait patience = new WebDriverWait(browser, OnewayClient.PATIENCE);
        patience.until(ExpectedConditions.textToBe(By.id("state"), "succeeded"));
        // The reader has scrolled down to the image, as one does.
        ((JavascriptExecutor) browser).executeScript("window.scrollTo(0, document.body.scrollHeight)");

        int width = 17; // the default tiny model's sizes are multiples of 16
        fill("width", String.valueOf(width));
        browser.findElement(By.id("submit")).click();
        WebElement error = patience.until(ExpectedConditions.visibilityOfElementLocated(By.id("error")));
        patience.until(ExpectedConditions.textToBePresentInElement(error, "width must be a multiple"));

        assertTrue(error.getText().contains("invalid_request") && error.getText().contains("HTTP 400"), error.getText());
        assertFalse(browser.findElement(By.id("job")).isDisplayed(), "the previous job's result is replaced by the error");
        Boolean inView = (Boolean) ((JavascriptExecutor) browser).executeScript(
                "const r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight;", error);
        assertTrue(inView, "the error is scrolled into view");
        int buttonBottom = browser.findElement(By.id("submit")).getRect().getY()
                + browser.findElement(By.id("submit")).getRect().getHeight();
        int errorTop = error.getRect().getY();
        assertTrue(errorTop >= buttonBottom && errorTop - buttonBottom < 100,
                "the error is right under the button (button ends at " + buttonBottom + ", error starts at " + errorTop + ")");
    }

    @Test
    void aWrongKeyShowsTheGatewaysMessage() {
        browser.get(system.baseUrl() + "/");
        fill("key", "not-the-key");
        fill("prompt", "a red fox");
        browser.findElement(By.id("submit")).click();

        new WebDriverWait(browser, OnewayClient.PATIENCE)
                .until(ExpectedConditions.textToBePresentInElementLocated(By.id("error"), "invalid API key"));
        assertTrue(browser.findElement(By.id("error")).getText().contains("unauthorized"));
    }

    /** Types into a field as a person would after selecting what is there (the page remembers the key per tab). */
    private static void fill(String id, String text) {
        WebElement field = browser.findElement(By.id(id));
        field.clear();
        field.sendKeys(text);
    }
}
