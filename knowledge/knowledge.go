// Package knowledge is the assistant's knowledge base: documents (Markdown,
// plain text, HTML pages) of a tenant, split into chunks that keep headings
// with their paragraphs, embedded, and found again by a hybrid search that
// fuses pgvector's cosine ranking with PostgreSQL's Italian full-text search.
//
// The shared metropolitan knowledge base is owned by a tenant of its own, so
// everything here takes one tenant id and never reaches another tenant's rows.
package knowledge

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Format is how a source's body is written.
type Format string

// The formats Ingest understands.
const (
	Markdown Format = "markdown"
	Text     Format = "text"
	HTML     Format = "html"
	PDF      Format = "pdf"
)

// ErrUnknownFormat is returned for a source whose format is not one of the above.
var ErrUnknownFormat = errors.New("knowledge: unknown source format")

// FormatOf returns the format of a file by its extension, and false for files
// that are not ingested.
func FormatOf(path string) (Format, bool) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".md", ".markdown":
		return Markdown, true
	case ".txt":
		return Text, true
	case ".html", ".htm":
		return HTML, true
	case ".pdf":
		return PDF, true
	}
	return "", false
}

// Source is a document to ingest.
type Source struct {
	// Name identifies the source within its tenant: the file path relative to
	// the ingested folder, slash-separated, or the URL.
	Name string
	// URL is the link citizens are given to the source; it may be empty.
	URL string
	// Title is the document's title; when empty it is taken from the first
	// level-1 heading (Markdown, HTML), the HTML <title>, the opening heading
	// or the Title property of a PDF, or the name.
	Title  string
	Format Format
	// Body is the document as written: UTF-8 text for Markdown, text and
	// HTML, the file's bytes for a PDF (a Go string holds any bytes). The
	// content hash that makes re-ingestion a no-op is computed on it.
	Body string
}

// Outcome is what Ingest did with a source.
type Outcome int

// The outcomes of Ingest.
const (
	Unchanged Outcome = iota // the same content was already ingested
	Added                    // the source is new
	Replaced                 // the source changed and its chunks were replaced
)

func (o Outcome) String() string {
	switch o {
	case Unchanged:
		return "unchanged"
	case Added:
		return "added"
	case Replaced:
		return "replaced"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Split returns the title and chunks of a source, as Ingest stores them.
func Split(src Source) (title string, chunks []Chunk, err error) {
	title = src.Title
	switch src.Format {
	case Markdown:
		title, chunks = chunkMarkdown(title, src.Body)
	case Text:
		chunks = chunkText(title, src.Body)
	case HTML:
		htmlTitle, md, err := htmlToMarkdown(src.Body)
		if err != nil {
			return "", nil, fmt.Errorf("parsing HTML: %w", err)
		}
		if title == "" {
			title = htmlTitle
		}
		// The title heading is the title, not a section.
		title, chunks = chunkMarkdown(title, md)
	case PDF:
		pdfTitle, blocks, err := pdfBlocks(src.Body)
		if err != nil {
			return "", nil, err
		}
		if title == "" {
			title = pdfTitle
		}
		chunks = assemble(title, blocks)
	default:
		return "", nil, fmt.Errorf("%w: %q", ErrUnknownFormat, src.Format)
	}
	if title == "" {
		title = strings.TrimSuffix(filepath.Base(src.Name), filepath.Ext(src.Name))
	}
	for i := range chunks {
		chunks[i].Title = title
	}
	return title, chunks, nil
}

// Ingest stores a source in the tenant's knowledge base. A source whose content
// has not changed since it was last ingested is left alone, chunk ids and all;
// a changed one has all its chunks replaced in one transaction, so that a
// search sees either the old document or the new one, never a mix.
func Ingest(ctx context.Context, pool *pgxpool.Pool, emb Embedder, tenantID int64, src Source) (_ Outcome, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("knowledge.Ingest(%d, %q): %w", tenantID, src.Name, err)
		}
	}()
	if strings.TrimSpace(src.Name) == "" {
		return 0, errors.New("the source has no name")
	}
	hash := sha256.Sum256([]byte(string(src.Format) + "\x00" + src.Body))

	var stored []byte
	err = pool.QueryRow(ctx, `SELECT content_hash FROM knowledge_sources WHERE tenant_id = $1 AND name = $2`,
		tenantID, src.Name).Scan(&stored)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return 0, err
	case string(stored) == string(hash[:]):
		return Unchanged, nil
	}

	title, chunks, err := Split(src)
	if err != nil {
		return 0, err
	}
	// Embedding happens before the transaction opens, so that a slow embedder
	// (a remote model) does not hold a transaction open.
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		texts[i] = embeddingText(c)
	}
	e, err := describe(emb)
	if err != nil {
		return 0, err
	}
	vectors, err := emb.EmbedDocuments(ctx, texts)
	if err != nil {
		return 0, fmt.Errorf("embedding: %w", err)
	}
	if len(vectors) != len(chunks) {
		return 0, fmt.Errorf("embedding: %d vectors for %d chunks", len(vectors), len(chunks))
	}
	// Each chunk names its embedder, which must be recorded first.
	if err := registerEmbedder(ctx, pool, e); err != nil {
		return 0, err
	}

	outcome := Added
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var sourceID int64
		var inserted bool
		err := tx.QueryRow(ctx, `
			INSERT INTO knowledge_sources (tenant_id, name, title, url, format, content_hash)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (tenant_id, name) DO UPDATE
			   SET title = EXCLUDED.title, url = EXCLUDED.url, format = EXCLUDED.format,
			       content_hash = EXCLUDED.content_hash, updated_at = now()
			RETURNING id, xmax = 0`,
			tenantID, src.Name, title, src.URL, string(src.Format), hash[:]).Scan(&sourceID, &inserted)
		if err != nil {
			return err
		}
		if !inserted {
			outcome = Replaced
			if _, err := tx.Exec(ctx, `DELETE FROM knowledge_chunks WHERE tenant_id = $1 AND source_id = $2`, tenantID, sourceID); err != nil {
				return err
			}
		}
		rows := make([][]any, len(chunks))
		for i, c := range chunks {
			if len(vectors[i]) != e.dims {
				return fmt.Errorf("embedding: a vector of %d dimensions, the embedder %s has %d", len(vectors[i]), e.name, e.dims)
			}
			rows[i] = []any{tenantID, sourceID, i, c.Title, c.SectionPath, c.Text, src.URL, e.name, vectorLiteral(vectors[i])}
		}
		// COPY cannot cast text to vector, so the rows go through a batch.
		batch := &pgx.Batch{}
		for _, r := range rows {
			batch.Queue(`INSERT INTO knowledge_chunks (tenant_id, source_id, ordinal, title, section_path, text, url, embedder, embedding)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::vector)`, r...)
		}
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		return 0, err
	}
	return outcome, nil
}

