package io.streamingllm.core.recall;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.OffsetAttribute;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.QueryVisitor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashSet;
import java.util.Set;

/**
 * The snippet of a hit: about {@value #WIDTH} characters of the message around the first word the query matched
 * (found by analysing the stored text as it was indexed, so "lockers" matches the query's "locker"), whitespace
 * flattened, cut at word boundaries, with "…" where text was left out.
 */
final class Snippets {
    static final int WIDTH = 160;

    private Snippets() {
    }

    /** The indexed terms a query looks for (its prefix and wildcard parts have none: their snippets start the text). */
    static Set<String> terms(Query query) {
        Set<Term> terms = new HashSet<>();
        query.visit(QueryVisitor.termCollector(terms));
        Set<String> out = new HashSet<>();
        for (Term t : terms) {
            if (RecallIndex.TEXT.equals(t.field())) {
                out.add(t.text());
            }
        }
        return out;
    }

    static String of(String text, Set<String> terms, Analyzer analyzer) {
        int at = firstMatch(text, terms, analyzer);
        int start = Math.max(0, at - WIDTH / 3);
        int end = Math.min(text.length(), start + WIDTH);
        start = Math.max(0, Math.min(start, end - WIDTH));
        if (start > 0) {
            int space = text.indexOf(' ', start);
            start = space >= 0 && space < at ? space + 1 : start;
        }
        if (end < text.length()) {
            int space = text.lastIndexOf(' ', end);
            end = space > Math.max(start, at) ? space : end;
        }
        if (end > start && Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        if (start > 0 && start < text.length() && Character.isLowSurrogate(text.charAt(start))) {
            start++;
        }
        String s = text.substring(start, end).strip().replaceAll("\\s+", " ");
        return (start > 0 ? "…" : "") + s + (end < text.length() ? "…" : "");
    }

    private static int firstMatch(String text, Set<String> terms, Analyzer analyzer) {
        if (terms.isEmpty()) {
            return 0;
        }
        try (TokenStream ts = analyzer.tokenStream(RecallIndex.TEXT, text)) {
            CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
            OffsetAttribute offset = ts.addAttribute(OffsetAttribute.class);
            ts.reset();
            int at = -1;
            while (at < 0 && ts.incrementToken()) {
                if (terms.contains(term.toString())) {
                    at = offset.startOffset();
                }
            }
            ts.end();
            return Math.max(at, 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
