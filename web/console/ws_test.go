package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

// wsEvent is a frame of the console's websocket.
type wsEvent struct {
	Kind           string `json:"k"`
	ConversationID int64  `json:"c"`
	ContactID      int64  `json:"ct"`
	Seq            int64  `json:"s"`
	Author         string `json:"a"`
	StaffID        int64  `json:"st"`
	Name           string `json:"n"`
	On             bool   `json:"on"`
	Status         string `json:"x"`
}

// dial opens the console's websocket with the client's cookies, from the
// console's own origin.
func (c *client) dial(origin string) (*websocket.Conn, *http.Response, error) {
	c.t.Helper()
	u, err := url.Parse(c.env.url)
	require.NoError(c.t, err)
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	var cookies []string
	for _, ck := range c.http.Jar.Cookies(u) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	h.Set("Cookie", strings.Join(cookies, "; "))
	return websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(c.env.url, "http")+"/console/ws", h)
}

func (c *client) mustDial() *websocket.Conn {
	c.t.Helper()
	conn, _, err := c.dial(c.env.url)
	require.NoError(c.t, err)
	c.t.Cleanup(func() { conn.Close() })
	require.Equal(c.t, "hello", readEvent(c.t, conn).Kind)
	return conn
}

func readEvent(t *testing.T, conn *websocket.Conn) wsEvent {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, data, err := conn.ReadMessage()
	require.NoError(t, err)
	var e wsEvent
	require.NoError(t, json.Unmarshal(data, &e), string(data))
	return e
}

// nextEvent skips to the next event of this kind.
func nextEvent(t *testing.T, conn *websocket.Conn, kind string) wsEvent {
	t.Helper()
	for {
		if e := readEvent(t, conn); e.Kind == kind {
			return e
		}
	}
}

func TestWebsocketCarriesMessagesOfTheEnte(t *testing.T) {
	t.Parallel()
	e := setup(t)
	other := setup(t)
	conn := e.login(e.operator()).mustDial()

	other.citizenWrites(visitor("Di un altro ente"), "Non per voi")
	res := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno")

	got := nextEvent(t, conn, "message")
	require.Equal(t, res.Message.ConversationID, got.ConversationID, "another ente's message is not sent")
	require.Equal(t, res.ContactID, got.ContactID)
	require.Equal(t, res.Message.Seq, got.Seq)
	conv := nextEvent(t, conn, "conversation")
	require.Equal(t, res.Message.ConversationID, conv.ConversationID)
}

func TestWebsocketCarriesTypingBothWays(t *testing.T) {
	t.Parallel()
	e := setup(t)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID
	op := e.login(e.operator())
	conn := op.mustDial()
	colleague := e.login(e.supervisor()).mustDial()
	tenant := e.tenant.ID
	sub := e.hub.Subscribe(func(ev crm.Event) bool { return ev.TenantID == tenant && ev.Kind == crm.EventTyping }, 16)
	t.Cleanup(sub.Close)

	// The citizen types: the console hears it.
	require.NoError(t, e.store.Publish(e.ctx, crm.Event{Kind: crm.EventTyping, TenantID: e.tenant.ID, ConversationID: conv,
		Author: crm.AuthorCitizen, On: true}))
	typing := nextEvent(t, conn, "typing")
	require.Equal(t, conv, typing.ConversationID)
	require.Equal(t, "citizen", typing.Author)
	require.True(t, typing.On)
	<-sub.C

	// The operator types: the citizen's side (any subscriber) and the
	// colleague hear it, with the operator's name; repeats are throttled.
	for range 3 {
		require.NoError(t, conn.WriteJSON(map[string]any{"type": "typing", "c": conv, "on": true}))
	}
	require.NoError(t, conn.WriteJSON(map[string]any{"type": "typing", "c": conv, "on": false}))
	var seen []crm.Event
	for len(seen) < 2 {
		select {
		case ev := <-sub.C:
			seen = append(seen, ev)
		case <-time.After(10 * time.Second):
			t.Fatalf("typing events: %v", seen)
		}
	}
	require.Equal(t, crm.AuthorOperator, seen[0].Author)
	require.Equal(t, e.operator().ID, seen[0].StaffID)
	require.Equal(t, conv, seen[0].ConversationID)
	require.True(t, seen[0].On)
	require.False(t, seen[1].On, "the repeated 'on' frames were folded into one")
	theirs := nextEvent(t, colleague, "typing")
	for theirs.Author != "operator" {
		theirs = nextEvent(t, colleague, "typing")
	}
	require.Equal(t, e.operator().Name, theirs.Name)

	// Typing in another ente's conversation goes nowhere.
	other := setup(t)
	foreign := other.citizenWrites(visitor("Altro"), "Salve").Message.ConversationID
	require.NoError(t, conn.WriteJSON(map[string]any{"type": "typing", "c": foreign, "on": true}))
	select {
	case ev := <-sub.C:
		t.Fatalf("unexpected %+v", ev)
	case <-time.After(300 * time.Millisecond):
	}
}

