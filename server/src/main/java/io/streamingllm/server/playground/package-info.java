/**
 * The browser playground: static HTML/CSS/JS modules from the server jar (no build step, nothing from a CDN) served
 * at {@code GET /}, and the window budget the page draws its bar against.
 */
package io.streamingllm.server.playground;
