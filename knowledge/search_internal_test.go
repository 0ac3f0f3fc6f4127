package knowledge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/internal/testdb"
)

// TestSearchUsesTheEmbeddersIndex checks that the vector side of Search's
// query matches the partial expression index of its embedder: the same cast,
// a predicate the planner can prove, also with a generic plan. Both widths
// are checked: vector up to 2,000 dimensions, halfvec above. It does not run
// in parallel: building the wide index concurrently waits for the
// transactions under way, and deadlocks with another test's ANALYZE.
func TestSearchUsesTheEmbeddersIndex(t *testing.T) {
	pool := testdb.New(t)
	ctx := t.Context()
	wide := embedderInfo{name: "test-wide-" + randomHex(), dims: 2500}
	require.NoError(t, prepare(ctx, pool, wide, false))
	for _, e := range []embedderInfo{{name: LocalName, dims: LocalDimensions}, wide} {
		t.Run(e.name, func(t *testing.T) {
			plan := explain(t, pool, vectorSQL(e, "$3"), []int64{1, 2}, vectorLiteral(make([]float32, e.dims)), 10)
			require.Contains(t, plan, "Index Scan using "+indexName(e.name), plan)
		})
	}
}

// explain returns the generic plan of sql when the planner may use neither a
// sequential scan, nor a bitmap scan, nor a sort: only the HNSW index gives
// the order of the vector side then.
func explain(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) string {
	t.Helper()
	var plan strings.Builder
	err := pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
		for _, set := range []string{"enable_seqscan = off", "enable_bitmapscan = off", "enable_sort = off", "plan_cache_mode = force_generic_plan"} {
			if _, err := tx.Exec(t.Context(), `SET LOCAL `+set); err != nil {
				return err
			}
		}
		rows, err := tx.Query(t.Context(), `EXPLAIN `+sql, args...)
		if err != nil {
			return err
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		plan.WriteString(strings.Join(lines, "\n"))
		return err
	})
	require.NoError(t, err)
	return plan.String()
}

func randomHex() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func looseQueryOf(t *testing.T, pool *pgxpool.Pool, tenants []int64, question string) string {
	t.Helper()
	var q string
	err := pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
		var err error
		q, err = looseQuery(t.Context(), tx, tenants, question)
		return err
	})
	require.NoError(t, err)
	return q
}

func TestTheLooseQueryLeavesOutVeryCommonWordsOnlyOnALargeBase(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := t.Context()
	newTenant := func() int64 {
		var id int64
		require.NoError(t, pool.QueryRow(ctx, `INSERT INTO tenants (slug, name, fiscal_code) VALUES ($1, 'Comune di Prova', '01199250158') RETURNING id`,
			"loose-"+randomHex()).Scan(&id))
		return id
	}
	small, large := newTenant(), newTenant()
	_, err := Ingest(ctx, pool, LocalEmbedder{}, small, Source{Name: "tari.md", Format: Markdown,
		Body: "# TARI\n\nLa tassa sui rifiuti si paga in due rate. Le zanzare tigre sono un'altra storia."})
	require.NoError(t, err)
	// Every chunk of the large base speaks of the TARI; one of the zanzare.
	var body strings.Builder
	body.WriteString("# Archivio\n\n")
	for i := range looseBudget + 500 {
		fmt.Fprintf(&body, "## Pratica %d\n\nTARI e rifiuti: avviso numero %d.\n\n", i, i)
	}
	body.WriteString("## Disinfestazione\n\nLe zanzare tigre si combattono in estate.\n\n")
	_, err = Ingest(ctx, pool, LocalEmbedder{}, large, Source{Name: "archivio.md", Format: Markdown, Body: body.String()})
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `ANALYZE knowledge_chunks`)
	require.NoError(t, err)

	const question = "zanzare e TARI"
	require.Equal(t, "'tar' | 'zanz'", looseQueryOf(t, pool, []int64{small}, question), "a small base keeps every word")
	require.Equal(t, "'zanz'", looseQueryOf(t, pool, []int64{large}, question), "a large one leaves out the word of every chunk")
	require.Equal(t, "'zanz'", looseQueryOf(t, pool, []int64{small, large}, question), "the scope is every tenant searched")

	res, err := Search(ctx, pool, LocalEmbedder{}, large, "zanzare tigre in estate", 5)
	require.NoError(t, err)
	require.NotEmpty(t, res)
	require.Equal(t, "Disinfestazione", res[0].SectionPath)
}

// TestSearchCapsWhatTheFullTextSideRanks checks, in the executed plan, that
// the full-text side of a search on a large base ranks at most
// textCandidates chunks, however many have all the words.
func TestSearchCapsWhatTheFullTextSideRanks(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	var tenant int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO tenants (slug, name, fiscal_code) VALUES ($1, 'Comune di Prova', '01199250158') RETURNING id`,
		"cap-"+randomHex()).Scan(&tenant))
	var body strings.Builder
	body.WriteString("# Archivio\n\n")
	for i := range 3 * textCandidates {
		fmt.Fprintf(&body, "## Pratica %d\n\nCarta d'identità rinnovata: pratica numero %d.\n\n", i, i)
	}
	_, err := Ingest(ctx, pool, LocalEmbedder{}, tenant, Source{Name: "archivio.md", Format: Markdown, Body: body.String()})
	require.NoError(t, err)

	var plan []string
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		loose, err := looseQuery(ctx, tx, []int64{tenant}, "carta d'identità")
		if err != nil {
			return err
		}
		vec, _ := LocalEmbedder{}.EmbedQuery(ctx, "carta d'identità")
		rows, err := tx.Query(ctx, `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, FORMAT TEXT) `+searchSQL(embedderInfo{name: LocalName, dims: LocalDimensions}),
			[]int64{tenant}, vectorLiteral(vec), "carta d'identità", 10, rrfK, tenant, loose, textCandidates, OwnAnswerSimilarity)
		if err != nil {
			return err
		}
		plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	require.NoError(t, err)
	// The sort by ts_rank_cd of the full-text candidates sees at most
	// textCandidates rows.
	found := false
	for i, line := range plan {
		if i > 0 && strings.Contains(line, "Sort Key:") && strings.Contains(line, "ts_rank_cd") {
			found = true
			m := regexp.MustCompile(`actual rows=(\d+)`).FindStringSubmatch(plan[i-1])
			require.NotNil(t, m, plan[i-1])
			rows, err := strconv.Atoi(m[1])
			require.NoError(t, err)
			require.LessOrEqual(t, rows, textCandidates, strings.Join(plan, "\n"))
			require.Positive(t, rows)
		}
	}
	require.True(t, found, strings.Join(plan, "\n"))
}
