-- The sidecar's state shared by its replicas. Ids sort as the files sort them (byte order: COLLATE "C").

CREATE TABLE conversations (
    id          text COLLATE "C" PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per event; seq is the append order (one conversation is appended by one turn at a time), line the
-- event's whole JSON line as the files hold it, the other columns what queries filter and order by.
CREATE TABLE events (
    seq              bigserial PRIMARY KEY,
    id               text COLLATE "C" NOT NULL,
    conversation_id  text COLLATE "C" NOT NULL REFERENCES conversations (id),
    type             text NOT NULL,
    visibility       text NOT NULL,
    ts_nanos         bigint NOT NULL,
    line             text NOT NULL
);
CREATE INDEX events_conversation_seq ON events (conversation_id, seq);
CREATE INDEX events_conversation_id ON events (conversation_id, id);
CREATE INDEX events_id ON events (id);
CREATE INDEX events_ts ON events (ts_nanos);
CREATE INDEX events_type_conversation_seq ON events (type, conversation_id, seq);

CREATE TABLE summaries (
    conversation_id  text COLLATE "C" PRIMARY KEY,
    summary_ref      text NOT NULL,
    content          text NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Archived conversations (DELETE /conversations/{id}): out of every live query, kept.
CREATE TABLE archived_events (
    seq              bigint NOT NULL,
    id               text COLLATE "C" NOT NULL,
    conversation_id  text COLLATE "C" NOT NULL,
    type             text NOT NULL,
    visibility       text NOT NULL,
    ts_nanos         bigint NOT NULL,
    line             text NOT NULL,
    archived_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX archived_events_conversation ON archived_events (conversation_id, seq);

CREATE TABLE archived_summaries (
    conversation_id  text COLLATE "C" NOT NULL,
    summary_ref      text NOT NULL,
    content          text NOT NULL,
    archived_at      timestamptz NOT NULL DEFAULT now()
);

-- Agents as whole markdown documents (front matter + body), so that any front matter field round-trips.
-- A deleted agent keeps its row (deleted_at set): seeding from AGENTS_DIR at start-up never brings it back.
CREATE TABLE agents (
    id          text COLLATE "C" PRIMARY KEY,
    document    text,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