// embeddingText is what is embedded for a chunk: its place in the document
// matters as much as its words ("Come richiederla" means little alone).
func embeddingText(c Chunk) string {
	return c.Title + "\n" + c.SectionPath + "\n" + c.Text
}

// vectorLiteral writes a vector in pgvector's text form, which avoids
// registering pgvector's types on every connection of the pool.
func vectorLiteral(v []float32) string {
	var b strings.Builder
	b.Grow(len(v) * 10)
	b.WriteByte('[')
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 32))
	}
	b.WriteByte(']')
	return b.String()
}

// DirReport counts what IngestDir did.
type DirReport struct {
	Added, Replaced, Unchanged, Removed int
}

// IngestDir ingests every Markdown, text and HTML file under dir, naming each
// source by its slash-separated path relative to dir prefixed with prefix
// (which may be empty), and removes the tenant's sources under that prefix
// whose files are gone. progress, when not nil, is called after each file.
func IngestDir(ctx context.Context, pool *pgxpool.Pool, emb Embedder, tenantID int64, dir, prefix string, progress func(done, total int)) (DirReport, error) {
	var rep DirReport
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if _, ok := FormatOf(path); ok && !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("knowledge.IngestDir(%s): %w", dir, err)
	}
	seen := make([]string, 0, len(files))
	for i, path := range files {
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return rep, err
		}
		name := prefix + filepath.ToSlash(rel)
		body, err := os.ReadFile(path)
		if err != nil {
			return rep, fmt.Errorf("knowledge.IngestDir(%s): %w", dir, err)
		}
		format, _ := FormatOf(path)
		out, err := Ingest(ctx, pool, emb, tenantID, Source{Name: name, Format: format, Body: string(body)})
		if err != nil {
			return rep, err
		}
		switch out {
		case Added:
			rep.Added++
		case Replaced:
			rep.Replaced++
		case Unchanged:
			rep.Unchanged++
		}
		seen = append(seen, name)
		if progress != nil {
			progress(i+1, len(files))
		}
	}
	// The prefix is matched literally: LIKE's wildcards in it are escaped.
	like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix) + "%"
	tag, err := pool.Exec(ctx, `
		DELETE FROM knowledge_sources
		 WHERE tenant_id = $1 AND name LIKE $2 AND NOT (name = ANY($3))
		   AND name NOT LIKE 'http://%' AND name NOT LIKE 'https://%'`,
		tenantID, like, seen)
	if err != nil {
		return rep, fmt.Errorf("knowledge.IngestDir(%s): removing vanished sources: %w", dir, err)
	}
	rep.Removed = int(tag.RowsAffected())
	return rep, nil
}

// Remove deletes a source and its chunks. It returns ErrNotFound when the
// tenant has no source of that name.
func Remove(ctx context.Context, pool *pgxpool.Pool, tenantID int64, name string) error {
	tag, err := pool.Exec(ctx, `DELETE FROM knowledge_sources WHERE tenant_id = $1 AND name = $2`, tenantID, name)
	if err != nil {
		return fmt.Errorf("knowledge.Remove(%d, %q): %w", tenantID, name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("knowledge.Remove(%d, %q): %w", tenantID, name, ErrNotFound)
	}
	return nil
}

// ErrNotFound is returned for a source that does not exist.
var ErrNotFound = errors.New("knowledge: not found")
