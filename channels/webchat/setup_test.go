package webchat_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/channels/webchat"
	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/testdb"
	"github.com/dialogo-pa/dialogo/web"
)

// comuneDiMilano is a valid creditor fiscal code for the tests' tenants.
const comuneDiMilano = "01199250158"

// wait bounds every wait for a frame or an event: generous, since tests run
// in parallel on a small machine; nothing asserts on speed.
const wait = 10 * time.Second

// env is a running web chat on the test database: a hub of its own, the
// web server with the chat as an area, a tenant of the test's own with a team
// and an operator, and the log the server wrote.
type env struct {
	t        *testing.T
	ctx      context.Context
	pool     *pgxpool.Pool
	store    *crm.Store
	hub      *crm.Hub
	chat     *webchat.Server
	url      string // http://127.0.0.1:port
	tenant   crm.Tenant
	team     crm.Team
	operator crm.Staff
	logs     *lockedBuffer
	areas    []web.Area // served besides the chat, added by options
}

// option adjusts the chat's configuration; e.url is known by then.
type option func(*env, *webchat.Config)

func setup(t *testing.T, opts ...option) *env {
	t.Helper()
	pool := testdb.New(t)
	e := &env{t: t, ctx: t.Context(), pool: pool, store: crm.NewStore(pool), logs: &lockedBuffer{}}
	slug := "ente-" + randomHex(6)
	var err error
	e.tenant, err = e.store.EnsureTenant(e.ctx, slug, "Comune di Prova "+slug, comuneDiMilano)
	require.NoError(t, err)
	e.team, err = e.store.EnsureTeam(e.ctx, e.tenant.ID, "urp", "Ufficio Relazioni con il Pubblico")
	require.NoError(t, err)
	e.operator = e.newStaff("Chiara Bianchi", crm.RoleOperator)
	e.startServer(opts...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", e.logs.String())
		}
	})
	return e
}

// startServer starts the hub and the web server of e on e's store.
func (e *env) startServer(opts ...option) {
	t := e.t
	t.Helper()
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	e.hub = crm.NewHub(e.pool, logger)
	hubDone := make(chan struct{})
	go func() { _ = e.hub.Run(ctx); close(hubDone) }()
	select {
	case <-e.hub.Ready():
	case <-time.After(wait):
		t.Fatal("the hub did not start listening")
	}
	ts := httptest.NewUnstartedServer(nil)
	e.url = "http://" + ts.Listener.Addr().String()
	cfg := webchat.Config{Store: e.store, Hub: e.hub, Logger: logger, PublicURL: e.url}
	for _, o := range opts {
		o(e, &cfg)
	}
	e.chat = webchat.New(cfg)
	srv := web.New(web.Config{Store: e.store, Pool: e.pool, Logger: logger, Areas: append([]web.Area{e.chat}, e.areas...)})
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), wait)
		defer scancel()
		require.NoError(t, e.chat.Shutdown(sctx))
		ts.Close()
		cancel()
		<-hubDone
	})
}

func (e *env) newStaff(name string, roles ...crm.Role) crm.Staff {
	e.t.Helper()
	st, err := e.store.EnsureStaff(e.ctx, e.tenant.ID, crm.StaffInput{
		Email: "staff-" + randomHex(6) + "@" + e.tenant.Slug + ".example.it", Name: name, Roles: roles,
		Password: "una password lunga abbastanza",
	})
	require.NoError(e.t, err)
	require.NoError(e.t, e.store.AddTeamMember(e.ctx, e.tenant.ID, e.team.ID, st.ID))
	return st
}

// socketURL is the chat's websocket of the test's ente.
func (e *env) socketURL() string {
	return "ws" + strings.TrimPrefix(e.url, "http") + "/chat/" + e.tenant.Slug + "/ws"
}

// frame holds every field of the frames the server sends.
type frame struct {
	Type           string `json:"type"`
	Visitor        string `json:"visitor"`
	ConversationID *int64 `json:"conversation_id"`
	Status         string `json:"status"`
	Position       int    `json:"position"`
	Contact        *struct {
		Name     string `json:"name"`
		Verified bool   `json:"verified"`
	} `json:"contact"`
	Limits *struct {
		MaxText            int   `json:"max_text"`
		MaxAttachmentBytes int64 `json:"max_attachment_bytes"`
		MessagesPerMinute  int   `json:"messages_per_minute"`
	} `json:"limits"`
	ClientID    string `json:"client_id"`
	Seq         int64  `json:"seq"`
	Author      string `json:"author"`
	AuthorName  string `json:"author_name"`
	Text        string `json:"text"`
	Attachments []struct {
		Token       string `json:"token"`
		Name        string `json:"name"`
		ContentType string `json:"content_type"`
		Size        int64  `json:"size"`
		URL         string `json:"url"`
	} `json:"attachments"`
	At           time.Time `json:"at"`
	On           bool      `json:"on"`
	Code         string    `json:"code"`
	Message      string    `json:"message"`
	Detail       string    `json:"detail"`
	RetryAfterMS int64     `json:"retry_after_ms"`
	Useful       *bool     `json:"useful"`
}

