-- +goose Up
-- The knowledge base: the documents an ente's assistant answers from, split into
-- chunks that carry both a full-text vector (Italian) and an embedding.
-- The shared metropolitan knowledge base is not a special case here: it is owned
-- by a tenant of its own (the Città Metropolitana), so every row still has a real
-- tenant_id first in its key, the same isolation rules hold, and searching "this
-- Comune plus the metropolitan base" is a search over two tenant ids.

CREATE TABLE knowledge_sources (
    tenant_id     bigint NOT NULL REFERENCES tenants(id),
    id            bigint GENERATED ALWAYS AS IDENTITY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 2000),
    title         text NOT NULL,
    url           text NOT NULL DEFAULT '',
    format        text NOT NULL CHECK (format IN ('markdown', 'text', 'html')),
    content_hash  bytea NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);
COMMENT ON TABLE knowledge_sources IS 'A document of a knowledge base: a file or a web page, ingested as a whole.';
COMMENT ON COLUMN knowledge_sources.name IS 'How the source was named at ingestion: the file path relative to the ingested folder (slash-separated), or the URL. Unique per tenant; evaluation sets refer to sources by it.';
COMMENT ON COLUMN knowledge_sources.content_hash IS 'SHA-256 of the format and body as ingested: an unchanged hash means re-ingestion does nothing.';

CREATE TABLE knowledge_chunks (
    tenant_id     bigint NOT NULL,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    source_id     bigint NOT NULL,
    ordinal       integer NOT NULL CHECK (ordinal >= 0),
    title         text NOT NULL,
    section_path  text NOT NULL DEFAULT '',
    text          text NOT NULL,
    url           text NOT NULL DEFAULT '',
    tsv           tsvector GENERATED ALWAYS AS (
                      setweight(to_tsvector('italian', title || ' ' || section_path), 'A') ||
                      setweight(to_tsvector('italian', text), 'B')) STORED,
    embedding     vector(384) NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, source_id, ordinal),
    FOREIGN KEY (tenant_id, source_id) REFERENCES knowledge_sources (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX knowledge_chunks_tsv ON knowledge_chunks USING gin (tsv);
CREATE INDEX knowledge_chunks_embedding ON knowledge_chunks USING hnsw (embedding vector_cosine_ops);
COMMENT ON TABLE knowledge_chunks IS 'A passage of a source, the unit of retrieval. A changed source has all its chunks replaced in one transaction.';
COMMENT ON COLUMN knowledge_chunks.section_path IS 'The headings above the passage, outermost first, joined by " > ".';
COMMENT ON COLUMN knowledge_chunks.tsv IS 'Italian full-text vector; title and section path weigh more (A) than the text (B).';
COMMENT ON COLUMN knowledge_chunks.embedding IS 'The embedding of title, section path and text. The dimension is that of the embedder: changing embedder means a migration and re-embedding.';

-- +goose Down
DROP TABLE knowledge_chunks;
DROP TABLE knowledge_sources;
