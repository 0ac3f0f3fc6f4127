-- +goose Up
-- Embedders, and the shared metropolitan knowledge base.
--
-- The vectors of knowledge_chunks come from the embedder chosen by configuration:
-- the local one by default, or a model behind an OpenAI-compatible or Ollama
-- server, each with a dimension of its own. Every embedder used is recorded in
-- knowledge_embedders; each chunk names the embedder of its vector, and the
-- embedding column has no fixed width. pgvector indexes vectors of one
-- dimension only, so each embedder has its own partial HNSW index over its
-- chunks, on the embedding cast to its width:
--     CREATE INDEX ... USING hnsw ((embedding::vector(N)) vector_cosine_ops)
--      WHERE embedder = '<name>'
-- and the vector search orders by embedding::vector(N) <=> $query with
-- embedder = '<name>', which that index serves. The cast also refuses a vector
-- of another width for that embedder. The index of a new embedder is made by
-- Dialogo (knowledge.UseEmbedder, with CREATE INDEX CONCURRENTLY); the index of
-- an embedder with no chunks left is dropped by the re-embedder.
--
-- Changing the embedder re-embeds the chunks in the background
-- (knowledge.RunReembedder); meanwhile the vector search sees the chunks already
-- re-embedded and the full-text search sees them all.

CREATE TABLE knowledge_embedders (
    name          text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,99}$'),
    dimensions    integer NOT NULL CHECK (dimensions BETWEEN 1 AND 4000),
    created_at    timestamptz NOT NULL DEFAULT now(),
    activated_at  timestamptz
);
COMMENT ON TABLE knowledge_embedders IS 'Every embedder whose vectors were stored in knowledge_chunks, with their dimension.';
COMMENT ON COLUMN knowledge_embedders.name IS 'The embedder and its model, e.g. local-ngram-v1, openai:text-embedding-3-small, ollama:nomic-embed-text. Its HNSW index is named after it.';
COMMENT ON COLUMN knowledge_embedders.activated_at IS 'When an instance last made it the current embedder, the one every chunk is re-embedded with. The latest wins.';

-- Every chunk so far was embedded by the local embedder.
INSERT INTO knowledge_embedders (name, dimensions, activated_at) VALUES ('local-ngram-v1', 384, now());

DROP INDEX knowledge_chunks_embedding;
ALTER TABLE knowledge_chunks
    ADD COLUMN embedder text NOT NULL DEFAULT 'local-ngram-v1' REFERENCES knowledge_embedders (name),
    ALTER COLUMN embedding TYPE vector;
ALTER TABLE knowledge_chunks ALTER COLUMN embedder DROP DEFAULT;
COMMENT ON COLUMN knowledge_chunks.embedder IS 'The embedder of the embedding; a chunk of an embedder other than the current one waits to be re-embedded.';
COMMENT ON COLUMN knowledge_chunks.embedding IS 'The embedding of title, section path and text, of the dimension of its embedder.';

-- The name is knowledge.indexName('local-ngram-v1'): a slug of the name and the
-- start of its SHA-256.
CREATE INDEX knowledge_chunks_embedding_local_ngram_v1_04f26602 ON knowledge_chunks
    USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE embedder = 'local-ngram-v1';
-- The re-embedder finds the chunks of old embedders by it.
CREATE INDEX knowledge_chunks_embedder ON knowledge_chunks (embedder);

ALTER TABLE tenants ADD COLUMN knowledge_shared boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN tenants.knowledge_shared IS 'The knowledge base of this ente (the Città Metropolitana) is searched by every ente''s assistant too, after the ente''s own answers.';

-- +goose Down
-- An older binary knows one embedder, of 384 dimensions. The sources with chunks
-- of another embedder are removed (their chunks with them, by the cascade), so
-- that ingesting them again with the older binary adds them back.
DELETE FROM knowledge_sources s
 WHERE EXISTS (SELECT 1 FROM knowledge_chunks c
                WHERE c.tenant_id = s.tenant_id AND c.source_id = s.id AND c.embedder <> 'local-ngram-v1');
-- +goose StatementBegin
DO $$
DECLARE
    idx regclass;
BEGIN
    FOR idx IN SELECT i.indexrelid::regclass
                 FROM pg_index i
                 JOIN pg_class c ON c.oid = i.indexrelid
                 JOIN pg_am am ON am.oid = c.relam
                WHERE i.indrelid = 'knowledge_chunks'::regclass AND am.amname = 'hnsw'
    LOOP
        EXECUTE format('DROP INDEX %s', idx);
    END LOOP;
END
$$;
-- +goose StatementEnd
DROP INDEX knowledge_chunks_embedder;
ALTER TABLE knowledge_chunks
    DROP COLUMN embedder,
    ALTER COLUMN embedding TYPE vector(384);
CREATE INDEX knowledge_chunks_embedding ON knowledge_chunks USING hnsw (embedding vector_cosine_ops);
COMMENT ON COLUMN knowledge_chunks.embedding IS 'The embedding of title, section path and text. The dimension is that of the embedder: changing embedder means a migration and re-embedding.';
DROP TABLE knowledge_embedders;
ALTER TABLE tenants DROP COLUMN knowledge_shared;
