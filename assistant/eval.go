package assistant

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/dialogo-pa/dialogo/knowledge"
)

// EvalReport tells how the assistant's decision to answer or to say it does
// not know fares on an evaluation set: a question with expected sources
// should be answered from one of them; one without should not be answered.
type EvalReport struct {
	Answerable   int `json:"answerable"`
	Unanswerable int `json:"unanswerable"`
	// AnsweredRight: answerable questions answered from an expected source.
	AnsweredRight int `json:"answered_right"`
	// AnsweredWrong: answerable questions answered from another source.
	AnsweredWrong int `json:"answered_wrong"`
	// Abstained: answerable questions it said it does not know.
	Abstained int `json:"abstained"`
	// UnanswerableAnswered: questions outside the base it answered anyway.
	UnanswerableAnswered int `json:"unanswerable_answered"`
	// DecisionP50, DecisionP95: time to retrieve and decide, per question.
	DecisionP50 time.Duration `json:"decision_p50_ns"`
	DecisionP95 time.Duration `json:"decision_p95_ns"`
}

// Evaluate runs the assistant's retrieval and confidence on each question, as
// it would for a citizen of the ente, without writing anything.
func (a *Assistant) Evaluate(ctx context.Context, tenantID int64, qs []knowledge.EvalQuestion) (EvalReport, error) {
	var rep EvalReport
	var took []time.Duration
	for _, q := range qs {
		start := time.Now()
		lang := language(q.Question)
		r, err := a.retrieve(ctx, tenantID, lang, q.Question)
		if err != nil {
			return rep, err
		}
		took = append(took, time.Since(start))
		answered := r.best >= 0 && r.confidence >= a.cfg.MinConfidence
		if len(q.ExpectedSources) == 0 {
			rep.Unanswerable++
			if answered {
				rep.UnanswerableAnswered++
			}
			continue
		}
		rep.Answerable++
		switch {
		case !answered:
			rep.Abstained++
		case slices.Contains(q.ExpectedSources, r.candidates[r.best].SourceName):
			rep.AnsweredRight++
		default:
			rep.AnsweredWrong++
		}
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	if n := len(took); n > 0 {
		rep.DecisionP50 = took[n/2]
		rep.DecisionP95 = took[min(n-1, n*95/100)]
	}
	return rep, nil
}
