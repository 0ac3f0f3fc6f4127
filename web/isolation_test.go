package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

// otherEnte is Comune B's data, which Comune A's staff must never reach.
type otherEnte struct {
	tenant
	marker        string
	codiceFiscale string
	contact       int64 // with a fascicolo, an identity, a consent and a conversation
	twin          int64 // a second contact with the same name
	conversation  int64
	suggestion    int64
	// answered is a conversation in which the assistant answered a question.
	answered int64
	// knowledgeSource names a source of B's knowledge base.
	knowledgeSource string
}

func (e *env) newOtherEnte() otherEnte {
	t := e.t
	t.Helper()
	ctx := context.Background()
	marker := "Isolato" + randomHex(4)
	b := otherEnte{tenant: e.newTenant(marker), marker: marker, codiceFiscale: newCodiceFiscale(t)}
	e.importFascicolo(b.tenant, fascicoloRecord(t, b.tenant, b.codiceFiscale, "Beatrice", marker))
	contacts, err := e.store.SearchContacts(ctx, b.ID, crm.ContactQuery{CodiceFiscale: b.codiceFiscale})
	require.NoError(t, err)
	require.Len(t, contacts, 1)
	b.contact = contacts[0].ID

	in, err := e.store.Ingest(ctx, b.ID, crm.InboundMessage{
		Channel: crm.ChannelEmail, ExternalID: "msg-" + randomHex(8), TeamID: b.team.ID, Subject: "Richiesta " + marker,
		From: crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale, ExternalID: b.codiceFiscale, Verified: true, VerifiedBy: crm.VerifiedSPID},
		Text: "Messaggio riservato " + marker,
	})
	require.NoError(t, err)
	require.Equal(t, b.contact, in.ContactID)
	b.conversation = in.Message.ConversationID

	b.twin = e.citizenWrites(b.tenant, visitor("Beatrice "+marker), "Ciao").ContactID
	sys := crm.SystemActor(b.ID)
	_, err = e.store.RecordConsent(ctx, sys, b.contact, crm.ConsentInput{Channel: "email", Purpose: "service", Granted: true, Source: marker})
	require.NoError(t, err)
	ms, err := e.store.MergeSuggestions(ctx, b.ID, b.twin, 10)
	require.NoError(t, err)
	require.Len(t, ms, 1)
	b.suggestion = ms[0].ID

	asked := e.assistantConversation(b.tenant, visitor("Ugo Foscolo"), "Domanda riservata "+marker)
	e.assistantReplies(b.tenant, asked, crm.AssistantReply{Text: "Risposta riservata " + marker, Kind: crm.AnswerKnowledge,
		Question: "Domanda riservata " + marker})
	b.answered = asked.Message.ConversationID
	require.NoError(t, e.store.SetAssistantSettings(ctx, sys, crm.AssistantSettings{Enabled: true,
		OfficeHours: "Orari riservati " + marker, Alternatives: "Recapiti riservati " + marker}))
	require.NoError(t, e.store.SetTeamTopics(ctx, sys, b.team.ID, []string{"riservato"}))
	b.knowledgeSource = "riservato/" + marker + ".md"
	e.addKnowledgeSource(b.tenant, b.knowledgeSource, "# Riservato\n\nTesto riservato "+marker)
	return b
}

