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
	ChunkID    int64
	TenantID   int64   // the tenant whose knowledge base holds the chunk
	Shared     bool    // the chunk is of a shared knowledge base, not of the tenant searching
	Score      float64 // the fused score: higher is better, comparable within one search only
	VectorRank int     // 1-based rank by cosine similarity, 0 if not among the top
	TextRank   int     // 1-based rank by full-text search, 0 if not among the top
	// Similarity is the cosine similarity of the chunk's embedding to the
	// query's, comparable across the results of one search; 0 for a chunk
	// waiting to be re-embedded with the current embedder.
	Similarity  float64
	SourceName  string
	URL         string
	Title       string
	SectionPath string
	Text        string
}

// Tuning of Search's full-text side, which must stay cheap on a large base
// (see searchSQL).
const (
	// looseBudget bounds the loose (OR) query: the question's lexemes join it
	// rarest first, while the chunks estimated to contain them add up to at
	// most this many.
	looseBudget = 2000
	// textCandidates bounds the strict and the loose matches ranked by
	// ts_rank_cd, each.
	textCandidates = 200
	// OwnAnswerSimilarity is how close to the best result's similarity to the
	// question one of the tenant's own chunks must be to count as an answer,
	// which comes before the shared base's results. See Search.
	OwnAnswerSimilarity = 0.75
)

// Search returns up to k chunks for the query, best first, from the tenant's
// knowledge base and from the shared ones (SetShared): the Città
// Metropolitana's base, which every Comune's assistant also searches. It never
// reaches the chunks of another tenant whose base is not shared.
//
// It takes the top k by cosine similarity of the embeddings (the HNSW index of
// emb's chunks; chunks stored with another embedder, waiting to be
// re-embedded, are found by the full-text side only) and the top k by Italian
// full-text search, and fuses the two rankings by reciprocal rank fusion. The
// full-text side ranks first the chunks with every word of the question
// (websearch syntax: "an exact phrase", -excluded), then those with some of its
// rarer words, by ts_rank_cd.
//
// Both rankings are over the tenant's and the shared chunks together, so that
// their ranks say which are more relevant. The tenant's own answers come
// first: an own chunk whose similarity to the question is at least
// OwnAnswerSimilarity times the best result's counts as an answer, and goes
// before the shared results. So when both bases answer a question, the
// Comune's own passage comes first; when only the shared base does, the own
// chunks are not near enough to the question and the shared answer leads.
// Reciprocal rank fusion alone could not tell the two cases apart: ranks say
// which chunk is better, not by how much. Score stays the fused score.
func Search(ctx context.Context, pool *pgxpool.Pool, emb Embedder, tenantID int64, query string, k int) ([]Result, error) {
	if k <= 0 || strings.TrimSpace(query) == "" {
		return nil, nil
	}
	e, err := describe(emb)
	if err != nil {
		return nil, fmt.Errorf("knowledge.Search(%d): %w", tenantID, err)
	}
	vec, err := emb.EmbedQuery(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("knowledge.Search(%d): embedding the query: %w", tenantID, err)
	}
	if len(vec) != e.dims {
		return nil, fmt.Errorf("knowledge.Search(%d): the embedder %s gave a vector of %d dimensions, not %d", tenantID, e.name, len(vec), e.dims)
	}
	var results []Result
	err = pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		// HNSW filters by tenant after the index scan: without an iterative scan,
		// a small tenant sharing the table with large ones would get fewer than
		// k nearest chunks, or none (pgvector 0.8).
		var tenants []int64
		err := tx.QueryRow(ctx, `
			SELECT ARRAY(SELECT $1::bigint UNION SELECT id FROM tenants WHERE knowledge_shared)
			  FROM set_config('hnsw.iterative_scan', 'strict_order', true)`, tenantID).Scan(&tenants)
		if err != nil {
			return err
		}
		loose, err := looseQuery(ctx, tx, tenants, query)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, searchSQL(e), tenants, vectorLiteral(vec), query, k, rrfK,
			tenantID, loose, textCandidates, OwnAnswerSimilarity)
		if err != nil {
			return err
		}
		results, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Result, error) {
			var r Result
			err := row.Scan(&r.ChunkID, &r.TenantID, &r.Score, &r.VectorRank, &r.TextRank, &r.Similarity, &r.SourceName, &r.URL, &r.Title, &r.SectionPath, &r.Text)
			r.Shared = r.TenantID != tenantID
			return r, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("knowledge.Search(%d): %w", tenantID, err)
	}
	return results, nil
}

