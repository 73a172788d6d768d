package io.streamingllm.server;

import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Debian's {@code chromium} driven headless through its {@code chromedriver}, both found on the PATH: nothing is
 * downloaded at test time. Missing, they fail the test with what to install ({@code scripts/test.sh} does it).
 */
final class HeadlessChromium implements AutoCloseable {
    /** Where screenshots go; {@code scripts/playground-screenshots.sh} copies them to docs/playground. */
    static final Path SCREENSHOTS = Path.of("target", "playground-screenshots");
    /** A host name the browser resolves to loopback: a page opened as from another machine on the network. */
    static final String OTHER_HOST = "sidecar.test";
    private static final Duration WAIT = Duration.ofSeconds(15);

    final ChromeDriver driver;

    private HeadlessChromium(ChromeDriver driver) {
        this.driver = driver;
    }

    static HeadlessChromium start() {
        Path chromedriver = onPath("chromedriver").orElseGet(() -> fail(missing("chromedriver")));
        Path chromium = onPath("chromium").or(() -> onPath("chromium-browser"))
                .orElseGet(() -> fail(missing("chromium")));
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium.toFile());
        // --no-sandbox: CI runs as root, where chromium's sandbox cannot start
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--lang=en-US", "--host-resolver-rules=MAP " + OTHER_HOST + " 127.0.0.1");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(chromedriver.toFile())
                .usingAnyFreePort()
                .build();
        return new HeadlessChromium(new ChromeDriver(service, options));
    }

    private static String missing(String program) {
        return program + " is not on the PATH: the playground tests drive Debian's chromium; run scripts/test.sh "
                + "(it installs them) or apt-get install -y chromium chromium-driver";
    }

    private static Optional<Path> onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.of(path.split(File.pathSeparator))
                .filter(dir -> !dir.isEmpty())
                .map(dir -> Path.of(dir, program))
                .filter(Files::isExecutable)
                .findFirst();
    }

    <T> T await(Function<WebDriver, T> condition, String what) {
        // the page re-renders lists as data arrives: an element read mid-render is simply read again
        return new WebDriverWait(driver, WAIT, Duration.ofMillis(20)).withMessage(what)
                .ignoring(StaleElementReferenceException.class).until(condition);
    }

    WebElement byId(String id) {
        return driver.findElement(By.id(id));
    }

    void size(int width, int height) {
        driver.manage().window().setSize(new Dimension(width, height));
    }

    void screenshot(String name) {
        try {
            Files.createDirectories(SCREENSHOTS);
            Files.copy(driver.getScreenshotAs(OutputType.FILE).toPath(), SCREENSHOTS.resolve(name + ".png"),
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        driver.quit();
    }
}