// TestTenantIsolation calls every route of the route table that names a
// resource, as an admin of Comune A (who holds every role), with the ids of
// Comune B's resources: each must be not found, and B's data must stay as it
// was. Every list route is also searched for B's data. A new route is covered
// as soon as it is in the table; one whose path names a new kind of id fails
// here until the test knows what B's id of that kind is.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.newTenant("Comune A")
	b := e.newOtherEnte()
	admin := e.login(a.staff[crm.RoleAdmin])
	mine := e.citizenWrites(a, visitor("Adele Ambrosini"), "Ciao").ContactID

	ids := map[string]int64{
		"contact_id":      b.contact,
		"conversation_id": b.conversation,
		"suggestion_id":   b.suggestion,
		"team_id":         b.team.ID,
	}
	// Bodies that would succeed on A's own resources, so that only the tenant
	// makes the difference.
	bodies := map[string]any{
		"POST /api/v1/contacts/{contact_id}/merge":              map[string]any{"source_id": b.twin, "reason": "test"},
		"POST /api/v1/contacts/{contact_id}/identities":         map[string]any{"kind": "telegram", "external_id": "424242"},
		"POST /api/v1/contacts/{contact_id}/consents":           map[string]any{"channel": "email", "purpose": "information", "granted": false, "source": "test"},
		"POST /api/v1/conversations/{conversation_id}/assign":   map[string]any{"assignee_id": a.staff[crm.RoleAdmin].ID},
		"POST /api/v1/conversations/{conversation_id}/messages": map[string]any{"text": "Buongiorno"},
		"PUT /api/v1/teams/{team_id}/topics":                    map[string]any{"topics": []string{"tari"}},
	}
	auditBefore := auditCount(t, e, b.ID)

	resourceRoutes := 0
	for _, rt := range e.server.routes() {
		key := rt.method + " " + rt.path
		if !strings.Contains(rt.path, "{") {
			continue
		}
		resourceRoutes++
		path := pathParamRE.ReplaceAllStringFunc(rt.path, func(m string) string {
			name := m[1 : len(m)-1]
			v, ok := ids[name]
			require.True(t, ok, "%s: the isolation test does not know B's %s; add one", key, name)
			return id(v)
		})
		t.Run(key, func(t *testing.T) {
			body, ok := bodies[key]
			if rt.method == "POST" && !ok {
				// No body is needed: the route takes none.
				body = nil
			}
			admin.t = t
			admin.do(rt.method, path, body).requireProblem(http.StatusNotFound, "")
		})
	}
	admin.t = t
	require.GreaterOrEqual(t, resourceRoutes, 17)

	// B's ids in bodies and query strings reach nothing either.
	admin.do("POST", "/api/v1/contacts/"+id(mine)+"/merge", map[string]any{"source_id": b.contact, "reason": "test"}).
		requireProblem(http.StatusNotFound, "")
	admin.do("POST", "/api/v1/conversations/"+id(e.citizenWrites(a, visitor("Aldo Moro"), "x").Message.ConversationID)+"/assign",
		map[string]any{"assignee_id": b.staff[crm.RoleOperator].ID}).requireProblem(http.StatusUnprocessableEntity, "assignee_id")
	for _, q := range []string{
		"/api/v1/conversations?contact_id=" + id(b.contact),
		"/api/v1/audit?contact_id=" + id(b.contact),
		"/api/v1/contacts?codice_fiscale=" + b.codiceFiscale,
		"/api/v1/contacts?q=" + b.marker,
		"/api/v1/assistant/answers?conversation_id=" + id(b.answered),
	} {
		res := admin.do("GET", q, nil)
		require.Equal(t, http.StatusOK, res.status, q)
		require.JSONEq(t, `{"items":[],"next":""}`, res.text(), q)
	}
	// Nor does a name: B's knowledge source is not A's to remove.
	admin.do("DELETE", "/api/v1/knowledge/sources?name="+url.QueryEscape(b.knowledgeSource), nil).
		requireProblem(http.StatusNotFound, "")
	// No list shows anything of B.
	for _, rt := range e.server.routes() {
		if rt.method != "GET" || strings.Contains(rt.path, "{") || !strings.HasPrefix(rt.path, "/api/v1/") {
			continue
		}
		res := admin.do("GET", rt.path, nil)
		require.Equal(t, http.StatusOK, res.status, rt.path)
		require.NotContains(t, res.text(), b.marker, rt.path)
	}

	// B's data is as it was.
	ctx := context.Background()
	conv, err := e.store.Conversation(ctx, b.ID, b.conversation)
	require.NoError(t, err)
	require.Equal(t, crm.StatusQueued, conv.Status)
	require.Len(t, conv.Messages, 1)
	c, err := e.store.Contact(ctx, b.ID, b.contact)
	require.NoError(t, err)
	require.Nil(t, c.MergedInto)
	require.Len(t, c.Identities, 1)
	cs, err := e.store.Consents(ctx, b.ID, b.contact, true)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	ms, err := e.store.MergeSuggestions(ctx, b.ID, 0, 10)
	require.NoError(t, err)
	require.Len(t, ms, 1)
	require.Equal(t, []string{b.knowledgeSource}, e.knowledgeSources(b.ID))
	tts, err := e.store.TeamsTopics(ctx, b.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"riservato"}, tts[0].Topics)
	require.Equal(t, auditBefore, auditCount(t, e, b.ID), "no fascicolo read or other action was recorded in B")
}

func auditCount(t *testing.T, e *env, tenantID int64) int {
	t.Helper()
	es, err := e.store.AuditLog(context.Background(), crm.SystemActor(tenantID), crm.AuditQuery{Limit: 500})
	require.NoError(t, err)
	return len(es)
}

