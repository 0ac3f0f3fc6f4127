package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/knowledge"
)

// assistantConversation ingests a citizen's message that opens a conversation
// with the assistant.
func (e *env) assistantConversation(tn tenant, from crm.IdentityClaim, text string) crm.IngestResult {
	e.t.Helper()
	res, err := e.store.Ingest(context.Background(), tn.ID, crm.InboundMessage{
		Channel: crm.ChannelWebchat, ExternalID: "ext-" + randomHex(8), From: from, Text: text, TeamID: tn.team.ID,
		Status: crm.StatusAssistant,
	})
	require.NoError(e.t, err)
	require.Equal(e.t, int64(1), res.Message.Seq, "a new conversation")
	return res
}

// assistantReplies has the assistant answer the opening message of a
// conversation made by assistantConversation. The turn is built rather than
// claimed, because ClaimAssistantTurns claims the work of every ente and the
// package's tests share one database.
func (e *env) assistantReplies(tn tenant, in crm.IngestResult, reply crm.AssistantReply) crm.Message {
	e.t.Helper()
	turn := crm.AssistantTurn{TenantID: tn.ID, ConversationID: in.Message.ConversationID, ContactID: in.ContactID,
		Channel: in.Message.Channel, FromSeq: 0, UpToSeq: in.Message.Seq}
	m, err := e.store.CompleteAssistantTurn(context.Background(), turn, reply)
	require.NoError(e.t, err)
	return m
}

// addKnowledgeSource ingests a Markdown document into the ente's knowledge base.
func (e *env) addKnowledgeSource(tn tenant, name, body string) {
	e.t.Helper()
	_, err := knowledge.Ingest(context.Background(), e.pool, knowledge.LocalEmbedder{}, tn.ID,
		knowledge.Source{Name: name, Format: knowledge.Markdown, Body: body})
	require.NoError(e.t, err)
}

// knowledgeSources lists the names of the ente's knowledge sources.
func (e *env) knowledgeSources(tenantID int64) []string {
	e.t.Helper()
	ss, err := knowledge.Sources(context.Background(), e.pool, tenantID)
	require.NoError(e.t, err)
	names := []string{}
	for _, s := range ss {
		names = append(names, s.Name)
	}
	return names
}

// inSubtest runs f with c reporting its failures to the subtest's t.
func inSubtest(t *testing.T, c *client, f func()) {
	old := c.t
	c.t = t
	defer func() { c.t = old }()
	f()
}

func TestAssistantSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("settings")
	admin := e.login(tn.staff[crm.RoleAdmin])
	editor := e.login(tn.staff[crm.RoleKnowledgeEditor])
	const path = "/api/v1/assistant/settings"
	get := func() crm.AssistantSettings {
		t.Helper()
		res := editor.do("GET", path, nil)
		require.Equal(t, http.StatusOK, res.status, res.text())
		var st crm.AssistantSettings
		res.decode(&st)
		return st
	}
	conversationStatus := func(in crm.IngestResult) crm.Status {
		t.Helper()
		c, err := e.store.Conversation(t.Context(), tn.ID, in.Message.ConversationID)
		require.NoError(t, err)
		return c.Status
	}

	require.Equal(t, crm.AssistantSettings{}, get(), "the assistant is off until an admin turns it on")
	require.Equal(t, crm.StatusQueued, conversationStatus(e.citizenWrites(tn, visitor("Anna Magnani"), "Buongiorno")))

	res := admin.do("PUT", path, map[string]any{
		"enabled": true, "office_hours": "  dal lunedì al venerdì, 9:00-13:00 ", "contact_alternatives": "Tel. 011 123456",
	})
	require.Equal(t, http.StatusOK, res.status, res.text())
	want := crm.AssistantSettings{Enabled: true, OfficeHours: "dal lunedì al venerdì, 9:00-13:00", Alternatives: "Tel. 011 123456"}
	var got crm.AssistantSettings
	res.decode(&got)
	require.Equal(t, want, got, "the settings as stored, trimmed")
	require.Equal(t, want, get())
	require.Equal(t, crm.StatusAssistant, conversationStatus(e.citizenWrites(tn, visitor("Totò"), "Buongiorno")),
		"new conversations start with the assistant")

	e.login(tn.staff[crm.RoleSupervisor]).do("PUT", path, map[string]any{"enabled": false}).
		requireProblem(http.StatusForbidden, "")

	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		field  string
	}{
		{"enabled missing", map[string]any{"office_hours": "sempre"}, http.StatusUnprocessableEntity, "enabled"},
		{"enabled null", map[string]any{"enabled": nil}, http.StatusUnprocessableEntity, "enabled"},
		{"enabled not a boolean", map[string]any{"enabled": "no"}, http.StatusBadRequest, "enabled"},
		{"office hours too long", map[string]any{"enabled": false, "office_hours": strings.Repeat("o", 501)}, http.StatusUnprocessableEntity, "office_hours"},
		{"alternatives too long", map[string]any{"enabled": false, "contact_alternatives": strings.Repeat("a", 1001)}, http.StatusUnprocessableEntity, "contact_alternatives"},
		{"unknown field", map[string]any{"enabled": false, "language": "it"}, http.StatusBadRequest, "language"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inSubtest(t, admin, func() { admin.do("PUT", path, tc.body).requireProblem(tc.status, tc.field) })
		})
	}
	require.Equal(t, want, get(), "no refused request changed anything")
}

