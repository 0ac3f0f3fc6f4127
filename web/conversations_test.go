package web

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func getConversation(t *testing.T, c *client, convID int64) conversationView {
	t.Helper()
	res := c.do("GET", "/api/v1/conversations/"+id(convID), nil)
	require.Equal(t, http.StatusOK, res.status, res.text())
	var v conversationView
	res.decode(&v)
	return v
}

func TestOperatorReply(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("reply")
	in := e.citizenWrites(tn, visitor("Gino Paoli"), "Quando scade la TARI?")
	operator := tn.staff[crm.RoleOperator]
	c := e.login(operator)
	path := "/api/v1/conversations/" + id(in.Message.ConversationID) + "/messages"

	res := c.do("POST", path, map[string]any{"text": "Il 30 aprile.", "client_id": "draft-1"})
	require.Equal(t, http.StatusCreated, res.status, res.text())
	var m crm.Message
	res.decode(&m)
	require.Equal(t, crm.Outbound, m.Direction)
	require.Equal(t, crm.AuthorOperator, m.AuthorKind)
	require.Equal(t, &operator.ID, m.AuthorStaffID)
	require.Equal(t, crm.DeliveryPending, m.DeliveryStatus)
	require.Equal(t, int64(2), m.Seq)

	// A retry with the same client_id stores nothing new.
	res = c.do("POST", path, map[string]any{"text": "Il 30 aprile.", "client_id": "draft-1"})
	require.Equal(t, http.StatusCreated, res.status)
	var again crm.Message
	res.decode(&again)
	require.Equal(t, m.ID, again.ID)

	res = c.do("POST", path, map[string]any{"text": "Cittadino gentile, già sentito a marzo.", "private": true})
	require.Equal(t, http.StatusCreated, res.status)
	var note crm.Message
	res.decode(&note)
	require.True(t, note.Private)
	require.Equal(t, crm.Internal, note.Direction)

	conv := getConversation(t, c, in.Message.ConversationID)
	require.Equal(t, crm.StatusAssigned, conv.Status, "replying takes the conversation")
	require.Equal(t, &operator.ID, conv.AssigneeID)
	require.Len(t, conv.Messages, 3)

	c.do("POST", path, map[string]any{"text": "   "}).requireProblem(http.StatusUnprocessableEntity, "text")
	c.do("POST", "/api/v1/conversations/"+id(in.Message.ConversationID+1_000_000)+"/messages", map[string]any{"text": "x"}).
		requireProblem(http.StatusNotFound, "")
}

func TestAssignResolveReopen(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("assign")
	in := e.citizenWrites(tn, visitor("Lina Wertmuller"), "Vorrei un appuntamento")
	conv := in.Message.ConversationID
	operator := tn.staff[crm.RoleOperator]
	op := e.login(operator)
	sup := e.login(tn.staff[crm.RoleSupervisor])
	base := "/api/v1/conversations/" + id(conv)

	// Operators take conversations for themselves only.
	op.do("POST", base+"/assign", map[string]any{"assignee_id": tn.staff[crm.RoleSupervisor].ID}).
		requireProblem(http.StatusForbidden, "")

	res := sup.do("POST", base+"/assign", map[string]any{"assignee_id": operator.ID})
	require.Equal(t, http.StatusOK, res.status, res.text())
	var v conversationView
	res.decode(&v)
	require.Equal(t, crm.StatusAssigned, v.Status)
	require.Equal(t, &operator.ID, v.AssigneeID)

	res = op.do("POST", base+"/resolve", nil)
	require.Equal(t, http.StatusOK, res.status)
	res.decode(&v)
	require.Equal(t, crm.StatusResolved, v.Status)
	require.NotNil(t, v.ResolvedAt)

	sup.do("POST", base+"/assign", map[string]any{"assignee_id": operator.ID}).requireProblem(http.StatusConflict, "")

	res = op.do("POST", base+"/reopen", nil)
	require.Equal(t, http.StatusOK, res.status)
	res.decode(&v)
	require.Equal(t, crm.StatusAssigned, v.Status, "back to its operator")

	// No assignee: back to the team's queue.
	res = sup.do("POST", base+"/assign", map[string]any{"assignee_id": nil, "team_id": tn.team.ID})
	require.Equal(t, http.StatusOK, res.status)
	res.decode(&v)
	require.Equal(t, crm.StatusQueued, v.Status)
	require.Nil(t, v.AssigneeID)

	sup.do("POST", base+"/assign", map[string]any{"team_id": tn.team.ID + 1_000_000}).
		requireProblem(http.StatusUnprocessableEntity, "team_id")
	sup.do("POST", base+"/assign", map[string]any{"assignee_id": "someone"}).
		requireProblem(http.StatusBadRequest, "assignee_id")

	// Each change left a note in the conversation.
	require.GreaterOrEqual(t, len(getConversation(t, sup, conv).Messages), 5)
}