// TestRoles checks the role each route requires where it matters most.
func TestRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("roles")
	cf := newCodiceFiscale(t)
	e.importFascicolo(tn, fascicoloRecord(t, tn, cf, "Rosa", "Ruoli"))
	contacts, err := e.store.SearchContacts(context.Background(), tn.ID, crm.ContactQuery{CodiceFiscale: cf})
	require.NoError(t, err)
	contact := id(contacts[0].ID)
	clients := map[crm.Role]*client{}
	for _, r := range crm.Roles {
		clients[r] = e.login(tn.staff[r])
	}

	for _, tc := range []struct {
		role   crm.Role
		method string
		path   string
		want   int
	}{
		{crm.RoleCommunication, "GET", "/api/v1/contacts/" + contact + "/fascicolo", http.StatusForbidden},
		{crm.RoleKnowledgeEditor, "GET", "/api/v1/contacts/" + contact + "/fascicolo", http.StatusForbidden},
		{crm.RoleOperator, "GET", "/api/v1/contacts/" + contact + "/fascicolo", http.StatusOK},
		{crm.RoleSupervisor, "GET", "/api/v1/contacts/" + contact + "/fascicolo", http.StatusOK},

		{crm.RoleKnowledgeEditor, "GET", "/api/v1/contacts", http.StatusForbidden},
		{crm.RoleKnowledgeEditor, "GET", "/api/v1/contacts/" + contact, http.StatusForbidden},
		{crm.RoleKnowledgeEditor, "GET", "/api/v1/merge-suggestions", http.StatusForbidden},
		{crm.RoleCommunication, "GET", "/api/v1/contacts", http.StatusOK},
		{crm.RoleCommunication, "GET", "/api/v1/contacts/" + contact + "/consents", http.StatusOK},

		{crm.RoleCommunication, "GET", "/api/v1/conversations", http.StatusForbidden},
		{crm.RoleOperator, "GET", "/api/v1/conversations", http.StatusOK},

		{crm.RoleOperator, "GET", "/api/v1/audit", http.StatusForbidden},
		{crm.RoleSupervisor, "GET", "/api/v1/audit", http.StatusOK},
		{crm.RoleAdmin, "GET", "/api/v1/audit", http.StatusOK},

		{crm.RoleKnowledgeEditor, "GET", "/api/v1/me", http.StatusOK},
		{crm.RoleKnowledgeEditor, "GET", "/api/v1/teams", http.StatusOK},
		{crm.RoleKnowledgeEditor, "GET", "/api/v1/staff", http.StatusForbidden},

		{crm.RoleCommunication, "GET", "/api/v1/assistant/settings", http.StatusOK},
		{crm.RoleKnowledgeEditor, "GET", "/api/v1/assistant/settings", http.StatusOK},
		{crm.RoleSupervisor, "PUT", "/api/v1/assistant/settings", http.StatusForbidden},
		{crm.RoleSupervisor, "PUT", "/api/v1/teams/" + id(tn.team.ID) + "/topics", http.StatusForbidden},

		{crm.RoleOperator, "GET", "/api/v1/assistant/answers", http.StatusForbidden},
		{crm.RoleCommunication, "GET", "/api/v1/assistant/answers", http.StatusForbidden},
		{crm.RoleKnowledgeEditor, "GET", "/api/v1/assistant/answers", http.StatusOK},
		{crm.RoleSupervisor, "GET", "/api/v1/assistant/answers", http.StatusOK},

		{crm.RoleOperator, "DELETE", "/api/v1/knowledge/sources?name=nessuno.md", http.StatusForbidden},
		{crm.RoleSupervisor, "DELETE", "/api/v1/knowledge/sources?name=nessuno.md", http.StatusForbidden},
		{crm.RoleKnowledgeEditor, "DELETE", "/api/v1/knowledge/sources?name=nessuno.md", http.StatusNotFound},
	} {
		t.Run(string(tc.role)+" "+tc.method+" "+tc.path, func(t *testing.T) {
			c := clients[tc.role]
			c.t = t
			defer func() { c.t = e.t }()
			res := c.do(tc.method, tc.path, nil)
			require.Equal(t, tc.want, res.status, res.text())
		})
	}

	// Only admins import.
	for _, r := range []crm.Role{crm.RoleOperator, crm.RoleSupervisor} {
		clients[r].do("POST", "/api/v1/fascicolo/import", map[string]any{"records": []any{fascicoloRecord(t, tn, newCodiceFiscale(t), "A", "B")}}).
			requireProblem(http.StatusForbidden, "")
	}
}
