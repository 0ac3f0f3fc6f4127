package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/testdb"
)

// instance is one `dialogo serve` of a cluster: its own hub and HTTP server, on
// the database the others share.
type instance struct {
	url string
}

func startInstance(t *testing.T) instance {
	t.Helper()
	env := testEnv(t, io.Discard)
	db, err := openDatabase(t.Context(), env, false)
	require.NoError(t, err)
	t.Cleanup(func() { db.close(env.log) })
	st, err := newSite(t.Context(), env, db, nil)
	require.NoError(t, err)
	go func() { _ = st.hub.Run(t.Context()) }()
	select {
	case <-st.hub.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the hub did not start listening")
	}
	srv := httptest.NewServer(st.handler)
	t.Cleanup(func() {
		_ = st.chat.Shutdown(t.Context())
		srv.Close()
	})
	return instance{url: srv.URL}
}

// wsConn reads JSON frames with a deadline, and writes them.
type wsConn struct {
	t *testing.T
	c *websocket.Conn
}

func dial(t *testing.T, base, path string, header http.Header) *wsConn {
	t.Helper()
	if header == nil {
		header = http.Header{}
	}
	header.Set("Origin", base)
	c, resp, err := websocket.DefaultDialer.DialContext(t.Context(), "ws"+strings.TrimPrefix(base, "http")+path, header)
	if resp != nil {
		resp.Body.Close()
	}
	require.NoError(t, err, "dialling %s", path)
	t.Cleanup(func() { c.Close() })
	return &wsConn{t: t, c: c}
}

func (w *wsConn) send(v any) {
	w.t.Helper()
	require.NoError(w.t, w.c.WriteJSON(v))
}

