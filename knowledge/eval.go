package knowledge

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// EvalQuestion is one line of an evaluation set: a question and the sources
// that answer it, named as they were ingested. No sources means the knowledge
// base has no answer.
type EvalQuestion struct {
	Question        string   `json:"question"`
	ExpectedSources []string `json:"expected_sources"`
}

// ReadEvalSet reads an evaluation set in JSONL, one EvalQuestion a line; blank
// lines are skipped.
func ReadEvalSet(r io.Reader) ([]EvalQuestion, error) {
	var qs []EvalQuestion
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var q EvalQuestion
		if err := json.Unmarshal([]byte(text), &q); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if strings.TrimSpace(q.Question) == "" {
			return nil, fmt.Errorf("line %d: no question", line)
		}
		qs = append(qs, q)
	}
	return qs, sc.Err()
}

// Metrics are the retrieval figures of one method over an evaluation set.
// Recall@k is the share of answerable questions with a chunk of an expected
// source among the first k results; MRR is the mean of 1/rank of the first
// such chunk (0 when none is returned).
type Metrics struct {
	Answerable   int     `json:"answerable"`
	Unanswerable int     `json:"unanswerable"`
	RecallAt1    float64 `json:"recall_at_1"`
	RecallAt5    float64 `json:"recall_at_5"`
	RecallAt10   float64 `json:"recall_at_10"`
	MRR          float64 `json:"mrr"`
	// NoResults counts the unanswerable questions for which the method
	// returned nothing at all (the only "I don't know" signal retrieval gives:
	// fused scores are not comparable across queries, so no threshold applies).
	NoResults int `json:"unanswerable_no_results"`
}

// ScoreRankings computes Metrics from, per question, the source names of the
// ranked results (best first) and the expected sources.
func ScoreRankings(rankings [][]string, expected [][]string) Metrics {
	var m Metrics
	for i, ranked := range rankings {
		if len(expected[i]) == 0 {
			m.Unanswerable++
			if len(ranked) == 0 {
				m.NoResults++
			}
			continue
		}
		m.Answerable++
		want := make(map[string]bool, len(expected[i]))
		for _, s := range expected[i] {
			want[s] = true
		}
		for r, s := range ranked {
			if !want[s] {
				continue
			}
			rank := r + 1
			m.MRR += 1 / float64(rank)
			if rank <= 1 {
				m.RecallAt1++
			}
			if rank <= 5 {
				m.RecallAt5++
			}
			if rank <= 10 {
				m.RecallAt10++
			}
			break
		}
	}
	if m.Answerable > 0 {
		n := float64(m.Answerable)
		m.RecallAt1 /= n
		m.RecallAt5 /= n
		m.RecallAt10 /= n
		m.MRR /= n
	}
	return m
}

// EvalReport is the outcome of Evaluate.
type EvalReport struct {
	Questions int     `json:"questions"`
	K         int     `json:"k"`
	Hybrid    Metrics `json:"hybrid"`
	FTS       Metrics `json:"fts"`
}

// Evaluate runs every question through Search (hybrid) and SearchText (the
// plain full-text baseline), taking k results each, and scores both.
func Evaluate(ctx context.Context, pool *pgxpool.Pool, emb Embedder, tenantID int64, qs []EvalQuestion, k int) (EvalReport, error) {
	expected := make([][]string, len(qs))
	hybrid := make([][]string, len(qs))
	fts := make([][]string, len(qs))
	for i, q := range qs {
		expected[i] = q.ExpectedSources
		rs, err := Search(ctx, pool, emb, tenantID, q.Question, k)
		if err != nil {
			return EvalReport{}, err
		}
		hybrid[i] = sourceNames(rs)
		rs, err = SearchText(ctx, pool, tenantID, q.Question, k)
		if err != nil {
			return EvalReport{}, err
		}
		fts[i] = sourceNames(rs)
	}
	return EvalReport{
		Questions: len(qs), K: k,
		Hybrid: ScoreRankings(hybrid, expected),
		FTS:    ScoreRankings(fts, expected),
	}, nil
}

func sourceNames(rs []Result) []string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.SourceName
	}
	return names
}

// SearchText is the plain full-text baseline: the chunks matching
// websearch_to_tsquery('italian', query), ranked by ts_rank_cd, no vectors and
// no fusion. Score is the ts_rank_cd; TextRank the rank.
func SearchText(ctx context.Context, pool *pgxpool.Pool, tenantID int64, query string, k int) ([]Result, error) {
	if k <= 0 || strings.TrimSpace(query) == "" {
		return nil, nil
	}
	rows, err := pool.Query(ctx, `
		SELECT c.id, ts_rank_cd(c.tsv, q)::float8 AS score, s.name, c.url, c.title, c.section_path, c.text
		  FROM knowledge_chunks c
		  JOIN knowledge_sources s ON s.tenant_id = c.tenant_id AND s.id = c.source_id,
		       websearch_to_tsquery('italian', $2) AS q
		 WHERE c.tenant_id = $1 AND c.tsv @@ q
		 ORDER BY score DESC, c.id
		 LIMIT $3`, tenantID, query, k)
	if err != nil {
		return nil, fmt.Errorf("knowledge.SearchText(%d): %w", tenantID, err)
	}
	defer rows.Close()
	var results []Result
	for rows.Next() {
		var r Result
		if err := rows.Scan(&r.ChunkID, &r.Score, &r.SourceName, &r.URL, &r.Title, &r.SectionPath, &r.Text); err != nil {
			return nil, fmt.Errorf("knowledge.SearchText(%d): %w", tenantID, err)
		}
		r.TextRank = len(results) + 1
		results = append(results, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("knowledge.SearchText(%d): %w", tenantID, err)
	}
	return results, nil
}

// IngestFS ingests every .md, .txt and .html file at the root of fsys (such as
// the embedded demo knowledge base), each named by its file name.
func IngestFS(ctx context.Context, pool *pgxpool.Pool, emb Embedder, tenantID int64, fsys fs.FS) (DirReport, error) {
	var rep DirReport
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return rep, err
	}
	for _, e := range entries {
		format, ok := FormatOf(e.Name())
		if e.IsDir() || !ok {
			continue
		}
		body, err := fs.ReadFile(fsys, path.Join(".", e.Name()))
		if err != nil {
			return rep, err
		}
		out, err := Ingest(ctx, pool, emb, tenantID, Source{Name: e.Name(), Format: format, Body: string(body)})
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
	}
	return rep, nil
}
