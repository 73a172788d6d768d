package io.streamingllm.core.recall;

import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventStore;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.session.ConversationIndex;
import io.streamingllm.core.session.payload.AssistantMessage;
import io.streamingllm.core.session.payload.UserMessage;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.IntField;
import org.apache.lucene.document.KeywordField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DocValues;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.SortedNumericDocValues;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.MultiTerms;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.TermStates;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.index.TieredMergePolicy;
import org.apache.lucene.queryparser.classic.ParseException;
import org.apache.lucene.queryparser.classic.QueryParser;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.SortedSetSelector;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TermRangeQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TopScoreDocCollectorManager;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.NRTCachingDirectory;
import org.apache.lucene.util.BytesRef;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A Lucene index of every conversation's messages, one document per USER_MESSAGE and ASSISTANT_MESSAGE, ranked
 * by BM25 (Lucene's default similarity) over English-analysed text (stop words out, Porter stems). It backs the
 * search routes and the prompt's recall ({@link ConversationIndex}).
 *
 * <p>The log is the source of truth. The index is told of each append once it returned ({@link #appended}), so it
 * holds only durable events; it is committed every few seconds and at {@link #close}, so after a crash it may lag
 * the log, and it may be missing or deleted. {@link #catchUp} then brings it level in the background, reading the
 * log through its public API only: per conversation it compares the newest indexed event with the log's newest
 * message and indexes what is missing (it replaces documents by event id, so an event it meets twice is one
 * document; events appended live meanwhile are left to the live path). Meanwhile searches answer from what is
 * indexed and say so ({@link #indexing}). New documents become visible to searches by a refresh: before a search
 * route answers, before turns are read back by number, and otherwise once a second in the background; a recall
 * searches what is visible, so a turn becomes recallable within a second of its indexing, never on the turn's path.
 *
 * <p>Thread-safe. A failure to index an event is logged, never thrown at a turn: the next start-up catches up.
 */
public final class RecallIndex implements ConversationIndex, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RecallIndex.class.getName());
    static final String CONVERSATION = "conversation";
    static final String AGENT = "agent";
    static final String EVENT_ID = "event_id";
    static final String TURN = "turn";
    static final String ROLE = "role";
    static final String TEXT = "text";
    static final String TOKENS = "tokens";
    static final String FLAGS = "flags";
    private static final int COMPLETED = 1;
    private static final int CALLS_TOOLS = 2;
    private static final int CARRIES_RESULTS = 4;
    /** Distinct terms of a new message looked up: a long paste is not a thousand-clause query. */
    private static final int MAX_RECALL_TERMS = 64;
    /** Of those, the rarest in the index make the recall query. */
    static final int RECALL_QUERY_TERMS = 12;
    private static final long COMMIT_EVERY_MS = 5_000;
    private static final long REFRESH_EVERY_MS = 1_000;
    /** Segments up to this size, flushed or merged, are kept in memory (at most {@link #NRT_CACHE_MB} in all). */
    private static final double NRT_CACHE_MERGE_MB = 4;
    private static final double NRT_CACHE_MB = 32;
    private static final int ADD_QUEUE = 4096;

    private final Path dir;
    private final Analyzer analyzer = new EnglishAnalyzer();
    private final Directory directory;
    private final IndexWriter writer;
    private final SearcherManager searchers;
    private final AtomicBoolean dirty = new AtomicBoolean();
    /** Per conversation, the newest turn whose reply was indexed but may not be visible to searches yet. */
    private final Map<String, Integer> pendingTurns = new ConcurrentHashMap<>();
    /** Per conversation, the newest turn whose reply is visible to searches (all before it are too). */
    private final Map<String, Integer> visibleTurns = new ConcurrentHashMap<>(32_768); // as EventLog's conversations
    private final Object refreshLock = new Object();
    private final AtomicLong changes = new AtomicLong();
    private final AtomicBoolean indexing = new AtomicBoolean();
    /** During a catch-up: the first event indexed live per conversation (the catch-up reads the log below it). */
    private final Map<String, String> liveSince = new ConcurrentHashMap<>();
    private final ScheduledExecutorService committer;
    /**
     * Adds appended messages off the turn's path, in order: analysing and adding two documents cost a turn more than
     * its log append, and nothing needs them before the next refresh. Bounded: a full queue adds on the caller.
     */
    private final ThreadPoolExecutor adder;
    private volatile Thread catchUpThread;
    private volatile boolean closed;

    /** Opens (or creates) the index in {@code dir}; an unreadable index is moved aside and rebuilt from the log. */
    public RecallIndex(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
            // the segment each refresh flushes, and small merges of them, stay in memory until a commit syncs them:
            // as files they were created and deleted every second, and on ext4 each creation scans the inodes freed
            // lately, CPU a burst of turns waited for (perf, docs/relay-bench.md)
            Directory d = new NRTCachingDirectory(FSDirectory.open(dir), NRT_CACHE_MERGE_MB, NRT_CACHE_MB);
            IndexWriter w;
            try {
                w = new IndexWriter(d, config().setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND));
            } catch (org.apache.lucene.index.CorruptIndexException | org.apache.lucene.index.IndexFormatTooOldException
                     | org.apache.lucene.index.IndexFormatTooNewException e) {
                LOG.log(Level.WARNING, "the index in " + dir + " cannot be read (" + e.getMessage()
                        + "); starting it afresh, it is rebuilt from the log");
                w = new IndexWriter(d, config().setOpenMode(IndexWriterConfig.OpenMode.CREATE));
            }
            this.directory = d;
            this.writer = w;
            this.searchers = new SearcherManager(w, null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the search index in " + dir + ": " + e.getMessage(), e);
        }
        this.committer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "recall-index-commit");
            t.setDaemon(true);
            return t;
        });
        this.adder = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(ADD_QUEUE),
                r -> {
                    Thread t = new Thread(r, "recall-index-add");
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.CallerRunsPolicy());
        committer.scheduleWithFixedDelay(this::commitIfChanged, COMMIT_EVERY_MS, COMMIT_EVERY_MS, TimeUnit.MILLISECONDS);
        // turns a chat recalls were indexed seconds before: a background refresh makes them visible off the turn path
        committer.scheduleWithFixedDelay(this::refreshIfChanged, REFRESH_EVERY_MS, REFRESH_EVERY_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * Fewer, larger segments than Lucene's default (at most 4 a tier instead of 10): a recall looks each word up in
     * every segment, and the index grows by small segments (one a refresh), so merging early keeps its lookups few.
     */
    private IndexWriterConfig config() {
        TieredMergePolicy merges = new TieredMergePolicy();
        merges.setSegmentsPerTier(4);
        return new IndexWriterConfig(analyzer).setMergePolicy(merges);
    }

    /** Whether a catch-up from the log is under way: searches answer from what is indexed so far. */
    public boolean indexing() {
        return indexing.get();
    }

    // ---------------------------------------------------------------- writing

    @Override
    public void appended(List<Event> events) {
        if (indexing.get()) {
            for (Event e : events) {
                if (indexed(e.type())) {
                    liveSince.putIfAbsent(e.conversationId(), e.id());
                }
            }
        }
        // outside a catch-up an event reaches the index once: a plain add, no delete-by-id to resolve at refresh
        boolean dedupe = indexing.get();
        Runnable add = () -> {
            try {
                for (Event e : events) {
                    add(e, dedupe);
                }
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "could not index events of " + (events.isEmpty() ? "?" : events.get(0).conversationId())
                        + " (" + e + "); the next start-up indexes them from the log");
            }
        };
        try {
            adder.execute(add);
        } catch (RejectedExecutionException closing) {
            add.run();
        }
    }

    /** Waits until the messages appended so far are added (not yet visible: a refresh makes them so). */
    private void drainAdds() {
        try {
            adder.submit(() -> { }).get();
        } catch (RejectedExecutionException closing) {
            // closing: close() waits for the queue itself
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public void removed(String conversationId) {
        // after the adds queued before it, so none of them brings the conversation back
        Runnable remove = () -> {
            try {
                writer.deleteDocuments(new Term(CONVERSATION, conversationId));
                pendingTurns.remove(conversationId);
                visibleTurns.remove(conversationId);
                changed();
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "could not remove " + conversationId + " from the index: " + e);
            }
        };
        try {
            adder.execute(remove);
        } catch (RejectedExecutionException closing) {
            remove.run();
        }
    }

    private static boolean indexed(EventType type) {
        return type == EventType.USER_MESSAGE || type == EventType.ASSISTANT_MESSAGE;
    }

    /** Indexes a message event; {@code dedupe} replaces a document of the same event id (a catch-up may meet one). */
    private void add(Event e, boolean dedupe) throws IOException {
        if (!indexed(e.type())) {
            return;
        }
        Document d = new Document();
        d.add(new KeywordField(CONVERSATION, e.conversationId(), Field.Store.YES));
        d.add(new KeywordField(EVENT_ID, e.id(), Field.Store.YES));
        String agent;
        int turn;
        int tokens;
        int flags = 0;
        String text;
        if (e.type() == EventType.USER_MESSAGE) {
            UserMessage u = UserMessage.from(e.payload());
            agent = u.agentId();
            turn = u.turn();
            tokens = u.tokens();
            text = u.fullText();
            flags |= u.toolResults().isEmpty() ? 0 : CARRIES_RESULTS;
            d.add(new KeywordField(ROLE, "user", Field.Store.YES));
        } else {
            AssistantMessage a = AssistantMessage.from(e.payload());
            agent = a.agentId();
            turn = a.turn();
            tokens = a.tokens();
            text = a.fullText();
            FinishReason r = a.finishReason();
            flags |= r == FinishReason.STOP || r == FinishReason.LENGTH || r == FinishReason.TOOL_CALLS ? COMPLETED : 0;
            flags |= a.toolCalls().isEmpty() ? 0 : CALLS_TOOLS;
            d.add(new KeywordField(ROLE, "assistant", Field.Store.YES));
        }
        if (agent != null) {
            d.add(new KeywordField(AGENT, agent, Field.Store.YES));
        }
        d.add(new IntField(TURN, turn, Field.Store.YES));
        d.add(new TextField(TEXT, text, Field.Store.YES));
        d.add(new StoredField(TOKENS, tokens));
        d.add(new StoredField(FLAGS, flags));
        if (dedupe) {
            writer.updateDocument(new Term(EVENT_ID, e.id()), d);
        } else {
            writer.addDocument(d);
        }
        if (e.type() == EventType.ASSISTANT_MESSAGE) {
            pendingTurns.merge(e.conversationId(), turn, Math::max);
        }
        changed();
    }

    private void changed() {
        dirty.set(true);
        changes.incrementAndGet();
    }

    private void commitIfChanged() {
        if (closed || changes.get() == 0) {
            return;
        }
        try {
            changes.set(0);
            writer.commit();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "committing the search index failed (it is caught up from the log at start-up): " + e);
        }
    }

    // ---------------------------------------------------------------- catching up with the log

    /**
     * Starts bringing the index level with {@code log} in the background: conversations the log no longer has are
     * removed, each other conversation's missing messages are indexed. Returns at once; {@link #indexing} is true
     * until it is done.
     */
    public void catchUp(EventStore log) {
        indexing.set(true);
        catchUpThread = Thread.ofVirtual().name("recall-index-catch-up").start(() -> {
            long started = System.nanoTime();
            int[] counts = new int[2];
            try {
                Set<String> live = new HashSet<>(log.conversationIds());
                for (String id : indexedConversations()) {
                    if (!live.contains(id)) {
                        writer.deleteDocuments(new Term(CONVERSATION, id));
                        changed();
                    }
                }
                for (String id : live) {
                    if (closed) {
                        return;
                    }
                    int n = catchUp(log, id);
                    counts[0] += n > 0 ? 1 : 0;
                    counts[1] += n;
                }
                writer.commit();
                changes.set(0);
                if (counts[1] > 0) {
                    LOG.log(Level.INFO, "search index caught up with the log: " + counts[1] + " message(s) of "
                            + counts[0] + " conversation(s) indexed in " + (System.nanoTime() - started) / 1_000_000 + " ms");
                }
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    LOG.log(Level.WARNING, "catching the search index up with the log failed: " + e);
                }
            } finally {
                liveSince.clear();
                indexing.set(false);
            }
        });
    }

    /**
     * Makes every message indexed so far visible to searches and recall now, as the background refresh does within a
     * second (tests and evaluations that run turns faster than people and models do).
     */
    public void refreshNow() {
        drainAdds();
        try {
            refresh();
        } catch (IOException e) {
            throw new UncheckedIOException("refreshing the search index failed: " + e.getMessage(), e);
        }
    }

    /** Waits for a catch-up under way (tests, benchmarks). */
    public void awaitCaughtUp() throws InterruptedException {
        Thread t = catchUpThread;
        if (t != null) {
            t.join();
        }
    }

    /** Indexes the messages of one conversation's log the index lacks; returns how many. */
    private int catchUp(EventStore log, String conversationId) throws IOException {
        String bound = liveSince.get(conversationId);
        String newestIndexed = newestIndexed(conversationId, bound);
        if (bound == null && newestIndexed != null) {
            String newestLogged = null;
            for (Event e : log.tail(conversationId, 16)) {
                if (indexed(e.type())) {
                    newestLogged = e.id();
                }
            }
            if (newestIndexed.equals(newestLogged)) {
                return 0; // level (the common start-up)
            }
        }
        int n = 0;
        boolean seen = newestIndexed == null;
        List<Event> missing = new ArrayList<>();
        try (Stream<Event> events = log.read(conversationId)) {
            for (Event e : (Iterable<Event>) events::iterator) {
                if (!indexed(e.type())) {
                    continue;
                }
                if (bound != null && e.id().compareTo(bound) >= 0) {
                    break; // indexed live
                }
                if (seen) {
                    missing.add(e);
                } else if (e.id().equals(newestIndexed)) {
                    seen = true;
                }
            }
        }
        if (!seen) {
            // the index holds an event the log does not: it belongs to another history; index this one afresh
            LOG.log(Level.WARNING, "the search index of " + conversationId + " does not match its log; reindexing it");
            Query stale = new TermQuery(new Term(CONVERSATION, conversationId));
            if (bound != null) {
                stale = new BooleanQuery.Builder().add(stale, Occur.FILTER)
                        .add(new TermRangeQuery(EVENT_ID, null, new BytesRef(bound), true, false), Occur.FILTER).build();
            }
            writer.deleteDocuments(stale);
            try (Stream<Event> events = log.read(conversationId)) {
                for (Event e : (Iterable<Event>) events::iterator) {
                    if (bound == null || e.id().compareTo(bound) < 0) {
                        add(e, true);
                        n++;
                    }
                }
            }
            return n;
        }
        for (Event e : missing) {
            add(e, true);
            n++;
        }
        return n;
    }

    /** The newest indexed message of a conversation (below {@code bound} when not null); null when none. */
    private String newestIndexed(String conversationId, String bound) throws IOException {
        Query q = new TermQuery(new Term(CONVERSATION, conversationId));
        if (bound != null) {
            q = new BooleanQuery.Builder().add(q, Occur.FILTER)
                    .add(new TermRangeQuery(EVENT_ID, null, new BytesRef(bound), true, false), Occur.FILTER).build();
        }
        IndexSearcher s = acquire();
        try {
            TopDocs top = s.search(q, 1, new Sort(KeywordField.newSortField(EVENT_ID, true, SortedSetSelector.Type.MAX)));
            return top.scoreDocs.length == 0 ? null : s.storedFields().document(top.scoreDocs[0].doc).get(EVENT_ID);
        } finally {
            searchers.release(s);
        }
    }

    private List<String> indexedConversations() throws IOException {
        List<String> ids = new ArrayList<>();
        IndexSearcher s = acquire();
        try {
            Terms terms = MultiTerms.getTerms(s.getIndexReader(), CONVERSATION);
            if (terms == null) {
                return ids;
            }
            TermsEnum te = terms.iterator();
            for (BytesRef t = te.next(); t != null; t = te.next()) {
                if (te.docFreq() > 0) {
                    ids.add(t.utf8ToString());
                }
            }
        } finally {
            searchers.release(s);
        }
        return ids;
    }

    // ---------------------------------------------------------------- searching

    /**
     * Messages matching {@code query} (Lucene's query syntax: words, "phrases", AND/OR/NOT, +must -mustNot,
     * prefix*), best first: in one conversation when {@code conversationId} is set, else across conversations, of
     * one agent when {@code agentId} is set.
     *
     * @throws BadQueryException when the query does not parse or expands to too many terms
     */
    public SearchResult search(String conversationId, String agentId, String query, int limit) {
        Query parsed;
        try {
            QueryParser parser = new QueryParser(TEXT, analyzer);
            parsed = parser.parse(query);
        } catch (ParseException | RuntimeException e) {
            throw new BadQueryException("the query does not parse: " + firstLine(e.getMessage()));
        }
        BooleanQuery.Builder b = new BooleanQuery.Builder().add(parsed, Occur.MUST);
        if (conversationId != null) {
            b.add(new TermQuery(new Term(CONVERSATION, conversationId)), Occur.FILTER);
        }
        if (agentId != null) {
            b.add(new TermQuery(new Term(AGENT, agentId)), Occur.FILTER);
        }
        boolean stillIndexing = indexing.get();
        try {
            IndexSearcher s = fresh();
            try {
                TopDocs top = s.search(b.build(), limit);
                Set<String> terms = Snippets.terms(parsed);
                StoredFields stored = s.storedFields();
                List<SearchHit> hits = new ArrayList<>(top.scoreDocs.length);
                for (ScoreDoc sd : top.scoreDocs) {
                    Document d = stored.document(sd.doc);
                    hits.add(new SearchHit(d.get(EVENT_ID), d.get(CONVERSATION), d.get(AGENT),
                            d.getField(TURN).numericValue().intValue(), d.get(ROLE),
                            Snippets.of(d.get(TEXT), terms, analyzer), sd.score));
                }
                return new SearchResult(hits, stillIndexing);
            } finally {
                searchers.release(s);
            }
        } catch (IndexSearcher.TooManyClauses e) {
            throw new BadQueryException("the query expands to too many terms; use fewer wildcards");
        } catch (IOException e) {
            throw new UncheckedIOException("searching the index failed: " + e.getMessage(), e);
        }
    }

    @Override
    public List<IndexedTurn> relevantTurns(String conversationId, String text, int beforeTurn, int max) {
        return relevant(conversationId, text, beforeTurn, max, false);
    }

    @Override
    public List<IndexedTurn> searchTurns(String conversationId, String text, int beforeTurn, int max) {
        return relevant(conversationId, text, beforeTurn, max, true);
    }

    private List<IndexedTurn> relevant(String conversationId, String text, int beforeTurn, int max, boolean upToDate) {
        if (beforeTurn <= 1) {
            return List.of();
        }
        Set<String> terms = analyse(text, MAX_RECALL_TERMS);
        if (terms.isEmpty()) {
            return List.of();
        }
        try {
            // a recall searches what the last refresh made visible (at most a second old): a refresh on the turn's path
            // writes a segment and opens its readers, which cost several times the query once every turn needed one
            // (a window of a turn or two evicts the turn just indexed); a turn evicted within the second is in the
            // summary meanwhile
            IndexSearcher s = upToDate ? seeing(conversationId, beforeTurn - 1) : searchers.acquire();
            try {
                // the rarest words carry nearly all of a message's BM25 weight; querying only those keeps a recall's
                // cost to their (short) postings instead of every common word's, which grow with the history
                record Word(TermQuery query, int docFreq) {
                }
                List<Word> found = new ArrayList<>();
                for (String t : terms) {
                    Term term = new Term(TEXT, t);
                    TermStates states = TermStates.build(s, term, true);
                    if (states.docFreq() > 0) {
                        found.add(new Word(new TermQuery(term, states), states.docFreq()));
                    }
                }
                if (found.isEmpty()) {
                    return List.of();
                }
                found.sort(java.util.Comparator.comparingInt(Word::docFreq));
                BooleanQuery.Builder words = new BooleanQuery.Builder();
                found.subList(0, Math.min(RECALL_QUERY_TERMS, found.size()))
                        .forEach(w -> words.add(w.query(), Occur.SHOULD));
                Query q = new BooleanQuery.Builder()
                        .add(words.build(), Occur.MUST)
                        .add(new TermQuery(new Term(CONVERSATION, conversationId)), Occur.FILTER)
                        .add(IntField.newRangeQuery(TURN, 1, beforeTurn - 1), Occur.FILTER)
                        .build();
                // counting every hit is not needed: top hits only, so whole blocks of postings can be skipped
                TopDocs top = s.search(q, new TopScoreDocCollectorManager(max * 2, max * 2));
                LinkedHashSet<Integer> ranked = new LinkedHashSet<>();
                List<LeafReaderContext> leaves = s.getIndexReader().leaves();
                for (ScoreDoc sd : top.scoreDocs) {
                    // the turn from doc values: a stored field would decompress a block per hit
                    LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(sd.doc, leaves));
                    SortedNumericDocValues turn = DocValues.getSortedNumeric(leaf.reader(), TURN);
                    if (turn.advanceExact(sd.doc - leaf.docBase)) {
                        ranked.add((int) turn.nextValue());
                    }
                    if (ranked.size() == max) {
                        break;
                    }
                }
                Map<Integer, IndexedTurn> byTurn = turns(s, conversationId,
                        IntField.newSetQuery(TURN, ranked.stream().mapToInt(Integer::intValue).toArray()), ranked.size());
                List<IndexedTurn> out = new ArrayList<>(ranked.size());
                for (int t : ranked) {
                    IndexedTurn it = byTurn.get(t);
                    if (it != null) {
                        out.add(it);
                    }
                }
                return out;
            } finally {
                searchers.release(s);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("recall search failed: " + e.getMessage(), e);
        }
    }

    @Override
    public List<IndexedTurn> turns(String conversationId, int fromTurn, int toTurn) {
        if (toTurn < fromTurn) {
            return List.of();
        }
        try {
            IndexSearcher s = seeing(conversationId, toTurn);
            try {
                return List.copyOf(turns(s, conversationId, IntField.newRangeQuery(TURN, fromTurn, toTurn),
                        toTurn - fromTurn + 1).values());
            } finally {
                searchers.release(s);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading turns from the index failed: " + e.getMessage(), e);
        }
    }

    /** The turns {@code turnFilter} selects, both sides joined, by number. */
    private Map<Integer, IndexedTurn> turns(IndexSearcher s, String conversationId, Query turnFilter, int turns)
            throws IOException {
        Query q = new BooleanQuery.Builder()
                .add(new TermQuery(new Term(CONVERSATION, conversationId)), Occur.FILTER)
                .add(turnFilter, Occur.FILTER)
                .build();
        TopDocs top = s.search(q, Math.max(1, turns * 4));
        StoredFields stored = s.storedFields();
        Map<Integer, Document[]> sides = new TreeMap<>();
        for (ScoreDoc sd : top.scoreDocs) {
            Document d = stored.document(sd.doc);
            int turn = d.getField(TURN).numericValue().intValue();
            Document[] pair = sides.computeIfAbsent(turn, k -> new Document[2]);
            int side = "user".equals(d.get(ROLE)) ? 0 : 1;
            if (pair[side] == null || pair[side].get(EVENT_ID).compareTo(d.get(EVENT_ID)) < 0) {
                pair[side] = d; // the newest of each side, should a log ever hold a turn number twice
            }
        }
        Map<Integer, IndexedTurn> out = new LinkedHashMap<>();
        sides.forEach((turn, pair) -> {
            Document u = pair[0];
            Document a = pair[1];
            if (u == null) {
                return;
            }
            int uFlags = u.getField(FLAGS).numericValue().intValue();
            int aFlags = a == null ? 0 : a.getField(FLAGS).numericValue().intValue();
            int tokens = u.getField(TOKENS).numericValue().intValue()
                    + (a == null ? 0 : a.getField(TOKENS).numericValue().intValue());
            out.put(turn, new IndexedTurn(turn, u.get(EVENT_ID), u.get(TEXT), a == null ? "" : a.get(TEXT), tokens,
                    (aFlags & COMPLETED) != 0, (aFlags & CALLS_TOOLS) != 0, (uFlags & CARRIES_RESULTS) != 0));
        });
        return out;
    }

    /** The distinct analysed terms of {@code text}, at most {@code max}, in order of first appearance. */
    private Set<String> analyse(String text, int max) {
        Set<String> terms = new LinkedHashSet<>();
        try (TokenStream ts = analyzer.tokenStream(TEXT, text)) {
            CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
            ts.reset();
            while (ts.incrementToken() && terms.size() < max) {
                terms.add(term.toString());
            }
            ts.end();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return terms;
    }

    /** A searcher that sees every event indexed so far. */
    private IndexSearcher fresh() throws IOException {
        drainAdds();
        // the flag is taken under the refresh lock, so a refresh that another thread took it for has finished
        // before this search: taken outside, a search right after a catch-up saw the flag down and the searcher
        // still without the last conversation (RecallIndexTest found 780 of 800 messages once)
        synchronized (refreshLock) {
            if (dirty.getAndSet(false)) {
                refresh();
            }
        }
        return searchers.acquire();
    }

    /**
     * A searcher that sees the conversation's turns up to {@code throughTurn}: refreshed only when one of them is not
     * visible yet. A turn's recall needs evicted turns only, indexed several turns earlier, so most turns search
     * without a refresh (which writes a segment and opens its readers: it cost more than the query itself).
     */
    private IndexSearcher seeing(String conversationId, int throughTurn) throws IOException {
        drainAdds();
        if (visibleTurns.getOrDefault(conversationId, 0) < throughTurn && pendingTurns.containsKey(conversationId)) {
            refresh();
        }
        return searchers.acquire();
    }

    /** Refreshes the searcher; the turns pending before it are visible after it. */
    private void refresh() throws IOException {
        synchronized (refreshLock) {
            Map<String, Integer> now = new HashMap<>();
            for (Map.Entry<String, Integer> e : pendingTurns.entrySet()) {
                now.put(e.getKey(), e.getValue());
                pendingTurns.remove(e.getKey(), e.getValue()); // a later turn added meanwhile stays pending
            }
            searchers.maybeRefreshBlocking();
            now.forEach((c, t) -> visibleTurns.merge(c, t, Math::max));
        }
    }

    private void refreshIfChanged() {
        synchronized (refreshLock) { // as in fresh(): the flag goes down with the refresh it stands for
            if (closed || !dirty.getAndSet(false)) {
                return;
            }
            try {
                refresh();
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "refreshing the search index failed: " + e);
            }
        }
    }

    private IndexSearcher acquire() throws IOException {
        return fresh();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }

    /** Commits what was indexed and closes the index; a catch-up under way stops where it is. */
    @Override
    public void close() {
        closed = true;
        // never interrupt a thread inside Lucene: an interrupt closes the channel it was using (the index's lock
        // among them), which fails the writer; a commit or refresh under way finishes first, queued adds too
        adder.shutdown();
        try {
            adder.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        committer.shutdown();
        try {
            committer.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Thread t = catchUpThread;
        if (t != null) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            searchers.close();
            writer.close(); // commits
            directory.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing the search index in " + dir + " failed: " + e);
        }
    }
}
