package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/dialogo-pa/dialogo/crm"
)

// getAssistantSettings returns the ente's assistant settings: every staff
// member may see whether the assistant answers first and what citizens are
// told about office hours.
func (s *Server) getAssistantSettings(w http.ResponseWriter, r *http.Request) error {
	st, err := s.store.AssistantSettings(r.Context(), actorOf(r).TenantID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

type assistantSettingsRequest struct {
	Enabled      *bool  `json:"enabled"`
	OfficeHours  string `json:"office_hours"`
	Alternatives string `json:"contact_alternatives"`
}

// setAssistantSettings replaces the ente's assistant settings and returns them
// as stored (trimmed).
func (s *Server) setAssistantSettings(w http.ResponseWriter, r *http.Request) error {
	var in assistantSettingsRequest
	if err := decodeJSON(w, r, defaultBodyLimit, &in); err != nil {
		return err
	}
	// A missing switch must not turn the assistant off, nor on.
	if in.Enabled == nil {
		return crm.Invalid("enabled", "is required: true for the assistant to answer new conversations first, false for the queue")
	}
	a := actorOf(r)
	err := s.store.SetAssistantSettings(r.Context(), a, crm.AssistantSettings{
		Enabled: *in.Enabled, OfficeHours: in.OfficeHours, Alternatives: in.Alternatives,
	})
	if err != nil {
		return err
	}
	st, err := s.store.AssistantSettings(r.Context(), a.TenantID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

// answerKinds are the kinds of answer the assistant records, for filtering.
var answerKinds = []string{
	crm.AnswerKnowledge, crm.AnswerUnknown, crm.AnswerPersonal, crm.AnswerLogin,
	crm.AnswerHandoff, crm.AnswerGreeting, crm.AnswerThanks,
}

// listAssistantAnswers lists the assistant's answers with what it retrieved to
// write them, newest first, filtered; the cursor is the last id seen, passed
// back as before. Knowledge editors read it to see where the knowledge base
// falls short.
func (s *Server) listAssistantAnswers(w http.ResponseWriter, r *http.Request) error {
	q := crm.AnswerQuery{Kind: r.URL.Query().Get("kind")}
	if q.Kind != "" && !slices.Contains(answerKinds, q.Kind) {
		return crm.Invalid("kind", "must be one of "+strings.Join(answerKinds, ", "))
	}
	var err error
	if q.ConversationID, err = queryID(r, "conversation_id"); err != nil {
		return err
	}
	if q.Feedback, err = queryFeedback(r); err != nil {
		return err
	}
	if q.BeforeID, err = queryID(r, "before"); err != nil {
		return err
	}
	if q.Limit, err = queryLimit(r, 50, 200); err != nil {
		return err
	}
	as, err := s.store.AssistantAnswers(r.Context(), actorOf(r), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(as, q.Limit, func(a crm.AssistantAnswer) int64 { return a.ID }))
}

// queryFeedback reads the optional feedback filter: 1 for the answers a
// citizen found useful, -1 for those they did not; 0 when absent.
func queryFeedback(r *http.Request) (int, error) {
	v := r.URL.Query().Get("feedback")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || (n != 1 && n != -1) {
		return 0, crm.Invalid("feedback", "must be 1 (useful) or -1 (not useful)")
	}
	return n, nil
}

// handBack gives a conversation back to the assistant, which answers the
// citizen's next messages. A resolved conversation is a conflict: reopen it
// first.
func (s *Server) handBack(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "conversation_id")
	if err != nil {
		return err
	}
	c, err := s.store.HandBack(r.Context(), actorOf(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewConversation(c))
}

// getHandoff returns why and when the assistant last handed a conversation to
// an operator, with its summary of the conversation so far.
func (s *Server) getHandoff(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "conversation_id")
	if err != nil {
		return err
	}
	h, err := s.store.ConversationHandoff(r.Context(), actorOf(r).TenantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h)
}