func (f frame) conversation() int64 {
	if f.ConversationID == nil {
		return 0
	}
	return *f.ConversationID
}

// client is a citizen's browser tab: a real websocket client whose frames a
// goroutine reads into a channel.
type client struct {
	t      *testing.T
	ws     *websocket.Conn
	frames chan frame
	done   chan struct{}
	err    error // why reading ended, once done is closed

	pending []frame // read, and set aside by waitFor

	wmu sync.Mutex
}

// dial opens a socket without saying hello.
func (e *env) dial(header http.Header) *client {
	e.t.Helper()
	return dialURL(e.t, e.socketURL(), header)
}

func dialURL(t *testing.T, u string, header http.Header) *client {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(u, header)
	require.NoError(t, err)
	resp.Body.Close()
	c := &client{t: t, ws: ws, frames: make(chan frame, 1024), done: make(chan struct{})}
	go c.read()
	t.Cleanup(func() { c.ws.Close() })
	return c
}

func (c *client) read() {
	defer close(c.done)
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			c.err = err
			return
		}
		if typ != websocket.TextMessage {
			continue
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			c.err = fmt.Errorf("the server sent a frame that is not JSON: %q", data)
			return
		}
		c.frames <- f
	}
}

// hello is what a test says in its hello frame.
type hello struct {
	Type           string         `json:"type"`
	Visitor        string         `json:"visitor"`
	ConversationID int64          `json:"conversation_id,omitempty"`
	LastSeq        int64          `json:"last_seq,omitempty"`
	Lang           string         `json:"lang,omitempty"`
	Identity       map[string]any `json:"identity,omitempty"`
}

// connect opens a socket, says hello and returns the client with the welcome.
func (e *env) connect(h hello) (*client, frame) {
	e.t.Helper()
	c := e.dial(nil)
	h.Type = "hello"
	c.sendJSON(h)
	w := c.next()
	require.Equal(e.t, "welcome", w.Type, "first frame: %+v", w)
	return c, w
}

// newVisitor connects a visitor never seen before.
func (e *env) newVisitor() (*client, frame) {
	e.t.Helper()
	return e.connect(hello{})
}

func (c *client) sendJSON(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	require.NoError(c.t, err)
	c.sendRaw(b)
}

func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	require.NoError(c.t, c.ws.WriteMessage(websocket.TextMessage, b))
}

// say sends a message frame.
func (c *client) say(clientID, text string, attachments ...string) {
	c.t.Helper()
	m := map[string]any{"type": "message", "client_id": clientID, "text": text}
	if attachments != nil {
		m["attachments"] = attachments
	}
	c.sendJSON(m)
}

// next returns the next frame (one set aside by waitFor first).
func (c *client) next() frame {
	c.t.Helper()
	if len(c.pending) > 0 {
		f := c.pending[0]
		c.pending = c.pending[1:]
		return f
	}
	select {
	case f := <-c.frames:
		return f
	case <-c.done:
		select {
		case f := <-c.frames:
			return f
		default:
		}
		c.t.Fatalf("the connection ended while a frame was expected: %v", c.err)
	case <-time.After(wait):
		c.t.Fatal("no frame arrived")
	}
	return frame{}
}

// waitFor returns the first frame that matches. The frames before it are set
// aside for later waits, since the server's frames of different goroutines
// (an ack, the echo of the message) come in either order.
func (c *client) waitFor(what string, match func(frame) bool) frame {
	c.t.Helper()
	for i, f := range c.pending {
		if match(f) {
			c.pending = append(c.pending[:i:i], c.pending[i+1:]...)
			return f
		}
	}
	deadline := time.After(wait)
	for {
		select {
		case f := <-c.frames:
			if match(f) {
				return f
			}
			c.pending = append(c.pending, f)
		case <-c.done:
			select {
			case f := <-c.frames:
				if match(f) {
					return f
				}
				c.pending = append(c.pending, f)
				continue
			default:
			}
			c.t.Fatalf("the connection ended while waiting for %s: %v", what, c.err)
		case <-deadline:
			c.t.Fatalf("no %s arrived; set aside: %+v", what, c.pending)
		}
	}
}

