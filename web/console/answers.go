package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
)

// The assistant's answers, newest first, each with the passages of the
// knowledge base it retrieved and cited: so that a knowledge editor sees why
// the assistant answered what it answered, and which pages to improve.

// answersPath is the page of the answers.
const answersPath = "/console/knowledge/answers"

// answersPerPage is how many answers a page shows.
const answersPerPage = 20

// answerKinds are the kinds of answer, in the order the page lists them.
var answerKinds = []string{crm.AnswerKnowledge, crm.AnswerUnknown, crm.AnswerHandoff, crm.AnswerPersonal,
	crm.AnswerLogin, crm.AnswerGreeting, crm.AnswerThanks}

// Feedback filters, as the page's query writes them.
const (
	feedbackUp   = "up"
	feedbackDown = "down"
)

// answersView is the page of the answers.
type answersView struct {
	layout
	Tabs      []sectionTab
	Kind      string
	Feedback  string
	Kinds     []option
	Feedbacks []option
	Answers   []answerView
	// Older is the address of the next page, of older answers; Newest, of
	// the first page, when this is not it.
	Older, Newest string
	Stats         answerStats
	// Desk: the reader may open the conversations (a supervisor).
	Desk bool
}

// answerView is an answer with what the page shows of it.
type answerView struct {
	crm.AssistantAnswer
	// Personal: an answer from the citizen's fascicolo, whose text is not
	// shown outside the conversation.
	Personal bool
	Passages []passageView
}

// passageView is a retrieved passage with its rank.
type passageView struct {
	crm.RetrievedPassage
	Rank int
}

// answerStats counts the answers of the last days by kind and by feedback.
type answerStats struct {
	Days       int
	Total      int
	Rows       []statsRow
	Up, Down   int
	None       int
	ByKind     chart
	ByFeedback chart
	Truncated  bool // more answers than statsLimit: the newest are counted
	Limit      int
}

type statsRow struct {
	Kind, Label    string
	Total          int
	Up, Down, None int
}

// Of the last statsDays days, at most statsLimit answers are counted, read
// statsPage at a time.
const (
	statsDays  = 7
	statsLimit = 1000
	statsPage  = 200
)

// answerFilter reads the page's filters from its query.
func answerFilter(r *http.Request) (kind, feedback string, before int64) {
	q := r.URL.Query()
	kind = q.Get("kind")
	if !slices.Contains(answerKinds, kind) {
		kind = ""
	}
	feedback = q.Get("feedback")
	if feedback != feedbackUp && feedback != feedbackDown {
		feedback = ""
	}
	before, err := strconv.ParseInt(q.Get("before"), 10, 64)
	if err != nil || before < 0 {
		before = 0
	}
	return kind, feedback, before
}

