package webchat_test

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/testdb"
)

// secondInstance starts another dialogo serve on the same database: a pool,
// a store, a hub and a web server of its own, for the same ente.
func (e *env) secondInstance() *env {
	e.t.Helper()
	pool, err := pgxpool.New(e.ctx, testdb.URL(e.t))
	require.NoError(e.t, err)
	e.t.Cleanup(pool.Close)
	other := &env{t: e.t, ctx: e.ctx, pool: pool, store: crm.NewStore(pool), tenant: e.tenant, team: e.team,
		operator: e.operator, logs: e.logs}
	other.startServer()
	return other
}

func TestACitizenOnOneInstanceTalksInRealTimeWithAnOperatorOnAnother(t *testing.T) {
	t.Parallel()
	one := setup(t)
	two := one.secondInstance()
	citizen, token, conv := one.startConversation("Buongiorno")
	console := two.subscribe() // the operator's console, on the other instance

	// Operator → citizen: a reply and typing, stored and sent through instance two.
	two.reply(conv, "Buongiorno, sono Chiara")
	m := citizen.message(2)
	require.Equal(t, "Buongiorno, sono Chiara", m.Text)
	require.NoError(t, two.store.Publish(two.ctx, crm.Event{Kind: crm.EventTyping, TenantID: two.tenant.ID,
		ConversationID: conv, Author: crm.AuthorOperator, StaffID: two.operator.ID, On: true}))
	require.True(t, citizen.waitType("typing").On)

	// Citizen → operator: a message, typing and a receipt through instance one.
	citizen.say("c-to-the-other-instance", "Grazie")
	seq := citizen.ack("c-to-the-other-instance").Seq
	ev := waitEvent(t, console, "message", func(ev crm.Event) bool { return ev.Kind == crm.EventMessage && ev.Seq == seq })
	require.Equal(t, conv, ev.ConversationID)
	citizen.sendJSON(map[string]any{"type": "typing", "on": true})
	waitEvent(t, console, "typing", func(ev crm.Event) bool {
		return ev.Kind == crm.EventTyping && ev.Author == crm.AuthorCitizen && ev.ConversationID == conv
	})
	citizen.sendJSON(map[string]any{"type": "read", "seq": 2})
	waitEvent(t, console, "delivery", func(ev crm.Event) bool { return ev.Kind == crm.EventDelivery && ev.Seq == 2 })

	// The citizen's next tab lands on instance two and resumes.
	citizen.ws.Close()
	two.reply(conv, "Le serve altro?")
	again, w := two.connect(hello{Visitor: token, ConversationID: conv, LastSeq: 3})
	require.Equal(t, conv, w.conversation())
	require.Equal(t, "Le serve altro?", again.message(4).Text)
}