// SetShared makes the tenant's knowledge base shared, searched by every
// tenant beside its own, or no longer shared. It returns ErrNotFound for a
// tenant that does not exist.
func SetShared(ctx context.Context, pool *pgxpool.Pool, tenantID int64, shared bool) error {
	tag, err := pool.Exec(ctx, `UPDATE tenants SET knowledge_shared = $2 WHERE id = $1`, tenantID, shared)
	if err == nil && tag.RowsAffected() == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("knowledge.SetShared(%d, %t): %w", tenantID, shared, err)
	}
	return nil
}

// vectorSQL is the vector side of Search: the chunks nearest to the query
// vector ($2) among the embedder's chunks of the tenants $1, as many as the
// parameter limit says. The embedder's name and width are literals, so that
// the planner matches the embedder's partial expression index, also in a
// generic plan.
func vectorSQL(e embedderInfo, limit string) string {
	distance := `embedding::` + e.castType() + ` <=> $2::` + e.castType()
	return `SELECT id, tenant_id, ` + distance + ` AS distance
	          FROM knowledge_chunks
	         WHERE tenant_id = ANY($1) AND embedder = ` + e.literal() + `
	         ORDER BY ` + distance + `
	         LIMIT ` + limit
}

// looseQuery returns the OR of the question's lexemes that the full-text
// side matches when too few chunks have all of them, in tsquery syntax ("" for
// none). When the tenants searched have at most looseBudget chunks, it is all
// of them, as in a plain OR: there are few chunks to rank. Otherwise the
// lexemes join it rarest first while the chunks estimated to contain them add
// up to at most looseBudget. The estimate is a lexeme's share of all chunks,
// from the planner's statistics on tsv (the most common lexemes and their
// frequencies, kept by ANALYZE; a lexeme missing from them is at most as
// common as the least common of them), times the table's rows: it is the
// whole table that GIN and the heap visits go through, whatever the tenant.
// Very common words match too much to tell passages apart; they still count
// in the AND and in the ranking. Without statistics (a table never analysed)
// every lexeme joins.
func looseQuery(ctx context.Context, tx pgx.Tx, tenants []int64, question string) (string, error) {
	var q string
	err := tx.QueryRow(ctx, `
		WITH common AS MATERIALIZED (
			-- After the shares of the lexemes come the least and the greatest.
			SELECT s.most_common_elems::text::text[] AS lexemes, s.most_common_elem_freqs AS shares,
			       s.most_common_elem_freqs[cardinality(s.most_common_elem_freqs) - 1] AS rarest
			  FROM pg_stats s
			 WHERE s.schemaname = current_schema() AND s.tablename = 'knowledge_chunks' AND s.attname = 'tsv'
		), scope AS MATERIALIZED (
			SELECT count(*) > $3 AS large
			  FROM (SELECT 1 FROM knowledge_chunks WHERE tenant_id = ANY($1) LIMIT $3 + 1) AS s
		), estimates AS (
			SELECT l.lexeme,
			       coalesce(c.shares[array_position(c.lexemes, l.lexeme)], c.rarest, 0)
			         * greatest((SELECT reltuples FROM pg_class WHERE oid = 'knowledge_chunks'::regclass), 0) AS chunks
			  FROM unnest(tsvector_to_array(to_tsvector('italian', $2))) AS l(lexeme)
			  LEFT JOIN common c ON true
		)
		SELECT coalesce(string_agg(quote_literal(lexeme), ' | ' ORDER BY lexeme), '')
		  FROM (SELECT lexeme, sum(chunks) OVER (ORDER BY chunks, lexeme) AS running FROM estimates) AS e
		 WHERE running <= $3 OR NOT (SELECT large FROM scope)`, tenants, question, looseBudget).Scan(&q)
	return q, err
}

