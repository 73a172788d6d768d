/**
 * The sidecar's state in PostgreSQL, for several replicas behind a load balancer
 * ({@code STREAMING_LLM_DATABASE_URL}; README "Running several replicas"). {@link
 * io.streamingllm.store.postgres.PostgresStore#open} connects (one line naming {@code host:port/database} when it
 * cannot, never the password), applies the versioned schema ({@code schema/V*.sql}, {@link
 * io.streamingllm.store.postgres.Migrations}) and seeds the agents; the result implements core's storage SPI.
 *
 * <table>
 *   <caption>Tables</caption>
 *   <tr><th>table</th><th>holds</th></tr>
 *   <tr><td>{@code conversations}</td><td>one row per live conversation (its listing)</td></tr>
 *   <tr><td>{@code events}</td><td>one row per event: {@code seq} (append order), id, conversation, type,
 *       visibility, timestamp in ns (the filters), and the event's whole JSON line</td></tr>
 *   <tr><td>{@code summaries}</td><td>one row per conversation: ref and markdown</td></tr>
 *   <tr><td>{@code agents}</td><td>each agent's whole markdown document; deleted ones marked, so seeding never
 *       brings them back</td></tr>
 *   <tr><td>{@code archived_events}, {@code archived_summaries}</td><td>archived conversations</td></tr>
 *   <tr><td>{@code store_schema}</td><td>the applied schema versions and their checksums</td></tr>
 * </table>
 *
 * <p>Threads: appends queue for the one group-commit thread ({@link io.streamingllm.store.postgres.GroupCommit});
 * reads take a pooled connection (HikariCP) per query, streams one per page; turn locks use one connection of
 * their own, outside the pool, calls serialised.
 */
package io.streamingllm.store.postgres;
