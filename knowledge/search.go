package knowledge

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// rrfK is reciprocal rank fusion's constant: a result ranked r by one method
// scores 1/(rrfK+r), so that the top ranks of both methods count and no single
// method's raw scores, which are not comparable, decide alone.
const rrfK = 60

// Result is a chunk found by Search.
type Result struct {
	ChunkID     int64
	Score       float64 // the fused score: higher is better, comparable within one search only
	VectorRank  int     // 1-based rank by cosine similarity, 0 if not among the top
	TextRank    int     // 1-based rank by full-text search, 0 if not among the top
	SourceName  string
	URL         string
	Title       string
	SectionPath string
	Text        string
}

// Search returns up to k chunks of the tenant's knowledge base for the query,
// best first. It takes the top k by cosine similarity of the embeddings (the
// HNSW index) and the top k by Italian full-text search (websearch syntax,
// ranked by ts_rank_cd), and fuses the two rankings by reciprocal rank fusion.
func Search(ctx context.Context, pool *pgxpool.Pool, emb Embedder, tenantID int64, query string, k int) ([]Result, error) {
	if k <= 0 || strings.TrimSpace(query) == "" {
		return nil, nil
	}
	vec, err := emb.EmbedQuery(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("knowledge.Search(%d): embedding the query: %w", tenantID, err)
	}
	// The full-text side ORs the query's words: websearch_to_tsquery ANDs them,
	// which finds nothing for a question with one word the documents lack. An
	// exact phrase or a "-" in the query keeps its meaning within each OR term.
	var results []Result
	err = pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		// HNSW filters by tenant after the index scan: without an iterative scan,
		// a small tenant sharing the table with large ones would get fewer than
		// k nearest chunks, or none (pgvector 0.8).
		if _, err := tx.Exec(ctx, `SET LOCAL hnsw.iterative_scan = strict_order`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
		WITH vector_hits AS (
			SELECT id, row_number() OVER (ORDER BY embedding <=> $2::vector) AS rank
			  FROM (SELECT id, embedding FROM knowledge_chunks
			         WHERE tenant_id = $1
			         ORDER BY embedding <=> $2::vector
			         LIMIT $4) AS nearest
		), query AS (
			SELECT websearch_to_tsquery('italian', $3) AS strict,
			       coalesce(nullif(array_to_string(ARRAY(
			           SELECT quote_literal(lexeme) FROM unnest(tsvector_to_array(to_tsvector('italian', $3))) AS lexeme
			       ), ' | '), '')::tsquery, ''::tsquery) AS loose
		), text_hits AS (
			SELECT id, row_number() OVER (ORDER BY
			           (tsv @@ query.strict) DESC,
			           ts_rank_cd(tsv, query.loose) DESC, id) AS rank
			  FROM knowledge_chunks, query
			 WHERE tenant_id = $1 AND tsv @@ query.loose
			 ORDER BY rank
			 LIMIT $4
		), fused AS (
			SELECT coalesce(v.id, t.id) AS id,
			       coalesce(1.0 / ($5 + v.rank), 0) + coalesce(1.0 / ($5 + t.rank), 0) AS score,
			       coalesce(v.rank, 0) AS vector_rank, coalesce(t.rank, 0) AS text_rank
			  FROM vector_hits v FULL JOIN text_hits t ON t.id = v.id
		)
		SELECT c.id, f.score::float8, f.vector_rank::int, f.text_rank::int,
		       s.name, c.url, c.title, c.section_path, c.text
		  FROM fused f
		  JOIN knowledge_chunks c ON c.tenant_id = $1 AND c.id = f.id
		  JOIN knowledge_sources s ON s.tenant_id = c.tenant_id AND s.id = c.source_id
		 ORDER BY f.score DESC, c.id
		 LIMIT $4`,
			tenantID, vectorLiteral(vec), query, k, rrfK)
		if err != nil {
			return err
		}
		results, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Result, error) {
			var r Result
			err := row.Scan(&r.ChunkID, &r.Score, &r.VectorRank, &r.TextRank, &r.SourceName, &r.URL, &r.Title, &r.SectionPath, &r.Text)
			return r, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("knowledge.Search(%d): %w", tenantID, err)
	}
	return results, nil
}