// searchSQL is Search's query: $1 tenant ids, $2 query vector, $3 question,
// $4 k, $5 rrfK, $6 the searching tenant, $7 the loose query (looseQuery),
// $8 textCandidates, $9 OwnAnswerSimilarity.
//
// The full-text side is built to stay cheap on a large base. Ranking every
// chunk that has any word of the question, as a plain OR does, costs a heap
// visit and a ts_rank_cd per chunk: on 100,000 synthetic chunks a question's
// OR matched 40% of them and took half a second. So it ranks:
//   - the chunks with all the words (websearch_to_tsquery, an AND), which GIN
//     finds fast however common the words are, up to textCandidates;
//   - only when those are fewer than k, the chunks with some of the words
//     that looseQuery keeps (all of them on a small base; the rarer ones on a
//     large one), also up to textCandidates.
//
// Either way the ranking is that of a plain OR: all-word matches first, then
// ts_rank_cd against the OR of all the words.
func searchSQL(e embedderInfo) string {
	return `
		WITH vector_hits AS (
			SELECT id, tenant_id, row_number() OVER (ORDER BY distance, id) AS rank
			  FROM (` + vectorSQL(e, "$4") + `) AS nearest
		), query AS MATERIALIZED (
			SELECT websearch_to_tsquery('italian', $3) AS strict,
			       tsvector_to_array(to_tsvector('italian', $3)) AS lexemes
		), loose AS MATERIALIZED (
			SELECT coalesce(nullif(array_to_string(ARRAY(
			           SELECT quote_literal(lexeme) FROM unnest(query.lexemes) AS lexeme), ' | '), '')::tsquery,
			       ''::tsquery) AS q
			  FROM query
		), selective AS MATERIALIZED (
			SELECT coalesce(nullif($7, '')::tsquery, ''::tsquery) AS q
		), strict_hits AS (
			SELECT c.id, c.tenant_id, c.tsv
			  FROM knowledge_chunks c, query
			 WHERE numnode(query.strict) > 0 AND c.tenant_id = ANY($1) AND c.tsv @@ query.strict
			 LIMIT $8
		), loose_hits AS (
			SELECT c.id, c.tenant_id, c.tsv
			  FROM knowledge_chunks c, query, selective
			 WHERE numnode(selective.q) > 0 AND (SELECT count(*) FROM strict_hits) < $4
			   AND c.tenant_id = ANY($1) AND c.tsv @@ selective.q
			   AND NOT (numnode(query.strict) > 0 AND c.tsv @@ query.strict)
			 LIMIT $8
		), text_hits AS (
			SELECT id, tenant_id, row_number() OVER (ORDER BY all_words DESC, ts_rank_cd(tsv, loose.q) DESC, id) AS rank
			  FROM (SELECT id, tenant_id, tsv, true AS all_words FROM strict_hits
			        UNION ALL
			        SELECT id, tenant_id, tsv, false FROM loose_hits) AS h, loose
			 ORDER BY rank
			 LIMIT $4
		), fused AS (
			SELECT coalesce(v.id, t.id) AS id, coalesce(v.tenant_id, t.tenant_id) AS tenant_id,
			       (coalesce(1.0 / ($5 + v.rank), 0) + coalesce(1.0 / ($5 + t.rank), 0))::float8 AS score,
			       coalesce(v.rank, 0) AS vector_rank, coalesce(t.rank, 0) AS text_rank
			  FROM vector_hits v FULL JOIN text_hits t ON t.tenant_id = v.tenant_id AND t.id = v.id
		), results AS (
			SELECT c.id, c.tenant_id, f.score, f.vector_rank, f.text_rank,
			       CASE WHEN c.embedder = ` + e.literal() + ` THEN 1 - (c.embedding <=> $2::vector) END AS similarity,
			       s.name, c.url, c.title, c.section_path, c.text
			  FROM fused f
			  JOIN knowledge_chunks c ON c.tenant_id = f.tenant_id AND c.id = f.id
			  JOIN knowledge_sources s ON s.tenant_id = c.tenant_id AND s.id = c.source_id
		)
		-- An own answer is raised to the best shared score, and goes first on a tie.
		SELECT id, tenant_id, score, vector_rank::int, text_rank::int, coalesce(similarity, 0)::float8,
		       name, url, title, section_path, text
		  FROM results
		 ORDER BY CASE WHEN tenant_id = $6 AND similarity >= $9::float8 * max(similarity) OVER ()
		               THEN greatest(score, max(score) FILTER (WHERE tenant_id <> $6) OVER ())
		               ELSE score END DESC,
		          tenant_id = $6 DESC, score DESC, id
		 LIMIT $4`
}