// await reads frames until one satisfies match, failing after a few seconds.
func (w *wsConn) await(what string, match func(map[string]any) bool) map[string]any {
	w.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		require.NoError(w.t, w.c.SetReadDeadline(deadline), what)
		var f map[string]any
		if err := w.c.ReadJSON(&f); err != nil {
			w.t.Fatalf("waiting for %s: %v", what, err)
		}
		if match(f) {
			return f
		}
	}
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// TestTwoInstancesCarryMessagesAssignmentAndTypingBothWays connects the citizen
// to one instance and the operator to another, on one database, as behind a load
// balancer: everything goes through PostgreSQL's LISTEN/NOTIFY.
func TestTwoInstancesCarryMessagesAssignmentAndTypingBothWays(t *testing.T) {
	ctx := t.Context()
	store := crm.NewStore(testdb.New(t))
	slug := fmt.Sprintf("rt-%d", time.Now().UnixNano())
	tenant, err := store.EnsureTenant(ctx, slug, "Comune di Prova", "01199250158")
	require.NoError(t, err)
	team, err := store.EnsureTeam(ctx, tenant.ID, "urp", "URP")
	require.NoError(t, err)
	op, err := store.EnsureStaff(ctx, tenant.ID, crm.StaffInput{Email: slug + "@op.example", Name: "Chiara Operatrice",
		Roles: []crm.Role{crm.RoleOperator}, Password: "password-lunga"})
	require.NoError(t, err)
	require.NoError(t, store.AddTeamMember(ctx, tenant.ID, team.ID, op.ID))

	citizenSide, operatorSide := startInstance(t), startInstance(t)

	// The operator logs in on the second instance and opens the console's stream.
	jar, _ := cookiejar.New(nil)
	staff := &http.Client{Jar: jar}
	body, _ := json.Marshal(map[string]string{"email": op.Email, "password": "password-lunga"})
	resp, err := staff.Post(operatorSide.url+"/api/v1/session", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&login))
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	cookies := http.Header{}
	for _, c := range jar.Cookies(mustURL(t, operatorSide.url)) {
		cookies.Add("Cookie", c.Name+"="+c.Value)
	}
	console := dial(t, operatorSide.url, "/console/ws", cookies.Clone())
	console.await("the console's hello", func(f map[string]any) bool { return f["k"] == "hello" })

	// The citizen writes on the first instance.
	citizen := dial(t, citizenSide.url, "/chat/"+slug+"/ws", nil)
	citizen.send(map[string]any{"type": "hello", "visitor": "", "last_seq": 0, "lang": "it"})
	welcome := citizen.await("welcome", func(f map[string]any) bool { return f["type"] == "welcome" })
	visitor := welcome["visitor"].(string)
	citizen.send(map[string]any{"type": "message", "client_id": "c-first-0001", "text": "Buongiorno, vorrei informazioni sulla TARI"})
	ack := citizen.await("the ack", func(f map[string]any) bool { return f["type"] == "ack" })
	conv := num(ack["conversation_id"])
	require.Positive(t, conv)

	ev := console.await("the citizen's message on the other instance", func(f map[string]any) bool {
		return f["k"] == "message" && num(f["c"]) == conv
	})
	require.Equal(t, num(ack["seq"]), num(ev["s"]))

	// Assignment made on the operator's instance reaches the citizen's.
	apiPost(t, staff, operatorSide.url+fmt.Sprintf("/api/v1/conversations/%d/assign", conv), login.CSRF,
		map[string]any{"assignee_id": op.ID})
	citizen.await("the assignment", func(f map[string]any) bool { return f["type"] == "status" && f["status"] == "assigned" })

	// Typing, both ways.
	console.send(map[string]any{"type": "typing", "c": conv, "on": true})
	typing := citizen.await("the operator typing", func(f map[string]any) bool { return f["type"] == "typing" })
	require.Equal(t, "operator", typing["author"])
	require.Equal(t, true, typing["on"])
	citizen.send(map[string]any{"type": "typing", "on": true})
	console.await("the citizen typing", func(f map[string]any) bool {
		return f["k"] == "typing" && f["a"] == "citizen" && num(f["c"]) == conv
	})

	// The operator's reply reaches the citizen live.
	apiPost(t, staff, operatorSide.url+fmt.Sprintf("/api/v1/conversations/%d/messages", conv), login.CSRF,
		map[string]any{"text": "Buongiorno! La TARI si paga con avviso pagoPA."})
	reply := citizen.await("the reply", func(f map[string]any) bool { return f["type"] == "message" && f["author"] == "operator" })
	require.Equal(t, "Buongiorno! La TARI si paga con avviso pagoPA.", reply["text"])
	require.Equal(t, "Chiara", reply["author_name"], "citizens see the first name only")

	// The console drops; the citizen writes twice; the console reconnects and
	// catches up from the last sequence it had shown.
	lastShown := num(reply["seq"])
	require.NoError(t, console.c.Close())
	for i, text := range []string{"Ho ricevuto un avviso", "Scade il 31 dicembre"} {
		citizen.send(map[string]any{"type": "message", "client_id": fmt.Sprintf("c-missed-%04d", i), "text": text})
		citizen.await("an ack", func(f map[string]any) bool { return f["type"] == "ack" })
	}
	console = dial(t, operatorSide.url, "/console/ws", cookies.Clone())
	console.await("the console's hello after reconnecting", func(f map[string]any) bool { return f["k"] == "hello" })
	page := get(t, staff, operatorSide.url+fmt.Sprintf("/console/conversations/%d/messages?after=%d:%d", conv, conv, lastShown))
	require.Contains(t, page, "Ho ricevuto un avviso")
	require.Contains(t, page, "Scade il 31 dicembre")
	require.NotContains(t, page, "La TARI si paga", "what the console already showed is not sent again")

	// And live again after the reconnection.
	citizen.send(map[string]any{"type": "message", "client_id": "c-after-00001", "text": "Grazie"})
	citizen.await("an ack", func(f map[string]any) bool { return f["type"] == "ack" })
	console.await("a live message after reconnecting", func(f map[string]any) bool { return f["k"] == "message" && num(f["c"]) == conv })

	// The citizen reconnects to the OTHER instance and misses nothing.
	again := dial(t, operatorSide.url, "/chat/"+slug+"/ws", nil)
	again.send(map[string]any{"type": "hello", "visitor": visitor, "conversation_id": conv, "last_seq": lastShown, "lang": "it"})
	again.await("welcome", func(f map[string]any) bool { return f["type"] == "welcome" })
	seen := map[string]bool{}
	for len(seen) < 3 {
		f := again.await("the replay", func(f map[string]any) bool { return f["type"] == "message" })
		seen[f["text"].(string)] = true
	}
	require.Equal(t, map[string]bool{"Ho ricevuto un avviso": true, "Scade il 31 dicembre": true, "Grazie": true}, seen)
}

func apiPost(t *testing.T, c *http.Client, url, csrf string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	require.Less(t, resp.StatusCode, 300, "%s: %s", url, msg)
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("X-Requested-With", "fetch")
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", url, b)
	return string(b)
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}
