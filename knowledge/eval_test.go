package knowledge_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/internal/testdb"
	"github.com/dialogo-pa/dialogo/knowledge"
	"github.com/dialogo-pa/dialogo/knowledge/demo"
)

func TestScoreRankingsOnAHandMadeRanking(t *testing.T) {
	rankings := [][]string{
		{"a.md", "b.md"},                                         // hit at 1
		{"x.md", "y.md", "b.md", "a.md"},                         // first hit at 3
		{"x.md", "x.md", "x.md", "x.md", "x.md", "x.md", "a.md"}, // hit at 7
		{"x.md"}, // miss
		{},       // unanswerable, nothing returned
		{"x.md"}, // unanswerable, something returned
	}
	expected := [][]string{{"a.md"}, {"a.md", "b.md"}, {"a.md"}, {"a.md"}, nil, {}}
	m := knowledge.ScoreRankings(rankings, expected)
	require.Equal(t, 4, m.Answerable)
	require.Equal(t, 2, m.Unanswerable)
	require.Equal(t, 1, m.NoResults)
	require.InDelta(t, 1.0/4, m.RecallAt1, 1e-9)
	require.InDelta(t, 2.0/4, m.RecallAt5, 1e-9)
	require.InDelta(t, 3.0/4, m.RecallAt10, 1e-9)
	require.InDelta(t, (1+1.0/3+1.0/7)/4, m.MRR, 1e-9)

	require.Equal(t, knowledge.Metrics{}, knowledge.ScoreRankings(nil, nil))
}

func TestReadEvalSet(t *testing.T) {
	qs, err := knowledge.ReadEvalSet(strings.NewReader(`{"question": "Quanto costa la CIE?", "expected_sources": ["cie.md"]}

{"question": "Chi ha vinto il campionato?", "expected_sources": []}
`))
	require.NoError(t, err)
	require.Len(t, qs, 2)
	require.Equal(t, []string{"cie.md"}, qs[0].ExpectedSources)
	require.Empty(t, qs[1].ExpectedSources)

	_, err = knowledge.ReadEvalSet(strings.NewReader(`{"question": ""}`))
	require.Error(t, err)
	_, err = knowledge.ReadEvalSet(strings.NewReader(`not json`))
	require.Error(t, err)
}

func TestEvaluateOnTheDemoKnowledgeBase(t *testing.T) {
	pool := testdb.New(t)
	tenantID := newTenant(t, pool)
	rep, err := knowledge.IngestFS(t.Context(), pool, knowledge.LocalEmbedder{}, tenantID, demo.FS)
	require.NoError(t, err)
	require.Equal(t, 16, rep.Added)
	rep, err = knowledge.IngestFS(t.Context(), pool, knowledge.LocalEmbedder{}, tenantID, demo.FS)
	require.NoError(t, err)
	require.Equal(t, knowledge.DirReport{Unchanged: 16}, rep, "re-ingesting the demo base changes nothing")

	f, err := os.Open("eval/dev.jsonl")
	require.NoError(t, err)
	qs, err := knowledge.ReadEvalSet(f)
	f.Close()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(qs), 100)

	ev, err := knowledge.Evaluate(t.Context(), pool, knowledge.LocalEmbedder{}, tenantID, qs, 10)
	require.NoError(t, err)
	require.Equal(t, len(qs), ev.Questions)
	for _, m := range []knowledge.Metrics{ev.Hybrid, ev.FTS} {
		require.Equal(t, len(qs), m.Answerable+m.Unanswerable)
		require.Positive(t, m.Answerable)
		require.Positive(t, m.Unanswerable)
		require.LessOrEqual(t, m.NoResults, m.Unanswerable)
		for _, x := range []float64{m.RecallAt1, m.RecallAt5, m.RecallAt10, m.MRR} {
			require.GreaterOrEqual(t, x, 0.0)
			require.LessOrEqual(t, x, 1.0)
		}
		require.LessOrEqual(t, m.RecallAt1, m.RecallAt5)
		require.LessOrEqual(t, m.RecallAt5, m.RecallAt10)
		require.LessOrEqual(t, m.MRR, m.RecallAt10)
	}

	res, err := knowledge.SearchText(t.Context(), pool, tenantID, "carta d'identità elettronica", 5)
	require.NoError(t, err)
	require.NotEmpty(t, res)
	require.Equal(t, 1, res[0].TextRank)
}
