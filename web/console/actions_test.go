package console_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestTakeAssignsTheConversationToTheOperator(t *testing.T) {
	t.Parallel()
	e := setup(t)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID
	c := e.login(e.operator())

	res := c.post(convPath(conv, "/take"), nil)

	require.Equal(t, convPath(conv, ""), res.location)
	page := c.follow(res)
	require.Contains(t, page.body, "Hai preso in carico la conversazione.")
	require.Contains(t, page.body, e.operator().Name+" (tu)")
	got := e.conversation(conv)
	require.Equal(t, crm.StatusAssigned, got.Status)
	require.Equal(t, e.operator().ID, *got.AssigneeID)
}

func TestReplyAndPrivateNoteByFormPost(t *testing.T) {
	t.Parallel()
	e := setup(t)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID
	c := e.login(e.operator())
	page := c.get(convPath(conv, ""))
	clientID := page.field("client_id")

	reply := url.Values{"text": {"Buongiorno, come posso aiutarla?"}, "kind": {"reply"}, "client_id": {clientID}}
	first := c.post(convPath(conv, "/reply"), reply)
	again := c.post(convPath(conv, "/reply"), reply) // the form sent twice
	note := c.post(convPath(conv, "/reply"), url.Values{"text": {"Chiedere il codice avviso"}, "kind": {"note"}})

	require.Equal(t, http.StatusSeeOther, first.status)
	require.Equal(t, http.StatusSeeOther, again.status)
	require.Contains(t, c.follow(note).body, "Nota privata salvata.")
	got := e.conversation(conv)
	var replies, notes []crm.Message
	for _, m := range got.Messages {
		switch {
		case m.Direction == crm.Outbound:
			replies = append(replies, m)
		case m.Private && m.AuthorKind == crm.AuthorOperator:
			notes = append(notes, m)
		}
	}
	require.Len(t, replies, 1, "stored once")
	require.Equal(t, "Buongiorno, come posso aiutarla?", replies[0].Text)
	require.Equal(t, e.operator().ID, *replies[0].AuthorStaffID)
	require.Len(t, notes, 1)
	require.Equal(t, crm.StatusAssigned, got.Status, "replying takes the conversation")

	view := c.get(convPath(conv, ""))
	require.Contains(t, view.body, "dlg-msg--note")
	require.Contains(t, view.body, "Nota privata — visibile solo allo staff")
	require.Contains(t, view.body, "Chiedere il codice avviso")
	require.Contains(t, view.body, "In invio", "the reply's delivery state")
	require.NotEqual(t, clientID, view.field("client_id"), "a new form, a new client id")
}

func TestEmptyReplyGoesBackWithAMessage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID
	c := e.login(e.operator())

	res := c.post(convPath(conv, "/reply"), url.Values{"text": {"   "}})

	require.Equal(t, convPath(conv, ""), res.location)
	page := c.follow(res)
	require.Contains(t, page.body, `role="alert">Scrivi il testo del messaggio.`)
	require.Len(t, e.conversation(conv).Messages, 1)
}

func TestReplyFromTheScriptAnswersJSON(t *testing.T) {
	t.Parallel()
	e := setup(t)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID
	c := e.login(e.operator())

	ok := c.postForm(convPath(conv, "/reply"), url.Values{"text": {"Salve"}, "client_id": {"c-1"}},
		"X-Dialogo-Fetch", "1", "X-CSRF-Token", c.csrf)
	bad := c.postForm(convPath(conv, "/reply"), url.Values{"text": {""}}, "X-Dialogo-Fetch", "1", "X-CSRF-Token", c.csrf)
	forged := c.postForm(convPath(conv, "/reply"), url.Values{"text": {"x"}}, "X-Dialogo-Fetch", "1", "X-CSRF-Token", "forged")

	require.Equal(t, http.StatusOK, ok.status, ok.body)
	var body map[string]string
	ok.decode(&body)
	require.Equal(t, "Risposta inviata.", body["message"])
	require.Equal(t, http.StatusBadRequest, bad.status)
	bad.decode(&body)
	require.Equal(t, "Scrivi il testo del messaggio.", body["error"])
	require.Equal(t, http.StatusForbidden, forged.status)
}

func TestTagsAndPriorityByFormPost(t *testing.T) {
	t.Parallel()
	e := setup(t)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID
	c := e.login(e.operator())

	c.post(convPath(conv, "/tags"), url.Values{"tags": {"TARI, rimborso,, tari"}})
	c.post(convPath(conv, "/priority"), url.Values{"priority": {"3"}})

	got := e.conversation(conv)
	require.Equal(t, []string{"tari", "rimborso"}, got.Tags)
	require.Equal(t, crm.PriorityUrgent, got.Priority)
	page := c.get(convPath(conv, ""))
	require.Contains(t, page.body, `value="tari, rimborso"`)
	require.Contains(t, page.body, "Urgente")
	inbox := c.get("/console?tab=unassigned&tag=rimborso")
	require.Contains(t, inbox.body, "Mario Rossi")
	require.NotContains(t, c.get("/console?tab=unassigned&tag=altro").body, "Mario Rossi")

	bad := c.post(convPath(conv, "/priority"), url.Values{"priority": {"9"}})
	require.Contains(t, c.follow(bad).body, "Scegli una priorità.")
}

