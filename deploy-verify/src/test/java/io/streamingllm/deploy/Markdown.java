package io.streamingllm.deploy;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Just enough CommonMark structure: ATX headings outside fenced code, sections, code spans and blocks. */
public final class Markdown {
    public record Heading(int level, String text, int line) {
    }

    private static final Pattern ATX = Pattern.compile("^ {0,3}(#{1,6})(?:[ \\t]+(.*?))?(?:[ \\t]+#+)?[ \\t]*$");
    private static final Pattern FENCE = Pattern.compile("^ {0,3}(`{3,}|~{3,})");
    private static final Pattern CODE_SPAN = Pattern.compile("(`+)(.+?)\\1");

    private final List<String> lines;

    public Markdown(String text) {
        this.lines = text.lines().toList();
    }

    public List<Heading> headings() {
        List<Heading> out = new ArrayList<>();
        String fence = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            Matcher f = FENCE.matcher(line);
            if (f.find()) {
                String marker = f.group(1);
                if (fence == null) {
                    fence = marker;
                } else if (marker.charAt(0) == fence.charAt(0) && marker.length() >= fence.length()) {
                    fence = null;
                }
                continue;
            }
            Matcher h = fence == null ? ATX.matcher(line) : null;
            if (h != null && h.matches()) {
                out.add(new Heading(h.group(1).length(), h.group(2) == null ? "" : h.group(2).strip(), i));
            }
        }
        return out;
    }

    /** The section under the first heading with this text (case-insensitive), up to the next heading of its level or higher; null if none. */
    public Markdown section(String title) {
        List<Heading> hs = headings();
        for (int i = 0; i < hs.size(); i++) {
            Heading h = hs.get(i);
            if (h.text().equalsIgnoreCase(title)) {
                int end = lines.size();
                for (int j = i + 1; j < hs.size(); j++) {
                    if (hs.get(j).level() <= h.level()) {
                        end = hs.get(j).line();
                        break;
                    }
                }
                return new Markdown(String.join("\n", lines.subList(h.line() + 1, end)));
            }
        }
        return null;
    }

    /** Contents of code spans and fenced code blocks. */
    public List<String> code() {
        List<String> out = new ArrayList<>();
        String fence = null;
        StringBuilder block = new StringBuilder();
        StringBuilder prose = new StringBuilder();
        for (String line : lines) {
            Matcher f = FENCE.matcher(line);
            if (f.find() && (fence == null || (f.group(1).charAt(0) == fence.charAt(0) && f.group(1).length() >= fence.length()))) {
                if (fence == null) {
                    fence = f.group(1);
                } else {
                    out.add(block.toString());
                    block.setLength(0);
                    fence = null;
                }
            } else if (fence != null) {
                block.append(line).append('\n');
            } else {
                prose.append(line).append('\n');
            }
        }
        Matcher span = CODE_SPAN.matcher(prose.toString().replace("\n", " "));
        while (span.find()) {
            out.add(span.group(2).strip());
        }
        return out;
    }

    public String text() {
        return String.join("\n", lines);
    }
}
