package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EventsChannel is the PostgreSQL NOTIFY channel that carries Dialogo's events
// between instances.
const EventsChannel = "dialogo_events"

// EventKind says what changed.
type EventKind string

// The kinds of event.
const (
	EventMessage      EventKind = "message"      // a message was added to a conversation
	EventConversation EventKind = "conversation" // status, assignee, team, tags or priority changed
	EventDelivery     EventKind = "delivery"     // a message's delivery status changed
	EventTyping       EventKind = "typing"       // someone is typing (not stored)
	EventPresence     EventKind = "presence"     // an operator's availability or presence changed
	// EventResync is made by the Hub itself, never sent: events may have been
	// missed (the listening connection was lost), so subscribers must catch up
	// from the database.
	EventResync EventKind = "resync"
)

// Event is a small notice that something changed; subscribers read the details
// from the database, so that a notice is never the only copy of anything. It
// travels as a NOTIFY payload, which PostgreSQL delivers only when the
// transaction that sent it commits.
type Event struct {
	Kind           EventKind  `json:"k"`
	TenantID       int64      `json:"t"`
	ConversationID int64      `json:"c,omitempty"`
	ContactID      int64      `json:"ct,omitempty"`
	Seq            int64      `json:"s,omitempty"`
	Private        bool       `json:"p,omitempty"` // a message only staff may see
	Author         AuthorKind `json:"a,omitempty"` // typing: who types
	StaffID        int64      `json:"st,omitempty"`
	On             bool       `json:"on,omitempty"` // typing started (true) or stopped
	Status         string     `json:"x,omitempty"`
}

// notify sends an event in the store's transaction, or at once outside one.
func (s *Store) notify(ctx context.Context, e Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := s.db.Exec(ctx, `SELECT pg_notify($1, $2)`, EventsChannel, string(b)); err != nil {
		return fmt.Errorf("notify(%s): %w", e.Kind, err)
	}
	return nil
}

// Publish sends an event that nothing stores, such as typing.
func (s *Store) Publish(ctx context.Context, e Event) error { return s.notify(ctx, e) }

// Subscription receives the events that its filter accepts. When the subscriber
// falls behind, C is closed: it must catch up from the database and subscribe
// again. Close it when done.
type Subscription struct {
	C      <-chan Event
	c      chan Event
	filter func(Event) bool
	hub    *Hub
	once   sync.Once
}

// Close ends the subscription.
func (s *Subscription) Close() { s.hub.remove(s) }

// Hub listens to the events of every instance on one PostgreSQL connection and
// fans them out to subscribers in this process (websockets, mostly).
type Hub struct {
	pool *pgxpool.Pool
	log  *slog.Logger

	mu    sync.Mutex
	subs  map[*Subscription]struct{}
	ready chan struct{} // closed once the first LISTEN succeeded
}

// NewHub returns a hub; Run makes it listen.
func NewHub(pool *pgxpool.Pool, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.Default()
	}
	return &Hub{pool: pool, log: log, subs: map[*Subscription]struct{}{}, ready: make(chan struct{})}
}

// Subscribe registers a subscriber. buffer bounds how far it may fall behind.
func (h *Hub) Subscribe(filter func(Event) bool, buffer int) *Subscription {
	if buffer < 1 {
		buffer = 64
	}
	c := make(chan Event, buffer)
	s := &Subscription{C: c, c: c, filter: filter, hub: h}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *Hub) remove(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		s.once.Do(func() { close(s.c) })
	}
}

// Wake returns a channel that receives a signal (coalesced: at most one
// pending) for every event the filter accepts, until ctx ends; also when the
// hub cut the subscription off (a slow reader, the hub restarting), since
// events may have been missed: a worker woken by it looks for work in the
// database, never in the events.
func (h *Hub) Wake(ctx context.Context, filter func(Event) bool) <-chan struct{} {
	wake := make(chan struct{}, 1)
	signal := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	go func() {
		for ctx.Err() == nil {
			sub := h.Subscribe(filter, 256)
			stop := context.AfterFunc(ctx, sub.Close)
			for range sub.C {
				signal()
			}
			stop()
			sub.Close()
			signal()
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return wake
}

// Ready is closed once the hub listens: events committed after it are received.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// Subscribers counts the current subscribers.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

func (h *Hub) dispatch(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if e.Kind != EventResync && s.filter != nil && !s.filter(e) {
			continue
		}
		select {
		case s.c <- e:
		default:
			// A subscriber that cannot keep up is cut off rather than allowed to
			// hold the others back; it catches up from the database.
			delete(h.subs, s)
			s.once.Do(func() { close(s.c) })
		}
	}
}

// Run listens until ctx ends, reconnecting with back-off when the connection is
// lost; after a reconnection subscribers get EventResync, since events sent in
// between were missed.
func (h *Hub) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	first := true
	for {
		err := h.listen(ctx, func() {
			if first {
				close(h.ready)
				first = false
			} else {
				h.dispatch(Event{Kind: EventResync})
			}
			backoff = 100 * time.Millisecond
		})
		if ctx.Err() != nil {
			h.mu.Lock()
			for s := range h.subs {
				delete(h.subs, s)
				s.once.Do(func() { close(s.c) })
			}
			h.mu.Unlock()
			return nil
		}
		h.log.Warn("event listener lost its connection; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			continue
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (h *Hub) listen(ctx context.Context, listening func()) error {
	conn, err := pgx.ConnectConfig(ctx, h.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+EventsChannel); err != nil {
		return err
	}
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var e Event
		if err := json.Unmarshal([]byte(n.Payload), &e); err != nil {
			h.log.Error("malformed event", "err", err)
			continue
		}
		h.dispatch(e)
	}
}
