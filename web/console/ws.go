package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dialogo-pa/dialogo/crm"
)

// The console's websocket, GET /console/ws.
//
// Server → page: one JSON object per frame, crm.Event without the tenant, with
// the short keys of its NOTIFY payload: {"k":"message","c":12,"ct":5,"s":7},
// {"k":"typing","c":12,"a":"citizen","on":true}, {"k":"conversation",...},
// {"k":"delivery",...}, {"k":"presence","st":3,"x":"available"}. An operator's
// typing carries their name in "n". {"k":"hello"} opens the stream and
// {"k":"resync"} says that events may have been missed: the page reads again
// what it shows. A page that cannot keep up is disconnected (close code 1013)
// and reconnects, and catches up the same way.
//
// Page → server: {"type":"typing","c":12,"on":true} while the operator types in
// conversation 12 (and "on":false when they stop); the server passes at most
// one "on" per conversation every typingEvery to crm.Store.Publish.
//
// While the socket is open the staff member is present (crm.TouchPresence,
// every crm.PresenceHeartbeat); when it closes they are not (DropPresence).

const (
	// pingEvery keeps the connection alive through proxies and finds dead
	// peers; a page that does not answer within pongWait is dropped.
	pingEvery   = 25 * time.Second
	pongWait    = 60 * time.Second
	writeWait   = 10 * time.Second
	maxFrame    = 4096
	subBuffer   = 256
	typingEvery = 2 * time.Second
)

var errUnavailable = errors.New("live updates are not available")

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 4096,
	CheckOrigin:     sameOrigin,
}

// sameOrigin accepts only the console's own pages: a browser always sends
// Origin on a websocket, and another site's page must not ride the staff
// member's cookie.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, r.Host)
}

// wsEvent is an event as the page receives it.
type wsEvent struct {
	Kind           crm.EventKind  `json:"k"`
	ConversationID int64          `json:"c,omitempty"`
	ContactID      int64          `json:"ct,omitempty"`
	Seq            int64          `json:"s,omitempty"`
	Private        bool           `json:"p,omitempty"`
	Author         crm.AuthorKind `json:"a,omitempty"`
	StaffID        int64          `json:"st,omitempty"`
	Name           string         `json:"n,omitempty"`
	On             bool           `json:"on,omitempty"`
	Status         string         `json:"x,omitempty"`
}

// clientFrame is a frame from the page.
type clientFrame struct {
	Type           string `json:"type"`
	ConversationID int64  `json:"c"`
	On             bool   `json:"on"`
}

func (c *Console) websocket(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.hub == nil {
		return errUnavailable
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil // the upgrader has answered
	}
	s := &socket{c: c, conn: conn, tenantID: rq.staff.TenantID, staffID: rq.staff.ID, id: randomID(12),
		typing: map[int64]*typingState{}, known: map[int64]bool{}}
	s.run(r.Context())
	return nil
}

// socket is one console's connection.
type socket struct {
	c        *Console
	conn     *websocket.Conn
	tenantID int64
	staffID  int64
	id       string // the presence connection id

	namesMu sync.Mutex
	names   map[int64]string
	// typing and known are the reader's: the operator's typing per
	// conversation, and the conversations checked to be of the ente.
	typing map[int64]*typingState
	known  map[int64]bool
}

type typingState struct {
	on     bool
	sentAt time.Time
}