func TestResolveAndReopenByFormPost(t *testing.T) {
	t.Parallel()
	e := setup(t)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID
	c := e.login(e.operator())
	c.post(convPath(conv, "/take"), nil)

	resolved := c.follow(c.post(convPath(conv, "/resolve"), nil))
	require.Equal(t, crm.StatusResolved, e.conversation(conv).Status)
	require.Contains(t, resolved.body, "Conversazione risolta.")
	require.Contains(t, resolved.body, convPath(conv, "/reopen"))

	c.post(convPath(conv, "/reopen"), nil)
	require.Equal(t, crm.StatusAssigned, e.conversation(conv).Status)
}

func TestOperatorsTransferToATeamQueue(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tributi, err := e.store.EnsureTeam(e.ctx, e.tenant.ID, "tributi", "Tributi")
	require.NoError(t, err)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID
	c := e.login(e.operator())
	c.post(convPath(conv, "/take"), nil)

	res := c.post(convPath(conv, "/transfer"), url.Values{"to": {"team:" + itoa(tributi.ID)}})

	require.Contains(t, c.follow(res).body, "Conversazione trasferita.")
	got := e.conversation(conv)
	require.Equal(t, crm.StatusQueued, got.Status)
	require.Nil(t, got.AssigneeID)
	require.Equal(t, tributi.ID, *got.TeamID)
}

func TestOperatorsCannotTransferToAColleague(t *testing.T) {
	t.Parallel()
	e := setup(t)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID
	c := e.login(e.operator())
	page := c.get(convPath(conv, ""))
	require.NotContains(t, page.body, `value="staff:`, "operators are offered the queues only")

	res := c.post(convPath(conv, "/transfer"), url.Values{"to": {"staff:" + itoa(e.supervisor().ID)}})

	require.Equal(t, http.StatusSeeOther, res.status)
	require.Contains(t, c.follow(res).body, "gli operatori trasferiscono alle code dei team")
	require.Nil(t, e.conversation(conv).AssigneeID)
}

func TestSupervisorsTransferToAColleague(t *testing.T) {
	t.Parallel()
	e := setup(t)
	colleague := e.newStaff("Chiara Colombo", crm.RoleOperator)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID
	c := e.login(e.supervisor())
	page := c.get(convPath(conv, ""))
	require.Contains(t, page.body, `value="staff:`+itoa(colleague.ID)+`">Chiara Colombo (non connesso)`)

	c.post(convPath(conv, "/transfer"), url.Values{"to": {"staff:" + itoa(colleague.ID)}})

	got := e.conversation(conv)
	require.Equal(t, crm.StatusAssigned, got.Status)
	require.Equal(t, colleague.ID, *got.AssigneeID)
	require.Contains(t, c.get(convPath(conv, "")).body, "Assegnata a Chiara Colombo da "+e.supervisor().Name)
}

func TestTakeIsOfferedOnlyUnderTheMaximum(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, err := e.store.DB().Exec(e.ctx, `UPDATE staff SET max_concurrent = 1 WHERE tenant_id = $1 AND id = $2`,
		e.tenant.ID, e.operator().ID)
	require.NoError(t, err)
	first := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID
	second := e.citizenWrites(visitor("Anna Verdi"), "Salve").Message.ConversationID
	c := e.login(e.operator())
	require.Contains(t, c.get("/console?tab=unassigned").body, convPath(first, "/take"))

	c.post(convPath(first, "/take"), nil)
	inbox := c.get("/console?tab=unassigned")
	res := c.post(convPath(second, "/take"), nil)

	require.NotContains(t, inbox.body, convPath(second, "/take"))
	require.Contains(t, inbox.body, "Hai già il numero massimo di conversazioni contemporanee (1)")
	require.Contains(t, c.follow(res).body, "Operazione non possibile")
	require.Nil(t, e.conversation(second).AssigneeID)
}

func TestAvailabilitySwitch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.login(e.operator())
	require.Contains(t, c.get("/console").body, `aria-checked="false"`)

	res := c.post("/console/availability", url.Values{"availability": {"available"}, "return": {"/console?tab=unassigned"}})

	require.Equal(t, "/console?tab=unassigned", res.location)
	page := c.follow(res)
	require.Contains(t, page.body, `role="switch" aria-checked="true"`)
	require.Contains(t, page.body, "Ora sei disponibile per nuove conversazioni.")
	av, err := e.store.StaffAvailability(e.ctx, e.tenant.ID, e.operator().ID)
	require.NoError(t, err)
	require.Equal(t, crm.Available, av)

	offsite := c.post("/console/availability", url.Values{"availability": {"away"}, "return": {"https://evil.example/"}})
	require.Equal(t, "/console", offsite.location)
}