func TestTeamTopics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("topics")
	admin := e.login(tn.staff[crm.RoleAdmin])
	path := "/api/v1/teams/" + id(tn.team.ID) + "/topics"
	op := e.login(tn.staff[crm.RoleOperator])
	teams := func() []teamView {
		t.Helper()
		res := op.do("GET", "/api/v1/teams", nil)
		require.Equal(t, http.StatusOK, res.status, res.text())
		var p page[teamView]
		res.decode(&p)
		return p.Items
	}
	require.Len(t, teams(), 1)
	require.Equal(t, []string{}, teams()[0].Topics)

	res := admin.do("PUT", path, map[string]any{"topics": []string{" TARI ", "Rifiuti", "tari", ""}})
	require.Equal(t, http.StatusOK, res.status, res.text())
	var v teamView
	res.decode(&v)
	require.Equal(t, tn.team.ID, v.ID)
	require.Equal(t, []string{"tari", "rifiuti"}, v.Topics, "trimmed, lower-cased, without duplicates")
	require.Len(t, v.Members, len(crm.Roles))
	require.Equal(t, []string{"tari", "rifiuti"}, teams()[0].Topics)

	e.login(tn.staff[crm.RoleSupervisor]).do("PUT", path, map[string]any{"topics": []string{}}).
		requireProblem(http.StatusForbidden, "")
	admin.do("PUT", "/api/v1/teams/"+id(tn.team.ID+1_000_000)+"/topics", map[string]any{"topics": []string{"x"}}).
		requireProblem(http.StatusNotFound, "")
	admin.do("PUT", "/api/v1/teams/urp/topics", map[string]any{"topics": []string{"x"}}).
		requireProblem(http.StatusNotFound, "")

	for _, tc := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"topics missing", map[string]any{}, http.StatusUnprocessableEntity, "topics"},
		{"topics not a list", map[string]any{"topics": "tari"}, http.StatusBadRequest, "topics"},
		{"a topic not a string", map[string]any{"topics": []any{"tari", 7}}, http.StatusBadRequest, "topics[1]"},
		{"a topic too long", map[string]any{"topics": []string{strings.Repeat("t", 61)}}, http.StatusUnprocessableEntity, "topics"},
		{"too many topics", map[string]any{"topics": numbered("tema", 51)}, http.StatusUnprocessableEntity, "topics"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inSubtest(t, admin, func() { admin.do("PUT", path, tc.body).requireProblem(tc.status, tc.field) })
		})
	}
	require.Equal(t, []string{"tari", "rifiuti"}, teams()[0].Topics, "no refused request changed anything")

	res = admin.do("PUT", path, map[string]any{"topics": []string{}})
	require.Equal(t, http.StatusOK, res.status, res.text())
	require.Equal(t, []string{}, teams()[0].Topics, "[] clears the topics")
}

// numbered returns n distinct words made of prefix and a number.
func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + id(int64(i))
	}
	return out
}

func TestHandBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("handback")
	operator := tn.staff[crm.RoleOperator]
	op := e.login(operator)
	require.NoError(t, e.store.SetAssistantSettings(t.Context(), crm.SystemActor(tn.ID), crm.AssistantSettings{Enabled: true}))
	conv := e.citizenWrites(tn, visitor("Alda Merini"), "Grazie, ho risolto").Message.ConversationID
	base := "/api/v1/conversations/" + id(conv)
	require.Equal(t, http.StatusOK, op.do("POST", base+"/assign", map[string]any{"assignee_id": operator.ID}).status)

	res := op.do("POST", base+"/handback", nil)
	require.Equal(t, http.StatusOK, res.status, res.text())
	var v conversationView
	res.decode(&v)
	require.Equal(t, crm.StatusAssistant, v.Status)
	require.Nil(t, v.AssigneeID, "it leaves its operator")
	require.Nil(t, v.QueuedAt, "and the queue")
	last := v.Messages[len(v.Messages)-1]
	require.Equal(t, crm.Internal, last.Direction)
	require.Contains(t, last.Text, "assistente virtuale", "the hand-back is noted in the conversation")

	// Giving back a conversation the assistant already has changes nothing.
	res = e.login(tn.staff[crm.RoleSupervisor]).do("POST", base+"/handback", nil)
	require.Equal(t, http.StatusOK, res.status, res.text())
	var again conversationView
	res.decode(&again)
	require.Equal(t, crm.StatusAssistant, again.Status)
	require.Len(t, again.Messages, len(v.Messages))

	for _, r := range []crm.Role{crm.RoleKnowledgeEditor, crm.RoleCommunication} {
		e.login(tn.staff[r]).do("POST", base+"/handback", nil).requireProblem(http.StatusForbidden, "")
	}
	op.do("POST", "/api/v1/conversations/"+id(conv+1_000_000)+"/handback", nil).requireProblem(http.StatusNotFound, "")

	// A resolved conversation is reopened first.
	resolved := e.citizenWrites(tn, visitor("Dino Buzzati"), "Grazie").Message.ConversationID
	require.Equal(t, http.StatusOK, op.do("POST", "/api/v1/conversations/"+id(resolved)+"/resolve", nil).status)
	p := op.do("POST", "/api/v1/conversations/"+id(resolved)+"/handback", nil).requireProblem(http.StatusConflict, "")
	require.Contains(t, p.Detail, "reopen")
	require.Equal(t, crm.StatusResolved, getConversation(t, op, resolved).Status)
}

func TestConversationHandoff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("handoff")
	op := e.login(tn.staff[crm.RoleOperator])
	handoff := func(conv int64) crm.HandoffInfo {
		t.Helper()
		res := op.do("GET", "/api/v1/conversations/"+id(conv)+"/handoff", nil)
		require.Equal(t, http.StatusOK, res.status, res.text())
		var h crm.HandoffInfo
		res.decode(&h)
		return h
	}

	in := e.assistantConversation(tn, visitor("Eduardo De Filippo"), "Voglio parlare con una persona")
	conv := in.Message.ConversationID
	require.Equal(t, crm.HandoffInfo{}, handoff(conv), "not handed off yet")

	e.assistantReplies(tn, in, crm.AssistantReply{
		Text: "La metto in contatto con un operatore.", Kind: crm.AnswerHandoff, Question: "Voglio parlare con una persona",
		Handoff: &crm.Handoff{Reason: crm.HandoffRequested, Summary: "Il cittadino chiede di parlare con una persona."},
	})
	h := handoff(conv)
	require.Equal(t, crm.HandoffRequested, h.Reason)
	require.Equal(t, "Il cittadino chiede di parlare con una persona.", h.Summary)
	require.NotNil(t, h.At)
	require.Equal(t, crm.StatusQueued, getConversation(t, op, conv).Status)

	require.Equal(t, crm.HandoffInfo{}, handoff(e.citizenWrites(tn, visitor("Peppino De Filippo"), "Ciao").Message.ConversationID),
		"a conversation that never was with the assistant")

	for _, r := range []crm.Role{crm.RoleKnowledgeEditor, crm.RoleCommunication} {
		e.login(tn.staff[r]).do("GET", "/api/v1/conversations/"+id(conv)+"/handoff", nil).requireProblem(http.StatusForbidden, "")
	}
	op.do("GET", "/api/v1/conversations/"+id(conv+1_000_000)+"/handoff", nil).requireProblem(http.StatusNotFound, "")
	op.do("GET", "/api/v1/conversations/first/handoff", nil).requireProblem(http.StatusNotFound, "")
}

func TestAssistantAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("answers")
	ctx := t.Context()

	tari := e.assistantConversation(tn, visitor("Italo Calvino"), "Quando scade la TARI?")
	passages := []crm.RetrievedPassage{
		{ChunkID: 7, TenantID: tn.ID, Score: 0.5, Source: "servizi/tari.md", Title: "TARI", URL: "https://comune.example/tari", Cited: true},
		{ChunkID: 9, TenantID: tn.ID, Score: 0.25, Source: "servizi/rifiuti.md", Title: "Rifiuti"},
	}
	tariAnswer := e.assistantReplies(tn, tari, crm.AssistantReply{
		Text: "La TARI scade il 30 aprile.", Kind: crm.AnswerKnowledge, Question: "Quando scade la TARI?",
		Confidence: 0.75, Model: "modello-di-prova", Retrieved: passages,
	})
	residenza := e.assistantConversation(tn, visitor("Cesare Pavese"), "Come cambio residenza?")
	residenzaAnswer := e.assistantReplies(tn, residenza, crm.AssistantReply{
		Text: "Non lo so: vuole parlare con un operatore?", Kind: crm.AnswerUnknown, Question: "Come cambio residenza?", Failed: true,
	})
	personal := e.assistantConversation(tn, visitor("Grazia Deledda"), "Quanto devo pagare?")
	e.assistantReplies(tn, personal, crm.AssistantReply{
		Text: "Ha un avviso di 120 euro.", Kind: crm.AnswerPersonal, Question: "Quanto devo pagare?",
	})
	require.NoError(t, e.store.AnswerFeedback(ctx, tn.ID, tari.ContactID, tari.Message.ConversationID, tariAnswer.Seq, true))
	require.NoError(t, e.store.AnswerFeedback(ctx, tn.ID, residenza.ContactID, residenza.Message.ConversationID, residenzaAnswer.Seq, false))

	editor := e.login(tn.staff[crm.RoleKnowledgeEditor])
	list := func(c *client, query string) page[crm.AssistantAnswer] {
		t.Helper()
		res := c.do("GET", "/api/v1/assistant/answers?"+query, nil)
		require.Equal(t, http.StatusOK, res.status, res.text())
		require.NotContains(t, res.text(), "120 euro", "an answer from a fascicolo stays in its conversation")
		var p page[crm.AssistantAnswer]
		res.decode(&p)
		return p
	}
	conversations := func(p page[crm.AssistantAnswer]) []int64 {
		out := []int64{}
		for _, a := range p.Items {
			out = append(out, a.ConversationID)
		}
		return out
	}

	all := list(editor, "")
	require.Equal(t, []int64{personal.Message.ConversationID, residenza.Message.ConversationID, tari.Message.ConversationID},
		conversations(all), "newest first")
	require.Empty(t, all.Next)
	got := all.Items[2]
	require.Equal(t, tariAnswer.Seq, got.Seq)
	require.Equal(t, "Quando scade la TARI?", got.Question)
	require.Equal(t, "La TARI scade il 30 aprile.", got.Answer)
	require.Equal(t, crm.AnswerKnowledge, got.Kind)
	require.Equal(t, "it", got.Language)
	require.InDelta(t, 0.75, got.Confidence, 1e-6)
	require.Equal(t, "modello-di-prova", got.Model)
	require.Equal(t, passages, got.Retrieved)
	require.Equal(t, 1, got.Feedback)
	require.Equal(t, crm.AnswerPersonal, all.Items[0].Kind)
	require.Empty(t, all.Items[0].Answer)
	require.Equal(t, all, list(e.login(tn.staff[crm.RoleSupervisor]), ""), "supervisors read them too")

	require.Equal(t, []int64{tari.Message.ConversationID}, conversations(list(editor, "conversation_id="+id(tari.Message.ConversationID))))
	require.Equal(t, []int64{residenza.Message.ConversationID}, conversations(list(editor, "kind=unknown")))
	require.Equal(t, []int64{tari.Message.ConversationID}, conversations(list(editor, "feedback=1")))
	require.Equal(t, []int64{residenza.Message.ConversationID}, conversations(list(editor, "feedback=-1")))
	require.Empty(t, list(editor, "kind=greeting").Items)

	first := list(editor, "limit=2")
	require.Equal(t, []int64{personal.Message.ConversationID, residenza.Message.ConversationID}, conversations(first))
	require.NotEmpty(t, first.Next)
	rest := list(editor, "limit=2&before="+first.Next)
	require.Equal(t, []int64{tari.Message.ConversationID}, conversations(rest))
	require.Empty(t, rest.Next)

	for _, tc := range []struct{ query, field string }{
		{"conversation_id=prima", "conversation_id"},
		{"conversation_id=0", "conversation_id"},
		{"kind=opinion", "kind"},
		{"feedback=0", "feedback"},
		{"feedback=2", "feedback"},
		{"feedback=useful", "feedback"},
		{"before=-1", "before"},
		{"limit=0", "limit"},
		{"limit=201", "limit"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			inSubtest(t, editor, func() {
				editor.do("GET", "/api/v1/assistant/answers?"+tc.query, nil).requireProblem(http.StatusUnprocessableEntity, tc.field)
			})
		})
	}
	for _, r := range []crm.Role{crm.RoleOperator, crm.RoleCommunication} {
		e.login(tn.staff[r]).do("GET", "/api/v1/assistant/answers", nil).requireProblem(http.StatusForbidden, "")
	}
}

