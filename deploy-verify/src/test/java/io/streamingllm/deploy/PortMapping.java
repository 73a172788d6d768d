package io.streamingllm.deploy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One published port: {@code published} is null when compose picks a random host port.
 * Parses compose's short syntax ({@code [[HOST_IP:][PUBLISHED]:]TARGET[/PROTOCOL]}, equal-length
 * ranges expanded) and long syntax ({@code target}, {@code published}, {@code host_ip}, {@code protocol}).
 */
public record PortMapping(String hostIp, Integer published, int target, String protocol) {

    private static final Pattern SHORT = Pattern.compile(
            "^(?:(?:(\\[[0-9a-fA-F:]+]|[0-9.]+):)?(\\d+(?:-\\d+)?)?:)?(\\d+(?:-\\d+)?)(?:/(tcp|udp|sctp))?$");

    public static List<PortMapping> parse(Object entry) {
        if (entry instanceof Number n) {
            return List.of(new PortMapping(null, null, port(n.toString(), n.toString()), "tcp"));
        }
        if (entry instanceof String s) {
            return parseShort(s.strip());
        }
        if (entry instanceof Map<?, ?> m) {
            Object target = m.get("target");
            if (target == null) {
                throw new ComposeException("port mapping " + m + " has no target");
            }
            String protocol = m.get("protocol") == null ? "tcp" : m.get("protocol").toString();
            String hostIp = m.get("host_ip") == null ? null : m.get("host_ip").toString();
            Object published = m.get("published");
            int t = port(target.toString(), m.toString());
            if (published == null || published.toString().isEmpty()) {
                return List.of(new PortMapping(hostIp, null, t, protocol));
            }
            int[] range = range(published.toString(), m.toString());
            if (range[0] != range[1]) {
                throw new ComposeException("port mapping " + m + ": a published range to one target port is not supported");
            }
            return List.of(new PortMapping(hostIp, range[0], t, protocol));
        }
        throw new ComposeException("port mapping " + entry + ": expected a number, a string or a mapping");
    }

    private static List<PortMapping> parseShort(String s) {
        Matcher m = SHORT.matcher(s);
        if (!m.matches()) {
            throw new ComposeException("invalid port mapping \"" + s + "\"");
        }
        String hostIp = m.group(1) == null ? null : m.group(1).replaceAll("^\\[|]$", "");
        String protocol = m.group(4) == null ? "tcp" : m.group(4);
        int[] targets = range(m.group(3), s);
        int[] published = m.group(2) == null ? null : range(m.group(2), s);
        if (published != null && published[1] - published[0] != targets[1] - targets[0]) {
            throw new ComposeException("port mapping \"" + s + "\": published and target ranges differ in length");
        }
        List<PortMapping> out = new ArrayList<>();
        for (int i = 0; i <= targets[1] - targets[0]; i++) {
            out.add(new PortMapping(hostIp, published == null ? null : published[0] + i, targets[0] + i, protocol));
        }
        return out;
    }

    private static int[] range(String spec, String whole) {
        int dash = spec.indexOf('-');
        int lo = port(dash < 0 ? spec : spec.substring(0, dash), whole);
        int hi = dash < 0 ? lo : port(spec.substring(dash + 1), whole);
        if (hi < lo) {
            throw new ComposeException("port mapping \"" + whole + "\": range " + spec + " is reversed");
        }
        return new int[] {lo, hi};
    }

    private static int port(String s, String whole) {
        try {
            int p = Integer.parseInt(s.strip());
            if (p < 1 || p > 65535) {
                throw new NumberFormatException();
            }
            return p;
        } catch (NumberFormatException e) {
            throw new ComposeException("port mapping \"" + whole + "\": \"" + s + "\" is not a port number");
        }
    }
}
