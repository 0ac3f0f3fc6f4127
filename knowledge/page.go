package knowledge

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNoSource is returned by SourcePage for a name that is neither a source
// of the tenant nor one of a shared knowledge base. It is an ErrNotFound.
var ErrNoSource = fmt.Errorf("%w: no such source", ErrNotFound)

// SourceContent is a source as the assistant knows it: what a citizen reads
// on the source's public page when the source has no address of its own.
type SourceContent struct {
	// TenantID is the tenant whose knowledge base holds the source: the one
	// asked for, or a shared tenant.
	TenantID  int64
	Name      string
	Title     string
	URL       string // the source's own address, empty for a file
	UpdatedAt time.Time
	// Chunks are the passages of the source, in the order of the document.
	Chunks []Chunk
}

// SourcePage returns the source called name (as it was ingested) with its
// passages, looking in the tenant's own knowledge base first and then in the
// shared ones, as Search does. It returns ErrNoSource when there is none.
//
// A passage that splitLong cut from a paragraph too long for one chunk
// starts by repeating the end of the passage before it, so that retrieval
// finds a sentence whole; here that repetition is dropped, since the passages
// are read one after the other.
func SourcePage(ctx context.Context, pool *pgxpool.Pool, tenantID int64, name string) (SourceContent, error) {
	// One statement, so that a source being re-ingested is seen either
	// before or after, never with the chunks of the other version.
	rows, err := pool.Query(ctx, `
		WITH source AS (
			SELECT s.tenant_id, s.id, s.title, s.url, s.updated_at
			  FROM knowledge_sources s
			 WHERE s.name = $2
			   AND s.tenant_id IN (SELECT $1::bigint UNION SELECT id FROM tenants WHERE knowledge_shared)
			 ORDER BY s.tenant_id <> $1, s.tenant_id
			 LIMIT 1
		)
		SELECT s.tenant_id, s.title, s.url, s.updated_at, c.title, c.section_path, c.text
		  FROM source s
		  LEFT JOIN knowledge_chunks c ON c.tenant_id = s.tenant_id AND c.source_id = s.id
		 ORDER BY c.ordinal`, tenantID, name)
	if err != nil {
		return SourceContent{}, fmt.Errorf("knowledge.SourcePage(%d, %q): %w", tenantID, name, err)
	}
	defer rows.Close()
	src := SourceContent{Name: name}
	found := false
	for rows.Next() {
		var chunkTitle, section, text *string // NULL for a source without chunks
		if err := rows.Scan(&src.TenantID, &src.Title, &src.URL, &src.UpdatedAt, &chunkTitle, &section, &text); err != nil {
			return SourceContent{}, fmt.Errorf("knowledge.SourcePage(%d, %q): %w", tenantID, name, err)
		}
		found = true
		if text != nil {
			src.Chunks = append(src.Chunks, Chunk{Title: *chunkTitle, SectionPath: *section, Text: *text})
		}
	}
	if err := rows.Err(); err != nil {
		return SourceContent{}, fmt.Errorf("knowledge.SourcePage(%d, %q): %w", tenantID, name, err)
	}
	if !found {
		return SourceContent{}, fmt.Errorf("knowledge.SourcePage(%d, %q): %w", tenantID, name, ErrNoSource)
	}
	for i := 1; i < len(src.Chunks); i++ {
		prev, cur := src.Chunks[i-1], &src.Chunks[i]
		if prev.SectionPath == cur.SectionPath {
			cur.Text = withoutOverlap(prev.Text, cur.Text)
		}
	}
	return src, nil
}

// minOverlap is the shortest repetition withoutOverlap drops. splitLong
// repeats up to overlap characters, from the start of a word, so a much
// shorter repetition is not splitLong's: a passage that happens to start
// with the last words of the one before is left alone.
const minOverlap = 40

// withoutOverlap returns cur without the start that repeats the end of prev,
// as splitLong makes it: the longest such start, of minOverlap to overlap
// characters, that begins a word in prev and is followed by a space or a new
// line in cur. It never drops the whole of cur.
func withoutOverlap(prev, cur string) string {
	for k := min(len(cur)-1, overlap*utf8.UTFMax); k > 0; k-- {
		if cur[k] != ' ' && cur[k] != '\n' {
			continue
		}
		head := cur[:k]
		n := utf8.RuneCountInString(head)
		if n < minOverlap {
			break
		}
		if n > overlap || !strings.HasSuffix(prev, head) {
			continue
		}
		if start := len(prev) - k; start > 0 && prev[start-1] != ' ' && prev[start-1] != '\n' {
			continue
		}
		return strings.TrimSpace(cur[k:])
	}
	return cur
}