func TestRemoveKnowledgeSource(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("knowledge")
	other := e.newTenant("knowledge elsewhere")
	const tari = "servizi/tari & tasse.md"
	e.addKnowledgeSource(tn, tari, "# TARI\n\nLa TARI scade il 30 aprile.")
	e.addKnowledgeSource(tn, "servizi/residenza.md", "# Residenza\n\nIl cambio di residenza si chiede all'anagrafe.")
	e.addKnowledgeSource(other, tari, "# TARI\n\nLa TARI scade il 31 maggio.")
	editor := e.login(tn.staff[crm.RoleKnowledgeEditor])
	path := "/api/v1/knowledge/sources?name=" + url.QueryEscape(tari)

	for _, r := range []crm.Role{crm.RoleOperator, crm.RoleSupervisor, crm.RoleCommunication} {
		e.login(tn.staff[r]).do("DELETE", path, nil).requireProblem(http.StatusForbidden, "")
	}
	require.Equal(t, []string{"servizi/residenza.md", tari}, e.knowledgeSources(tn.ID))

	res := editor.do("DELETE", path, nil)
	require.Equal(t, http.StatusNoContent, res.status, res.text())
	require.Empty(t, res.body)
	require.Equal(t, []string{"servizi/residenza.md"}, e.knowledgeSources(tn.ID))
	require.Equal(t, []string{tari}, e.knowledgeSources(other.ID), "another ente's source of the same name stays")

	audit := func() []crm.AuditEntry {
		t.Helper()
		es, err := e.store.AuditLog(t.Context(), crm.SystemActor(tn.ID), crm.AuditQuery{Action: "knowledge.remove", Limit: 10})
		require.NoError(t, err)
		return es
	}
	es := audit()
	require.Len(t, es, 1)
	require.Equal(t, crm.ActorStaff, es[0].ActorKind)
	require.Equal(t, tn.staff[crm.RoleKnowledgeEditor].ID, es[0].ActorID)
	require.Equal(t, map[string]any{"name": tari}, es[0].Detail)

	p := editor.do("DELETE", path, nil).requireProblem(http.StatusNotFound, "")
	require.Contains(t, p.Detail, tari)
	require.Len(t, audit(), 1, "a removal that did not happen is not in the log")

	editor.do("DELETE", "/api/v1/knowledge/sources", nil).requireProblem(http.StatusUnprocessableEntity, "name")
	editor.do("DELETE", "/api/v1/knowledge/sources?name=", nil).requireProblem(http.StatusUnprocessableEntity, "name")
	editor.do("DELETE", "/api/v1/knowledge/sources?name="+strings.Repeat("n", 2001), nil).requireProblem(http.StatusUnprocessableEntity, "name")
	editor.do("DELETE", "/api/v1/knowledge/sources?name=%FF", nil).requireProblem(http.StatusUnprocessableEntity, "name")
	require.Equal(t, []string{"servizi/residenza.md"}, e.knowledgeSources(tn.ID))
}