func TestWebsocketRefusesOtherOriginsAndStrangers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.login(e.operator())

	_, res, err := c.dial("https://evil.example")
	require.Error(t, err)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	_, res, err = c.dial("")
	require.Error(t, err)
	require.Equal(t, http.StatusForbidden, res.StatusCode)

	_, res, err = e.anonymous().dial(e.url)
	require.Error(t, err)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)

	_, res, err = e.login(e.staff[crm.RoleKnowledgeEditor]).dial(e.url)
	require.Error(t, err)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
}

func TestPresenceFollowsTheConsolesSocket(t *testing.T) {
	t.Parallel()
	e := setup(t)
	online := func() bool {
		list, err := e.store.OnlineStaff(e.ctx, e.tenant.ID)
		require.NoError(t, err)
		for _, p := range list {
			if p.StaffID == e.operator().ID {
				return true
			}
		}
		return false
	}
	watcher := e.login(e.supervisor()).mustDial()
	require.False(t, online())

	conn := e.login(e.operator()).mustDial()
	require.True(t, online())
	ev := nextEvent(t, watcher, "presence")
	for ev.StaffID != e.operator().ID {
		ev = nextEvent(t, watcher, "presence")
	}
	require.Equal(t, "online", ev.Status)

	require.NoError(t, conn.Close())
	require.Eventually(t, func() bool { return !online() }, 10*time.Second, 20*time.Millisecond)
	ev = nextEvent(t, watcher, "presence")
	for ev.StaffID != e.operator().ID || ev.Status != "offline" {
		ev = nextEvent(t, watcher, "presence")
	}
}

func TestReconnectingConsoleCatchesUp(t *testing.T) {
	t.Parallel()
	e := setup(t)
	from := visitor("Mario Rossi")
	first := e.citizenWrites(from, "Buongiorno")
	convID := first.Message.ConversationID
	c := e.login(e.operator())
	conn := c.mustDial()
	require.NoError(t, conn.Close())

	// While no console listens.
	e.citizenWrites(from, "C'è qualcuno?")
	_, err := e.store.PostReply(e.ctx, e.supervisor().Actor(), convID, crm.Reply{Text: "Nota del supervisore", Private: true})
	require.NoError(t, err)

	// The page reconnects, then asks for what follows what it shows.
	c.mustDial()
	missed := c.get(convPath(convID, "/messages?after="+url.QueryEscape(itoa(convID)+":1")+"&last="+itoa(convID)),
		"X-Dialogo-Fetch", "1")
	counts := c.get("/console/inbox/counts", "X-Dialogo-Fetch", "1")

	require.Contains(t, missed.body, "C&#39;è qualcuno?")
	require.Contains(t, missed.body, "Nota del supervisore", "private notes too: the console is staff's")
	require.NotContains(t, missed.body, "Buongiorno")
	require.Contains(t, counts.body, `"unassigned":1`, "a private note does not take the conversation")
}
