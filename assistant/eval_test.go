package assistant_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/assistant"
	"github.com/dialogo-pa/dialogo/knowledge"
)

// The offline path on the demo knowledge base: on the development set, the
// assistant answers most answerable questions from the right page and few
// from a wrong one, and declines most questions outside the base. The bounds
// are loose on purpose: docs/BENCHMARKS.md has the figures.
func TestOnTheDemoBaseTheAssistantAnswersRightOrSaysItDoesNotKnow(t *testing.T) {
	t.Parallel()
	b := setup(t, assistant.Config{})
	f, err := os.Open("../knowledge/eval/dev.jsonl")
	require.NoError(t, err)
	defer f.Close()
	qs, err := knowledge.ReadEvalSet(f)
	require.NoError(t, err)
	rep, err := b.asst.Evaluate(b.ctx, b.tenant.ID, qs)
	require.NoError(t, err)
	t.Logf("%+v", rep)
	require.Equal(t, len(qs), rep.Answerable+rep.Unanswerable)
	require.Equal(t, rep.Answerable, rep.AnsweredRight+rep.AnsweredWrong+rep.Abstained)
	require.Greater(t, rep.AnsweredRight*10, rep.Answerable*6, "at least 60%% answered from the right page")
	require.Less(t, rep.AnsweredWrong*10, rep.Answerable, "under 10%% answered from a wrong page")
	require.Less(t, rep.UnanswerableAnswered*4, rep.Unanswerable, "under 25%% of the questions outside the base answered")
}
