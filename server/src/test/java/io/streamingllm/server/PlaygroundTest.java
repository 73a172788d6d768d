package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.testing.FakeOllama;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The playground in a real headless chromium against a real sidecar with the echo engine. */
class PlaygroundTest {
    /** Records every token span the page adds to the transcript, in the order they appear. */
    private static final String RECORD_TOKENS = """
            window.seenTokens = [];
            new MutationObserver(changes => changes.forEach(c => c.addedNodes.forEach(n => {
              if (n.classList && n.classList.contains('tok')) window.seenTokens.push(n.textContent);
            }))).observe(document.getElementById('transcript'), {childList: true, subtree: true});
            """;

    private static HeadlessChromium browser;

    @TempDir
    Path dir;

    @BeforeAll
    static void startBrowser() {
        browser = HeadlessChromium.start();
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.close();
        }
    }

    @BeforeEach
    void wideWindow() {
        browser.size(1280, 900);
    }

    @Test
    void pageLoadsFromTheJarAndATurnStreamsItsTokensInOrder() {
        try (TestSidecar s = echo(Map.of(SidecarConfig.ECHO_DELAY_MS, "40"))) {
            HttpResponse<String> page = s.get("/");
            assertEquals(200, page.statusCode());
            assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
            assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'self'"),
                    "the page may load nothing from elsewhere");
            assertTrue(s.get("/playground/chat.js").headers().firstValue("Content-Type").orElse("")
                    .startsWith("text/javascript"), "modules need a JavaScript type");
            HttpResponse<String> missing = s.get("/playground/nothing.js");
            assertEquals(404, missing.statusCode());
            assertEquals("not_found", TestSidecar.json(missing.body()).getString("error"));
            HttpResponse<String> traversal = s.get("/playground/..%2Fplayground.css");
            assertTrue(traversal.statusCode() >= 400 && TestSidecar.json(traversal.body()).containsKey("error"),
                    "only names of the page's files: " + traversal.body());
            JsonObject settings = TestSidecar.json(s.get("/playground/settings").body());
            assertEquals(s.config.recentSize(), settings.getInt("recent_size"));
            assertEquals(s.config.summarySize(), settings.getInt("summary_size"));

            openPage(s);
            browser.driver.executeScript(RECORD_TOKENS);
            String words = "one two three four five six seven eight";
            WebElement input = browser.byId("message-input");
            input.sendKeys(words, Keys.ENTER);

            // live: some tokens are shown while the reply is still streaming
            browser.await(d -> d.findElements(By.cssSelector("#transcript .streaming .tok")).size() >= 2,
                    "tokens shown while the turn streams");
            assertFalse(browser.byId("stop-button").getAttribute("disabled") != null, "Stop is enabled during a turn");
            awaitTurnDone();
            assertEquals(List.of("one", " two", " three", " four", " five", " six", " seven", " eight"),
                    browser.driver.executeScript("return window.seenTokens"));
            assertEquals("", input.getAttribute("value"), "the composer is cleared once sent");

            String conversation = browser.byId("conversation-input").getAttribute("value");
            JsonObject info = TestSidecar.json(s.get("/conversations/" + conversation).body());
            assertEquals(1, info.getInt("turns"));
            browser.await(d -> replyTexts().equals(List.of(words)), "transcript shows the logged reply");
            assertTrue(tokens("recent") > 0, "recent part of the bar is drawn");
            assertTrue(tokens("sink") > 0, "the agent's sink is drawn");
            assertTrue(tokens("free") > 0, "free budget is drawn");
            assertEquals(0, tokens("summary"));
            browser.await(d -> !browser.byId("stat-ttft").getText().contains("…")
                    && browser.byId("stat-ttft").getText().endsWith("ms"), "time to first token shown");
            assertEquals("8", browser.byId("stat-tokens").getText());
            assertEquals(1, browser.driver.findElements(By.cssSelector("#stats-chart rect")).size());
            browser.screenshot("chat");
        }
    }

    @Test
    void windowBarShowsTheSummaryAndGreysEvictedTurnsAfterAnEviction() {
        try (TestSidecar s = echo(Map.of(SidecarConfig.RECENT_SIZE, "12", SidecarConfig.SUMMARY_SIZE, "24"))) {
            openPage(s);
            sendAndAwait("alpha beta gamma delta");
            int recentBefore = tokens("recent");
            assertEquals(0, tokens("summary"));
            assertEquals("0", browser.byId("window-evicted").getText());
            sendAndAwait("epsilon zeta eta theta");
            sendAndAwait("iota kappa lambda mu");

            browser.await(d -> !"0".equals(browser.byId("window-evicted").getText()), "evicted turns counted");
            assertTrue(tokens("summary") > 0, "the summary takes part of the bar after an eviction");
            assertTrue(recentBefore > 0);
            List<WebElement> turns = browser.driver.findElements(By.cssSelector("#transcript .turn"));
            assertEquals(3, turns.size());
            assertTrue(turns.get(0).getAttribute("class").contains("evicted"), "the oldest turn is greyed out");
            assertFalse(turns.get(2).getAttribute("class").contains("evicted"), "the newest turn is in the window");
            browser.await(d -> browser.byId("summary-ref").getAttribute("class").contains("ok"),
                    "summary_ref checked against the summary's content");
            String summary = TestSidecar.json(s.get("/conversations/" + browser.byId("conversation-input")
                    .getAttribute("value") + "/summary").body()).getString("content");
            assertEquals(summary.strip(), browser.byId("summary-text").getText().strip(), "the summary is shown");
            browser.screenshot("window-after-eviction");
        }
    }

    @Test
    void stopCancelsTheTurnOnTheSidecar() {
        try (TestSidecar s = echo(Map.of(SidecarConfig.ECHO_DELAY_MS, "150"))) {
            openPage(s);
            browser.byId("message-input").sendKeys("w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20"
                    + " w21 w22 w23 w24 w25 w26 w27 w28 w29 w30", Keys.ENTER);
            browser.await(d -> d.findElements(By.cssSelector("#transcript .streaming .tok")).size() >= 2,
                    "tokens arrive");
            browser.byId("stop-button").click();
            browser.await(d -> browser.byId("stop-button").getAttribute("disabled") != null, "Stop disabled after stop");
            assertTrue(browser.driver.findElement(By.cssSelector("#transcript .msg.assistant")).getText().contains("stopped"));
            String conversation = browser.byId("conversation-input").getAttribute("value");
            // the sidecar logs the cancelled reply with what was streamed: the turn really ended there
            JsonObject reply = browser.await(d -> lastReply(s, conversation), "cancelled reply logged");
            assertEquals("cancelled", reply.getString("finish_reason"));
            assertTrue(reply.getString("content").split(" ").length < 30, "reply cut short: " + reply);
            // and the page then shows the conversation as logged: the partial reply, the window it left
            browser.await(d -> replyTexts().equals(List.of(reply.getString("content"))), "logged reply shown");
            browser.await(d -> tokens("recent") > 0, "window bar of the stopped turn");
            assertTrue(browser.byId("send-button").isEnabled(), "a new turn can be sent");
        }
    }

    @Test
    void escapeStopsAndShiftEnterIsANewLine() {
        try (TestSidecar s = echo(Map.of(SidecarConfig.ECHO_DELAY_MS, "150"))) {
            openPage(s);
            WebElement input = browser.byId("message-input");
            input.sendKeys("first line", Keys.chord(Keys.SHIFT, Keys.ENTER), "second line");
            assertEquals("first line\nsecond line", input.getAttribute("value"), "Shift+Enter does not send");
            assertTrue(browser.driver.findElements(By.cssSelector("#transcript .turn")).isEmpty());
            input.sendKeys(Keys.ENTER);
            browser.await(d -> !d.findElements(By.cssSelector("#transcript .streaming .tok")).isEmpty(), "streaming");
            input.sendKeys(Keys.ESCAPE);
            browser.await(d -> browser.byId("stop-button").getAttribute("disabled") != null, "Esc stops the turn");
            String conversation = browser.byId("conversation-input").getAttribute("value");
            assertEquals("cancelled", browser.await(d -> lastReply(s, conversation), "cancel logged")
                    .getString("finish_reason"));
        }
    }

    @Test
    void agentEditorShowsTheSidecarsValidationErrorInlineAndSaves() throws Exception {
        try (TestSidecar s = echo(Map.of())) {
            openPage(s);
            browser.driver.findElement(By.cssSelector(".tab[data-view=agents]")).click();
            browser.await(d -> !d.findElements(By.cssSelector("#agents-list button[data-agent-id=planner]")).isEmpty(),
                    "agents listed");
            browser.driver.findElement(By.cssSelector("#agents-list button[data-agent-id=planner]")).click();
            WebElement id = browser.byId("agent-id");
            browser.await(d -> "planner".equals(id.getAttribute("value")), "planner loaded in the editor");
            id.clear();
            id.sendKeys("bad id!");
            browser.byId("agent-save").click();
            browser.await(d -> browser.byId("agent-id-error").getText().contains("invalid agent id"),
                    "the sidecar's refusal under the id field");
            assertEquals("true", id.getAttribute("aria-invalid"));
            browser.screenshot("agents-validation");

            id.clear();
            id.sendKeys("critic");
            browser.byId("agent-name").clear();
            browser.byId("agent-name").sendKeys("Critic");
            browser.byId("agent-body").clear();
            browser.byId("agent-body").sendKeys("# Critic\n\nFinds the weak spot.");
            browser.byId("agent-save").click();
            browser.await(d -> browser.byId("agent-saved").getText().contains("saved critic"), "saved");
            assertTrue(browser.byId("agent-id-error").getText().isEmpty(), "the error is cleared");
            String file = Files.readString(s.config.agentsDir().resolve("critic.md"));
            assertTrue(file.startsWith("---\n") && file.contains("name: Critic") && file.contains("Finds the weak spot."),
                    file);
            browser.driver.findElement(By.cssSelector(".tab[data-view=chat]")).click();
            browser.await(d -> new Select(browser.byId("agent-select")).getOptions().stream()
                    .anyMatch(o -> "critic".equals(o.getAttribute("value"))), "new agent offered in the chat");
        }
    }

    @Test
    void tokenIsAskedOnceAndUsedOnHttpAndTheWebSocket() {
        try (TestSidecar s = echo(Map.of(SidecarConfig.API_TOKEN, "s3cret-token"))) {
            assertEquals(200, s.get("/").statusCode(), "the page itself loads without a token");
            assertEquals(200, s.get("/playground/app.js").statusCode());
            assertEquals(401, s.get("/playground/settings").statusCode(), "what the page calls needs the token");
            assertEquals(401, s.get("/playground/nothing.js").statusCode(), "only the page's files are public");

            browser.driver.get(s.base.toString());
            WebElement dialog = browser.byId("token-dialog");
            browser.await(d -> dialog.isDisplayed(), "the page asks for the token");
            browser.byId("token-input").sendKeys("wrong", Keys.ENTER);
            browser.await(d -> browser.byId("token-error").getText().contains("refused"), "a wrong token is refused");
            browser.screenshot("token-prompt");
            browser.byId("token-input").sendKeys("s3cret-token", Keys.ENTER);
            browser.await(d -> !dialog.isDisplayed(), "the prompt closes");
            awaitAgents();
            browser.byId("message-input").sendKeys("over the socket", Keys.ENTER);
            awaitTurnDone();
            browser.await(d -> replyTexts().equals(List.of("over the socket")), "turn streamed with the token");
            browser.driver.findElement(By.cssSelector(".tab[data-view=events]")).click();
            browser.await(d -> !d.findElements(By.cssSelector("#events-list .event")).isEmpty(), "events listed");
            assertFalse(dialog.isDisplayed(), "asked once");
        }
    }

    @Test
    void engineDownIsShownWithItsAdvice() {
        FakeOllama fake = FakeOllama.start("llama3.2:latest");
        try (TestSidecar s = TestSidecar.ollama(dir, fake)) {
            fake.close();
            openPage(s);
            browser.await(d -> browser.byId("engine-status").getText().startsWith("engine not ready"),
                    "engine status line says it is down");
            browser.byId("message-input").sendKeys("hello", Keys.ENTER);
            WebElement error = browser.byId("chat-error");
            browser.await(d -> error.isDisplayed() && !error.getText().isBlank(), "the turn's error is shown");
            String advice = TestSidecar.json(s.get("/readyz").body()).getString("detail");
            assertTrue(error.getText().contains(advice.substring(0, Math.min(30, advice.length()))),
                    error.getText() + " vs " + advice);
        } finally {
            fake.close();
        }
    }

    @Test
    void pageOpenedUnderAnotherHostNameWorksAndChecksTheSummaryWithoutWebCrypto() {
        try (TestSidecar s = echo(Map.of(SidecarConfig.RECENT_SIZE, "12"))) {
            // as from another machine: not localhost, so not a secure context (no crypto.subtle), and every call,
            // the WebSocket and the writes included, comes from the page's own origin
            browser.driver.get("http://" + HeadlessChromium.OTHER_HOST + ":" + s.base.getPort() + "/");
            awaitAgents();
            assertEquals(false, browser.driver.executeScript("return window.isSecureContext"));
            sendAndAwait("alpha beta gamma delta");
            sendAndAwait("epsilon zeta eta theta");
            sendAndAwait("iota kappa lambda mu");
            browser.await(d -> browser.byId("summary-ref").getAttribute("class").contains("ok"),
                    "summary_ref checked by the page's own SHA-256");

            browser.driver.findElement(By.cssSelector(".tab[data-view=agents]")).click();
            browser.await(d -> "planner".equals(browser.byId("agent-id").getAttribute("value")), "editor filled");
            browser.byId("agent-name").clear();
            browser.byId("agent-name").sendKeys("Planner B");
            browser.byId("agent-save").click();
            browser.await(d -> browser.byId("agent-saved").getText().contains("saved planner"), "a write from the page");
        }
    }

    @Test
    void summaryRefCheckWithoutWebCryptoHashesAsTheSidecarDoes() throws Exception {
        try (TestSidecar s = echo(Map.of())) {
            openPage(s);
            // pages opened over plain http from another host have no crypto.subtle: the fallback must agree
            String text = "Earlier in this conversation:\n- Turns 1–2: äöü ✓ " + "long line ".repeat(20);
            Object hex = browser.driver.executeAsyncScript("""
                    const done = arguments[arguments.length - 1];
                    import('/playground/sha256.js').then(m => done(Array.from(m.sha256(new TextEncoder()
                        .encode(arguments[0])), b => b.toString(16).padStart(2, '0')).join('')));
                    """, text);
            assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8))), hex);
        }
    }

    @Test
    void aBusyConversationIsShownAsBusy() {
        try (TestSidecar s = echo(Map.of(SidecarConfig.ECHO_DELAY_MS, "100"))) {
            // another client's turn holds the conversation for about 3 s
            var other = s.http.sendAsync(s.request("/conversations/busy-1/messages")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"agent_id\":\"planner\",\"user_message\":\""
                            + "a ".repeat(30).strip() + "\"}")).build(), HttpResponse.BodyHandlers.discarding());
            browser.await(d -> s.get("/conversations/busy-1").statusCode() == 200, "the other turn started");
            openPage(s);
            browser.byId("conversation-input").sendKeys("busy-1", Keys.ENTER);
            browser.byId("message-input").sendKeys("me too", Keys.ENTER);
            WebElement error = browser.byId("chat-error");
            browser.await(d -> error.isDisplayed() && error.getText().contains("turn under way"),
                    "the sidecar's busy refusal is shown");
            assertFalse(other.isDone(), "refused while the other turn was still streaming");
            assertTrue(browser.byId("send-button").isEnabled(), "the page is ready for another try");
        }
    }

    @Test
    void conversationsAndEventsViewsFilterAndArchive() {
        try (TestSidecar s = echo(Map.of())) {
            s.post("/conversations/plan-1/messages", "{\"agent_id\":\"planner\",\"user_message\":\"make a plan\"}");
            s.post("/conversations/research-1/messages", "{\"agent_id\":\"researcher\",\"user_message\":\"look it up\"}");
            openPage(s);
            browser.driver.findElement(By.cssSelector(".tab[data-view=conversations]")).click();
            browser.await(d -> d.findElements(By.cssSelector("#conversations-rows tr")).size() == 2, "both listed");
            new Select(browser.byId("conversation-filter-agent")).selectByValue("researcher");
            browser.await(d -> conversationRows().equals(List.of("research-1")), "filtered by agent");
            new Select(browser.byId("conversation-filter-agent")).selectByValue("");
            browser.byId("conversation-filter-id").sendKeys("plan");
            browser.await(d -> conversationRows().equals(List.of("plan-1")), "filtered by id");
            browser.await(d -> !d.findElement(By.cssSelector("#conversations-rows tr td:nth-child(4)")).getText()
                    .equals("…"), "last activity shown");
            browser.screenshot("conversations");

            browser.driver.findElement(By.cssSelector(".tab[data-view=events]")).click();
            new Select(browser.byId("event-type")).selectByValue("ASSISTANT_MESSAGE");
            browser.await(d -> {
                List<WebElement> events = d.findElements(By.cssSelector("#events-list .event"));
                return events.size() == 2 && events.stream().allMatch(e -> "ASSISTANT_MESSAGE".equals(e.getAttribute("data-type")));
            }, "events filtered by type");
            browser.screenshot("events");

            browser.driver.findElement(By.cssSelector(".tab[data-view=conversations]")).click();
            browser.await(d -> conversationRows().equals(List.of("plan-1")), "listed again");
            browser.driver.findElement(By.cssSelector("#conversations-rows button[aria-label='Archive plan-1']")).click();
            browser.driver.switchTo().alert().accept();
            browser.await(d -> conversationRows().isEmpty(), "archived conversation leaves the listing");
            assertEquals(404, s.get("/conversations/plan-1").statusCode());
        }
    }

    @Test
    void eventsPageBackWithOlderEvents() {
        try (TestSidecar s = echo(Map.of())) {
            for (int i = 0; i < 55; i++) {
                assertEquals(200, s.post("/conversations/long-1/messages",
                        "{\"agent_id\":\"planner\",\"user_message\":\"turn " + i + "\"}").statusCode());
            }
            openPage(s);
            browser.driver.findElement(By.cssSelector(".tab[data-view=events]")).click();
            browser.await(d -> d.findElements(By.cssSelector("#events-list .event")).size() == 100, "first page");
            WebElement older = browser.byId("events-older");
            assertTrue(older.isDisplayed(), "more events to page back to");
            older.click();
            browser.await(d -> d.findElements(By.cssSelector("#events-list .event")).size() == 110, "older page added");
            assertFalse(older.isDisplayed(), "no more events");
            List<String> bodies = strings("return [...document.querySelectorAll('#events-list .event-body')]"
                    + ".map(e => e.textContent)");
            assertEquals("turn 54", bodies.get(1), "newest first");
            assertEquals("turn 0", bodies.getLast(), "the oldest event last");
        }
    }

    @Test
    void narrowScreensStackTheWindowPanelUnderTheChat() {
        try (TestSidecar s = echo(Map.of())) {
            browser.size(420, 900);
            openPage(s);
            sendAndAwait("small screen");
            WebElement chat = browser.driver.findElement(By.cssSelector(".chat-main"));
            WebElement side = browser.driver.findElement(By.cssSelector(".chat-side"));
            assertTrue(side.getLocation().getY() >= chat.getLocation().getY() + chat.getSize().getHeight(),
                    "window panel below the chat on a narrow screen");
            browser.screenshot("narrow");
        }
    }

    private TestSidecar echo(Map<String, String> env) {
        return TestSidecar.fromModel(dir, "echo", env);
    }

    private void openPage(TestSidecar s) {
        browser.driver.get(s.base.toString());
        awaitAgents();
    }

    private void awaitAgents() {
        browser.await(d -> !new Select(browser.byId("agent-select")).getOptions().isEmpty(), "agents loaded");
    }

    private void sendAndAwait(String message) {
        int before = browser.driver.findElements(By.cssSelector("#transcript .turn")).size();
        browser.byId("message-input").sendKeys(message, Keys.ENTER);
        awaitTurnDone();
        // the transcript and the bar are re-read from the sidecar after `done`
        browser.await(d -> d.findElements(By.cssSelector("#transcript .turn")).size() == before + 1
                && replyTexts().getLast().equals(message), "turn logged and shown");
    }

    private void awaitTurnDone() {
        browser.await(d -> d.findElements(By.cssSelector("#transcript .streaming")).isEmpty()
                && browser.byId("stop-button").getAttribute("disabled") != null, "turn done");
    }

    private List<String> replyTexts() {
        return strings("return [...document.querySelectorAll('#transcript .msg.assistant .text')].map(e => e.textContent)");
    }

    private List<String> conversationRows() {
        return strings("return [...document.querySelectorAll('#conversations-rows tr')].map(r => r.dataset.conversationId)");
    }

    /** Read in one script, so a list re-rendered meanwhile is read whole, before or after. */
    @SuppressWarnings("unchecked")
    private List<String> strings(String script) {
        return (List<String>) browser.driver.executeScript(script);
    }

    private int tokens(String part) {
        return Integer.parseInt(browser.driver.findElement(By.cssSelector("#window-bar [data-part=" + part + "]"))
                .getAttribute("data-tokens"));
    }

    /** The conversation's newest logged reply, or null while there is none. */
    private static JsonObject lastReply(TestSidecar s, String conversation) {
        HttpResponse<String> r = s.get("/conversations/" + conversation + "/events?type=ASSISTANT_MESSAGE&limit=1");
        if (r.statusCode() != 200) {
            return null;
        }
        var events = TestSidecar.json(r.body()).getJsonArray("events");
        return events.isEmpty() ? null : events.getJsonObject(0).getJsonObject("payload");
    }
}
