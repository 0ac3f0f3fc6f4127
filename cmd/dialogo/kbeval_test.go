package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKBEvalPrintsJSONAndLeavesNoTenantBehind(t *testing.T) {
	var out bytes.Buffer
	env := testEnv(t, &out)
	require.NoError(t, runKB(t.Context(), env, []string{"eval", "--json", "-latency", "500", "../../knowledge/eval/dev.jsonl"}))

	var got map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &got), out.String())
	require.EqualValues(t, 10, got["k"])
	questions := got["questions"].(float64)
	require.GreaterOrEqual(t, questions, 100.0)
	for _, method := range []string{"hybrid", "fts"} {
		m, ok := got[method].(map[string]any)
		require.True(t, ok, method)
		require.Equal(t, questions, m["answerable"].(float64)+m["unanswerable"].(float64))
		for _, key := range []string{"recall_at_1", "recall_at_5", "recall_at_10", "mrr"} {
			x, ok := m[key].(float64)
			require.True(t, ok, "%s.%s", method, key)
			require.GreaterOrEqual(t, x, 0.0)
			require.LessOrEqual(t, x, 1.0)
		}
	}
	lat, ok := got["latency"].(map[string]any)
	require.True(t, ok)
	require.EqualValues(t, 500, lat["chunks"])
	require.EqualValues(t, 200, lat["queries"])
	for _, key := range []string{"hybrid_p50_ms", "hybrid_p95_ms", "fts_p50_ms", "fts_p95_ms"} {
		require.Positive(t, lat[key].(float64), key)
	}

	// The throwaway tenants are gone.
	db, err := openDatabase(t.Context(), env, false)
	require.NoError(t, err)
	defer db.close(env.log)
	var n int
	require.NoError(t, db.pool.QueryRow(t.Context(),
		`SELECT count(*) FROM tenants WHERE slug LIKE 'kbeval-%' OR slug LIKE 'kblatency-%'`).Scan(&n))
	require.Zero(t, n)

	out.Reset()
	require.NoError(t, runKB(t.Context(), env, []string{"eval", "../../knowledge/eval/dev.jsonl"}))
	require.Contains(t, out.String(), "recall@10")
	require.Contains(t, out.String(), "hybrid")

	require.Error(t, runKB(t.Context(), env, []string{"eval"}))
}

func TestDemoLoadsTheDemoKnowledgeBaseOnce(t *testing.T) {
	var out bytes.Buffer
	env := testEnv(t, &out)
	require.NoError(t, runDemo(t.Context(), env, nil))
	db, err := openDatabase(t.Context(), env, false)
	require.NoError(t, err)
	defer db.close(env.log)
	count := func() (tenants, sources, chunks int) {
		require.NoError(t, db.pool.QueryRow(t.Context(), `
			SELECT count(DISTINCT s.tenant_id), count(*), (SELECT count(*) FROM knowledge_chunks)
			  FROM knowledge_sources s JOIN tenants t ON t.id = s.tenant_id
			 WHERE t.slug IN ('milano', 'sesto-san-giovanni', 'rho')`).Scan(&tenants, &sources, &chunks))
		return
	}
	tenants, sources, chunks := count()
	require.Equal(t, 3, tenants)
	require.Equal(t, 16*tenants, sources, "every demo Comune has the 16 demo pages")
	var cie int
	require.NoError(t, db.pool.QueryRow(t.Context(), `SELECT count(*) FROM knowledge_sources s JOIN tenants t ON t.id = s.tenant_id
		WHERE s.name = 'cie.md' AND t.slug IN ('milano', 'sesto-san-giovanni', 'rho')`).Scan(&cie))
	require.Equal(t, tenants, cie)
	var shared int
	require.NoError(t, db.pool.QueryRow(t.Context(), `
		SELECT count(*) FROM knowledge_sources s JOIN tenants t ON t.id = s.tenant_id
		 WHERE t.slug = 'citta-metropolitana-milano' AND t.knowledge_shared`).Scan(&shared))
	require.Equal(t, 3, shared, "the Città Metropolitana's shared pages")

	require.NoError(t, runDemo(t.Context(), env, nil))
	t2, s2, c2 := count()
	require.Equal(t, []int{tenants, sources, chunks}, []int{t2, s2, c2}, "running demo again changes nothing")
}
