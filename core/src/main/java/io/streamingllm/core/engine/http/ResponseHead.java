package io.streamingllm.core.engine.http;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** A response's status line and headers, with what they say about the body and the connection. */
record ResponseHead(int statusCode, HttpHeaders headers, boolean chunked, long contentLength, boolean keepAlive)
        implements HttpResponse.ResponseInfo {
    @Override
    public HttpClient.Version version() {
        return HttpClient.Version.HTTP_1_1;
    }

    static ResponseHead read(SocketConnection c) throws IOException {
        int[] budget = {SocketStreamingHttp.MAX_HEAD_BYTES};
        while (true) {
            String status = c.line(budget);
            boolean http11 = status.startsWith("HTTP/1.1 ");
            if (!http11 && !status.startsWith("HTTP/1.0 ") || status.length() < 12) {
                throw new IOException("not an HTTP/1.x status line: " + clip(status));
            }
            int code;
            try {
                code = Integer.parseInt(status.substring(9, 12));
            } catch (NumberFormatException e) {
                throw new IOException("not an HTTP/1.x status line: " + clip(status));
            }
            Map<String, List<String>> fields = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            for (String line = c.line(budget); !line.isEmpty(); line = c.line(budget)) {
                int colon = line.indexOf(':');
                if (colon <= 0) {
                    throw new IOException("malformed response header: " + clip(line));
                }
                fields.computeIfAbsent(line.substring(0, colon).trim(), k -> new ArrayList<>(1))
                        .add(line.substring(colon + 1).trim());
            }
            if (code >= 100 && code < 200) {
                continue; // interim (100 Continue, 103): the real response follows
            }
            HttpHeaders headers = HttpHeaders.of(fields, (a, b) -> true);
            boolean chunked = headers.allValues("Transfer-Encoding").stream()
                    .anyMatch(v -> v.toLowerCase(Locale.ROOT).contains("chunked"));
            long length = -1;
            if (!chunked && headers.firstValue("Content-Length").isPresent()) {
                try {
                    length = Long.parseLong(headers.firstValue("Content-Length").get());
                } catch (NumberFormatException e) {
                    throw new IOException("malformed Content-Length: " + clip(headers.firstValue("Content-Length").get()));
                }
            }
            if (code == 204 || code == 304) {
                length = 0;
            }
            boolean close = headers.allValues("Connection").stream()
                    .anyMatch(v -> v.toLowerCase(Locale.ROOT).contains("close"));
            return new ResponseHead(code, headers, chunked, length, http11 && !close && (chunked || length >= 0));
        }
    }

    private static String clip(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "…";
    }
}