func (s *socket) run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer s.conn.Close()
	log := s.c.log.With("staff_id", s.staffID, "connection", s.id)

	tenant := s.tenantID
	sub := s.c.hub.Subscribe(func(e crm.Event) bool { return e.TenantID == tenant }, subBuffer)
	defer sub.Close()

	if err := s.c.store.TouchPresence(ctx, s.tenantID, s.staffID, s.id); err != nil {
		log.WarnContext(ctx, "console: recording presence", "error", err)
	}
	defer func() {
		dctx, dcancel := detached(ctx)
		defer dcancel()
		if err := s.c.store.DropPresence(dctx, s.tenantID, s.staffID, s.id); err != nil {
			log.WarnContext(dctx, "console: dropping presence", "error", err)
		}
		s.stopTyping(dctx)
	}()

	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer cancel()
		s.read(ctx)
	}()
	defer func() { s.conn.Close(); <-readerDone }()

	if s.write(wsEvent{Kind: "hello"}) != nil {
		return
	}
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	heartbeat := time.NewTicker(crm.PresenceHeartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.C:
			if !ok {
				// Cut off for falling behind (or the hub stopped): the page
				// reconnects and catches up from the database.
				_ = s.conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "catch up"), time.Now().Add(writeWait))
				return
			}
			if e.Kind == crm.EventTyping && e.Author == crm.AuthorOperator && e.StaffID == s.staffID {
				continue // the operator's own typing
			}
			out := wsEvent{Kind: e.Kind, ConversationID: e.ConversationID, ContactID: e.ContactID, Seq: e.Seq,
				Private: e.Private, Author: e.Author, StaffID: e.StaffID, On: e.On, Status: e.Status}
			if e.Kind == crm.EventTyping && e.Author == crm.AuthorOperator {
				out.Name = s.staffName(ctx, e.StaffID)
			}
			if s.write(out) != nil {
				return
			}
		case <-ping.C:
			if s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)) != nil {
				return
			}
		case <-heartbeat.C:
			if err := s.c.store.TouchPresence(ctx, s.tenantID, s.staffID, s.id); err != nil && ctx.Err() == nil {
				log.WarnContext(ctx, "console: recording presence", "error", err)
			}
		}
	}
}

func (s *socket) write(v any) error {
	_ = s.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return s.conn.WriteJSON(v)
}

// read handles the page's frames until the connection closes.
func (s *socket) read(ctx context.Context) {
	s.conn.SetReadLimit(maxFrame)
	_ = s.conn.SetReadDeadline(time.Now().Add(pongWait))
	s.conn.SetPongHandler(func(string) error { return s.conn.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		_, data, err := s.conn.ReadMessage()
		if err != nil {
			return
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(pongWait))
		var f clientFrame
		if json.Unmarshal(data, &f) != nil {
			continue // a page of ours sends nothing else; ignore the rest
		}
		if f.Type == "typing" && f.ConversationID > 0 {
			s.typed(ctx, f.ConversationID, f.On)
		}
	}
}

// typed passes the operator's typing on, throttled.
func (s *socket) typed(ctx context.Context, convID int64, on bool) {
	if !s.known[convID] {
		if len(s.known) > 1000 {
			clear(s.known)
		}
		if _, err := s.c.store.ConversationHead(ctx, s.tenantID, convID); err != nil {
			return
		}
		s.known[convID] = true
	}
	st := s.typing[convID]
	if st == nil {
		st = &typingState{}
		s.typing[convID] = st
	}
	if on == st.on && (!on || time.Since(st.sentAt) < typingEvery) {
		return
	}
	st.on, st.sentAt = on, time.Now()
	err := s.c.store.Publish(ctx, crm.Event{Kind: crm.EventTyping, TenantID: s.tenantID, ConversationID: convID,
		Author: crm.AuthorOperator, StaffID: s.staffID, On: on})
	if err != nil && ctx.Err() == nil {
		s.c.log.WarnContext(ctx, "console: publishing typing", "error", err)
	}
}

// stopTyping tells that the operator of a closed console stopped typing. It
// runs after the reader has returned.
func (s *socket) stopTyping(ctx context.Context) {
	for convID, st := range s.typing {
		if st.on {
			_ = s.c.store.Publish(ctx, crm.Event{Kind: crm.EventTyping, TenantID: s.tenantID, ConversationID: convID,
				Author: crm.AuthorOperator, StaffID: s.staffID})
		}
	}
}

// staffName names a colleague who types, reading the ente's staff again when
// one is not known yet.
func (s *socket) staffName(ctx context.Context, id int64) string {
	s.namesMu.Lock()
	defer s.namesMu.Unlock()
	if name, ok := s.names[id]; ok {
		return name
	}
	names, err := s.c.staffNames(ctx, s.tenantID)
	if err != nil {
		return ""
	}
	s.names = names
	return names[id]
}