func TestListConversations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("inbox")
	a := e.citizenWrites(tn, visitor("Primo Levi"), "Uno")
	b := e.citizenWrites(tn, visitor("Natalia Ginzburg"), "Due")
	operator := tn.staff[crm.RoleOperator]
	op := e.login(operator)
	require.Equal(t, http.StatusOK,
		op.do("POST", "/api/v1/conversations/"+id(a.Message.ConversationID)+"/assign", map[string]any{"assignee_id": operator.ID}).status)

	list := func(query string) page[crm.Conversation] {
		t.Helper()
		res := op.do("GET", "/api/v1/conversations?"+query, nil)
		require.Equal(t, http.StatusOK, res.status, res.text())
		var p page[crm.Conversation]
		res.decode(&p)
		return p
	}
	ids := func(p page[crm.Conversation]) []int64 {
		var out []int64
		for _, c := range p.Items {
			out = append(out, c.ID)
		}
		return out
	}

	require.Equal(t, []int64{b.Message.ConversationID, a.Message.ConversationID}, ids(list("")), "newest first")
	require.Equal(t, []int64{a.Message.ConversationID}, ids(list("assignee_id="+id(operator.ID))))
	require.Equal(t, []int64{b.Message.ConversationID}, ids(list("unassigned=true")))
	require.Equal(t, []int64{b.Message.ConversationID}, ids(list("status=queued&channel=webchat&team_id="+id(tn.team.ID))))
	require.Equal(t, []int64{a.Message.ConversationID}, ids(list("contact_id="+id(a.ContactID))))
	require.Empty(t, list("tag=urgente").Items)

	first := list("limit=1")
	require.Equal(t, []int64{b.Message.ConversationID}, ids(first))
	require.Equal(t, []int64{a.Message.ConversationID}, ids(list("limit=1&before="+first.Next)))

	op.do("GET", "/api/v1/conversations?status=closed", nil).requireProblem(http.StatusUnprocessableEntity, "status")
	op.do("GET", "/api/v1/conversations?team_id=-1", nil).requireProblem(http.StatusUnprocessableEntity, "team_id")
	op.do("GET", "/api/v1/conversations?limit=0", nil).requireProblem(http.StatusUnprocessableEntity, "limit")
}

func TestTeamsAndStaff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("teams")
	c := e.login(tn.staff[crm.RoleOperator])

	res := c.do("GET", "/api/v1/teams", nil)
	require.Equal(t, http.StatusOK, res.status)
	var teams page[crm.Team]
	res.decode(&teams)
	require.Len(t, teams.Items, 1)
	require.Len(t, teams.Items[0].Members, len(crm.Roles))

	res = c.do("GET", "/api/v1/staff", nil)
	require.Equal(t, http.StatusOK, res.status)
	var staff page[crm.Staff]
	res.decode(&staff)
	require.Len(t, staff.Items, len(crm.Roles))
	require.NotContains(t, res.text(), "argon2", "no password hash leaves the server")
}