// never asserts that no frame that matches arrives for a while.
func (c *client) never(what string, match func(frame) bool, d time.Duration) {
	c.t.Helper()
	for _, f := range c.pending {
		require.False(c.t, match(f), "unexpected %s: %+v", what, f)
	}
	deadline := time.After(d)
	for {
		select {
		case f := <-c.frames:
			require.False(c.t, match(f), "unexpected %s: %+v", what, f)
			c.pending = append(c.pending, f)
		case <-deadline:
			return
		}
	}
}

func (c *client) waitType(typ string) frame {
	c.t.Helper()
	return c.waitFor(typ+" frame", func(f frame) bool { return f.Type == typ })
}

// ack waits for the acknowledgement of a client id.
func (c *client) ack(clientID string) frame {
	c.t.Helper()
	return c.waitFor("ack of "+clientID, func(f frame) bool {
		require.NotEqual(c.t, "error", f.Type, "error frame while waiting for an ack: %+v", f)
		return f.Type == "ack" && f.ClientID == clientID
	})
}

// message waits for a message frame with the sequence number.
func (c *client) message(seq int64) frame {
	c.t.Helper()
	return c.waitFor(fmt.Sprintf("message %d", seq), func(f frame) bool { return f.Type == "message" && f.Seq == seq })
}

// errorFrame waits for an error frame.
func (c *client) errorFrame() frame {
	c.t.Helper()
	return c.waitType("error")
}

// roundTrip sends a ping and waits for the pong: every frame sent before has
// been handled by then.
func (c *client) roundTrip() {
	c.t.Helper()
	c.sendJSON(map[string]string{"type": "ping"})
	c.waitType("pong")
}

// closed waits for the server to close the connection and returns the close
// error, with the frames received before it.
func (c *client) closed() (*websocket.CloseError, []frame) {
	c.t.Helper()
	return c.closedWithin(wait)
}

func (c *client) closedWithin(d time.Duration) (*websocket.CloseError, []frame) {
	c.t.Helper()
	got := c.pending
	c.pending = nil
	deadline := time.After(d)
	for {
		select {
		case f := <-c.frames:
			got = append(got, f)
		case <-c.done:
			for {
				select {
				case f := <-c.frames:
					got = append(got, f)
				default:
					var ce *websocket.CloseError
					require.True(c.t, errors.As(c.err, &ce), "the connection ended without a close frame: %v", c.err)
					return ce, got
				}
			}
		case <-deadline:
			c.t.Fatal("the server did not close the connection")
		}
	}
}

// startConversation connects a new visitor, sends a first message and returns
// the client, its visitor token and the conversation.
func (e *env) startConversation(text string) (*client, string, int64) {
	e.t.Helper()
	c, w := e.newVisitor()
	id := newClientID()
	c.say(id, text)
	ack := c.ack(id)
	require.Equal(e.t, int64(1), ack.Seq)
	c.message(1)
	return c, w.Visitor, ack.conversation()
}

// reply posts an operator's reply and returns it.
func (e *env) reply(conversationID int64, text string) crm.Message {
	e.t.Helper()
	m, err := e.store.PostReply(e.ctx, e.operator.Actor(), conversationID, crm.Reply{Text: text})
	require.NoError(e.t, err)
	return m
}

func (e *env) messages(conversationID int64) []crm.Message {
	e.t.Helper()
	ms, err := e.store.Messages(e.ctx, e.tenant.ID, conversationID, 0, true)
	require.NoError(e.t, err)
	return ms
}

func (e *env) conversation(id int64) crm.Conversation {
	e.t.Helper()
	c, err := e.store.Conversation(e.ctx, e.tenant.ID, id)
	require.NoError(e.t, err)
	return c
}

// subscribe follows the test tenant's events on the hub, as a console would.
func (e *env) subscribe() *crm.Subscription {
	sub := e.hub.Subscribe(func(ev crm.Event) bool { return ev.TenantID == e.tenant.ID }, 1024)
	e.t.Cleanup(sub.Close)
	return sub
}

func waitEvent(t *testing.T, sub *crm.Subscription, what string, match func(crm.Event) bool) crm.Event {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case ev, ok := <-sub.C:
			require.True(t, ok, "the hub closed the subscription")
			if match(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event arrived", what)
		}
	}
}

func newClientID() string { return "c-" + randomHex(8) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// lockedBuffer collects the server's log from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ io.Writer = (*lockedBuffer)(nil)
