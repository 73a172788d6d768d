package io.streamingllm.local.tokenizer;

import java.util.List;
import java.util.Map;

/** Typed access to GGUF metadata values as the GGUF reader exposes them (boxed scalars, primitive or String arrays). */
final class Metadata {
    private final Map<String, Object> values;

    Metadata(Map<String, Object> values) {
        this.values = values;
    }

    String string(String key, String fallback) {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof String s) {
            return s;
        }
        throw wrongType(key, "a string", v);
    }

    String requireString(String key) {
        String s = string(key, null);
        if (s == null) {
            throw new TokenizerException("GGUF metadata has no " + key);
        }
        return s;
    }

    int integer(String key, int fallback) {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            long l = ((Number) v).longValue();
            if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
                throw new TokenizerException("GGUF metadata " + key + " is out of range: " + l);
            }
            return (int) l;
        }
        throw wrongType(key, "an integer", v);
    }

    boolean bool(String key, boolean fallback) {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw wrongType(key, "a boolean", v);
    }

    String[] strings(String key) {
        Object v = values.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof String[] a) {
            return a;
        }
        if (v instanceof List<?> list && list.stream().allMatch(x -> x instanceof String)) {
            return list.toArray(String[]::new);
        }
        throw wrongType(key, "an array of strings", v);
    }

    float[] floats(String key) {
        Object v = values.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof float[] a) {
            return a;
        }
        if (v instanceof double[] a) {
            float[] out = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                out[i] = (float) a[i];
            }
            return out;
        }
        if (v instanceof List<?> list && list.stream().allMatch(x -> x instanceof Number)) {
            float[] out = new float[list.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = ((Number) list.get(i)).floatValue();
            }
            return out;
        }
        throw wrongType(key, "an array of floats", v);
    }

    int[] ints(String key) {
        Object v = values.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof int[] a) {
            return a;
        }
        if (v instanceof long[] a) {
            int[] out = new int[a.length];
            for (int i = 0; i < a.length; i++) {
                out[i] = Math.toIntExact(a[i]);
            }
            return out;
        }
        if (v instanceof List<?> list && list.stream().allMatch(x -> x instanceof Number)) {
            int[] out = new int[list.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = ((Number) list.get(i)).intValue();
            }
            return out;
        }
        throw wrongType(key, "an array of integers", v);
    }

    private static TokenizerException wrongType(String key, String expected, Object v) {
        return new TokenizerException("GGUF metadata " + key + " should be " + expected + " but is a "
                + v.getClass().getSimpleName());
    }
}
