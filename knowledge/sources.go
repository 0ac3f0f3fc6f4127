package knowledge

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SourceInfo is a source of a tenant's knowledge base as a knowledge editor
// lists it: what it is and how many passages the assistant may retrieve
// from it.
type SourceInfo struct {
	// Name identifies the source within its tenant (see Source.Name): what
	// Remove takes.
	Name   string
	Title  string
	URL    string
	Format Format
	// Chunks is the number of passages stored for the source.
	Chunks int
	// UpdatedAt is when the source was last added or replaced; ingesting an
	// unchanged source does not change it.
	UpdatedAt time.Time
}

// Sources lists the sources of the tenant's knowledge base, by name, with
// the number of chunks of each.
func Sources(ctx context.Context, pool *pgxpool.Pool, tenantID int64) ([]SourceInfo, error) {
	rows, err := pool.Query(ctx, `
		SELECT s.name, s.title, s.url, s.format, count(c.id)::int, s.updated_at
		  FROM knowledge_sources s
		  LEFT JOIN knowledge_chunks c ON c.tenant_id = s.tenant_id AND c.source_id = s.id
		 WHERE s.tenant_id = $1
		 GROUP BY s.tenant_id, s.id
		 ORDER BY s.name`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("knowledge.Sources(%d): %w", tenantID, err)
	}
	sources, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SourceInfo, error) {
		var s SourceInfo
		err := row.Scan(&s.Name, &s.Title, &s.URL, &s.Format, &s.Chunks, &s.UpdatedAt)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("knowledge.Sources(%d): %w", tenantID, err)
	}
	return sources, nil
}
