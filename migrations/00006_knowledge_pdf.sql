-- +goose Up
-- PDF files join Markdown, text and HTML as knowledge sources. Their text is
-- extracted at ingestion; content_hash is then the hash of the file's bytes.
ALTER TABLE knowledge_sources DROP CONSTRAINT knowledge_sources_format_check;
ALTER TABLE knowledge_sources ADD CONSTRAINT knowledge_sources_format_check
    CHECK (format IN ('markdown', 'text', 'html', 'pdf'));
COMMENT ON COLUMN knowledge_sources.format IS 'How the source is written: markdown, text, html or pdf (whose text is extracted page by page).';

-- +goose Down
-- An older binary cannot read PDF sources: they are removed (with their chunks,
-- by the cascade) so that the narrower constraint holds.
DELETE FROM knowledge_sources WHERE format = 'pdf';
ALTER TABLE knowledge_sources DROP CONSTRAINT knowledge_sources_format_check;
ALTER TABLE knowledge_sources ADD CONSTRAINT knowledge_sources_format_check
    CHECK (format IN ('markdown', 'text', 'html'));
COMMENT ON COLUMN knowledge_sources.format IS NULL;