// answersURL is the address of a page of answers with the filters.
func answersURL(kind, feedback string, before int64) string {
	q := url.Values{}
	if kind != "" {
		q.Set("kind", kind)
	}
	if feedback != "" {
		q.Set("feedback", feedback)
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if len(q) == 0 {
		return answersPath
	}
	return answersPath + "?" + q.Encode()
}

// assistantAnswers is the page of the assistant's answers.
func (c *Console) assistantAnswers(w http.ResponseWriter, r *http.Request, rq *request) error {
	kind, feedback, before := answerFilter(r)
	q := crm.AnswerQuery{Kind: kind, BeforeID: before, Limit: answersPerPage + 1}
	switch feedback {
	case feedbackUp:
		q.Feedback = 1
	case feedbackDown:
		q.Feedback = -1
	}
	list, err := c.store.AssistantAnswers(r.Context(), rq.actor(), q)
	if err != nil {
		return err
	}
	v := answersView{
		layout:   c.newLayout(w, r, rq, texts.T(rq.lang, "answers.title"), "knowledge", "knowledge"),
		Tabs:     knowledgeTabs(rq, "answers"),
		Kind:     kind,
		Feedback: feedback,
		Desk:     rq.actor().Has(crm.RoleOperator, crm.RoleSupervisor),
	}
	if len(list) > answersPerPage {
		list = list[:answersPerPage]
		v.Older = answersURL(kind, feedback, list[len(list)-1].ID)
	}
	if before > 0 {
		v.Newest = answersURL(kind, feedback, 0)
	}
	for _, a := range list {
		av := answerView{AssistantAnswer: a, Personal: a.Kind == crm.AnswerPersonal}
		for i, p := range a.Retrieved {
			av.Passages = append(av.Passages, passageView{RetrievedPassage: p, Rank: i + 1})
		}
		v.Answers = append(v.Answers, av)
	}
	v.Kinds = []option{{Value: "", Label: texts.T(rq.lang, "answers.kind.any")}}
	for _, k := range answerKinds {
		v.Kinds = append(v.Kinds, option{Value: k, Label: texts.T(rq.lang, "answer.kind."+k), Selected: k == kind})
	}
	v.Feedbacks = []option{{Value: "", Label: texts.T(rq.lang, "answers.feedback.any")}}
	for _, f := range []string{feedbackUp, feedbackDown} {
		v.Feedbacks = append(v.Feedbacks, option{Value: f, Label: texts.T(rq.lang, "answers.feedback."+f), Selected: f == feedback})
	}
	if v.Stats, err = c.answerStats(r.Context(), rq); err != nil {
		return err
	}
	return c.render(w, http.StatusOK, rq.lang, "answers", "layout", v)
}

// answerStats counts the answers of the last statsDays days. crm has no
// count of answers, so they are read newest first, a page at a time, up to
// statsLimit.
func (c *Console) answerStats(ctx context.Context, rq *request) (answerStats, error) {
	s := answerStats{Days: statsDays, Limit: statsLimit}
	since := now().Add(-statsDays * 24 * time.Hour)
	rows := map[string]*statsRow{}
	for _, k := range answerKinds {
		rows[k] = &statsRow{Kind: k, Label: texts.T(rq.lang, "answer.kind."+k)}
	}
	var before int64
	for read := 0; ; {
		page, err := c.store.AssistantAnswers(ctx, rq.actor(), crm.AnswerQuery{BeforeID: before, Limit: statsPage})
		if err != nil {
			return s, err
		}
		for _, a := range page {
			if a.CreatedAt.Before(since) {
				page = nil // older ones follow: done
				break
			}
			if read == statsLimit {
				s.Truncated = true
				page = nil
				break
			}
			read++
			row := rows[a.Kind]
			if row == nil { // a kind newer than this console
				row = &statsRow{Kind: a.Kind, Label: a.Kind}
				rows[a.Kind] = row
			}
			row.Total++
			s.Total++
			switch a.Feedback {
			case 1:
				row.Up++
				s.Up++
			case -1:
				row.Down++
				s.Down++
			default:
				row.None++
				s.None++
			}
			before = a.ID
		}
		if len(page) < statsPage {
			break
		}
	}
	var kindBars, feedbackBars []chartItem
	for _, k := range answerKinds {
		s.Rows = append(s.Rows, *rows[k])
		kindBars = append(kindBars, chartItem{Label: rows[k].Label, Value: rows[k].Total})
		delete(rows, k)
	}
	for _, row := range rows {
		s.Rows = append(s.Rows, *row)
		kindBars = append(kindBars, chartItem{Label: row.Label, Value: row.Total})
	}
	feedbackBars = []chartItem{
		{Label: texts.T(rq.lang, "answers.feedback.up"), Value: s.Up},
		{Label: texts.T(rq.lang, "answers.feedback.down"), Value: s.Down},
		{Label: texts.T(rq.lang, "answers.feedback.none"), Value: s.None},
	}
	s.ByKind, s.ByFeedback = newBarChart(kindBars), newBarChart(feedbackBars)
	return s, nil
}
