package web

import (
	"net/http"

	"github.com/dialogo-pa/dialogo/crm"
)

// conversationView is a conversation with its messages always listed.
type conversationView struct {
	crm.Conversation
	Messages []crm.Message `json:"messages"`
}

func viewConversation(c crm.Conversation) conversationView {
	ms := c.Messages
	if ms == nil {
		ms = []crm.Message{}
	}
	return conversationView{Conversation: c, Messages: ms}
}

// listConversations is the inbox: the tenant's conversations, newest first,
// filtered; the cursor is the last id seen, passed back as before.
func (s *Server) listConversations(w http.ResponseWriter, r *http.Request) error {
	q := crm.ConversationQuery{
		Status:  crm.Status(r.URL.Query().Get("status")),
		Channel: crm.Channel(r.URL.Query().Get("channel")),
		Tag:     r.URL.Query().Get("tag"),
	}
	var err error
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"team_id", &q.TeamID}, {"assignee_id", &q.AssigneeID}, {"contact_id", &q.ContactID}, {"before", &q.BeforeID}} {
		if *p.dst, err = queryID(r, p.name); err != nil {
			return err
		}
	}
	if q.Unassigned, err = queryBool(r, "unassigned"); err != nil {
		return err
	}
	if q.Limit, err = queryLimit(r, 50, 200); err != nil {
		return err
	}
	cs, err := s.store.Conversations(r.Context(), actorOf(r).TenantID, q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(cs, q.Limit, func(c crm.Conversation) int64 { return c.ID }))
}

// getConversation returns a conversation with all its messages, private notes included.
func (s *Server) getConversation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "conversation_id")
	if err != nil {
		return err
	}
	c, err := s.store.Conversation(r.Context(), actorOf(r).TenantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewConversation(c))
}

type assignRequest struct {
	AssigneeID *int64 `json:"assignee_id"`
	TeamID     *int64 `json:"team_id"`
}

// assignConversation gives a conversation to an operator, or with no assignee
// puts it back in its (or another) team's queue.
func (s *Server) assignConversation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "conversation_id")
	if err != nil {
		return err
	}
	var in assignRequest
	if err := decodeJSON(w, r, defaultBodyLimit, &in); err != nil {
		return err
	}
	c, err := s.store.Assign(r.Context(), actorOf(r), id, crm.Assignment{AssigneeID: in.AssigneeID, TeamID: in.TeamID})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewConversation(c))
}

func (s *Server) resolveConversation(w http.ResponseWriter, r *http.Request) error {
	return s.setStatus(w, r, true)
}

func (s *Server) reopenConversation(w http.ResponseWriter, r *http.Request) error {
	return s.setStatus(w, r, false)
}

func (s *Server) setStatus(w http.ResponseWriter, r *http.Request, resolve bool) error {
	id, err := pathID(r, "conversation_id")
	if err != nil {
		return err
	}
	c, err := s.store.SetStatus(r.Context(), actorOf(r), id, resolve)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewConversation(c))
}

type replyRequest struct {
	Text     string `json:"text"`
	Private  bool   `json:"private"`
	ClientID string `json:"client_id"`
}

// postMessage stores an operator's reply, to be sent on the conversation's
// channel, or a private note. A retry with the same client_id stores nothing new
// and returns the message stored the first time.
func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "conversation_id")
	if err != nil {
		return err
	}
	var in replyRequest
	if err := decodeJSON(w, r, defaultBodyLimit, &in); err != nil {
		return err
	}
	m, err := s.store.PostReply(r.Context(), actorOf(r), id, crm.Reply{Text: in.Text, Private: in.Private, ClientID: in.ClientID})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, m)
}
