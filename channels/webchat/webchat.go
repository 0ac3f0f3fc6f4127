// Package webchat is the server side of the citizen's web chat: the websocket
// that the widget speaks docs/chat-protocol.md over, the upload and download of
// attachments, and "Accedi con SPID/CIE" for a visitor of the chat.
//
// It is the web chat's channels.Adapter. Inbound, each message frame is stored
// with crm.Store.Ingest before it is acknowledged. Outbound, nothing is sent by
// Deliver: every connection follows its conversation through the crm.Hub,
// which carries the events of every instance, and reads what changed from the
// database, so a reply stored on any instance reaches the citizen wherever
// their socket is.
//
// A visitor is known by a secret token that the server makes and the widget
// keeps; the CRM knows only an identity derived from its hash, so neither the
// database nor the logs ever hold the token itself.
package webchat

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dialogo-pa/dialogo/channels"
	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/web/citizenauth"
)

// CallbackPath is where the identity provider sends the citizen back after
// "Accedi con SPID/CIE": the login provider's redirect URL is the public URL
// followed by it.
const CallbackPath = "/chat/callback"

// Defaults of Config.
const (
	DefaultMaxAttachmentBytes = 10 << 20
	DefaultMessagesPerMinute  = 20
	DefaultMessageBurst       = 5
)

// Config is what the web chat needs.
type Config struct {
	// Store keeps the conversations.
	Store *crm.Store
	// Hub brings the events of every instance (a reply, an assignment, an
	// operator typing); it must be running.
	Hub *crm.Hub
	// Logger receives connections (info) and frames (debug), never tokens or
	// message text; nil means slog.Default().
	Logger *slog.Logger
	// Login is "Accedi con SPID/CIE"; nil turns it off.
	Login citizenauth.Provider
	// PublicURL is where citizens reach Dialogo (scheme and host, no trailing
	// slash): the login sends them back there, and the socket accepts pages
	// of that origin besides the request's own host.
	PublicURL string
	// MaxAttachmentBytes bounds an uploaded file; default 10 MiB, at most
	// crm.MaxAttachmentSize.
	MaxAttachmentBytes int64
	// SecureCookies marks the cookies the chat sets Secure (HTTPS only).
	SecureCookies bool
	// MessagesPerMinute and MessageBurst are each visitor's message rate: a
	// token bucket shared by all the visitor's connections to this instance.
	// Defaults 20 and 5.
	MessagesPerMinute int
	MessageBurst      int
}

// Server is the web chat. It implements web.Area (Register) and
// channels.Adapter.
type Server struct {
	store         *crm.Store
	positions     *positions
	hub           *crm.Hub
	log           *slog.Logger
	login         citizenauth.Provider
	publicURL     string
	publicHost    string
	maxAttachment int64
	secureCookies bool
	perMinute     int

	messages *rateLimits // per visitor: message frames
	feedback *rateLimits // per visitor: feedback frames, at the rate of messages
	uploads  *rateLimits // per visitor: attachment uploads
	upgrader websocket.Upgrader

	// ctx ends with Shutdown, and with it every connection.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	closing bool
	conns   sync.WaitGroup
}

var _ channels.Adapter = (*Server)(nil)

// New builds the web chat.
func New(cfg Config) *Server {
	s := &Server{
		store:         cfg.Store,
		positions:     newPositions(cfg.Store),
		hub:           cfg.Hub,
		log:           cfg.Logger,
		login:         cfg.Login,
		publicURL:     strings.TrimRight(cfg.PublicURL, "/"),
		maxAttachment: cfg.MaxAttachmentBytes,
		secureCookies: cfg.SecureCookies,
		perMinute:     cfg.MessagesPerMinute,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxAttachment <= 0 {
		s.maxAttachment = DefaultMaxAttachmentBytes
	}
	s.maxAttachment = min(s.maxAttachment, crm.MaxAttachmentSize)
	if s.perMinute <= 0 {
		s.perMinute = DefaultMessagesPerMinute
	}
	burst := cfg.MessageBurst
	if burst <= 0 {
		burst = DefaultMessageBurst
	}
	if u, err := url.Parse(s.publicURL); err == nil {
		s.publicHost = u.Host
	}
	s.messages = newRateLimits(float64(s.perMinute)/60, float64(burst))
	// Feedback has a bucket of its own: a citizen rating answers never
	// delays their next message.
	s.feedback = newRateLimits(float64(s.perMinute)/60, float64(burst))
	s.uploads = newRateLimits(10.0/60, 5)
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		// Buffers of the HTTP server are reused for reading, and write
		// buffers are shared between idle connections: most of the many
		// open chats are idle most of the time.
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     s.checkOrigin,
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Register adds the web chat's routes to mux. The chat page itself
// (GET /chat/{ente}) belongs to package widget.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /chat/{ente}/ws", s.serveSocket)
	mux.HandleFunc("POST /chat/{ente}/attachments", s.upload)
	mux.HandleFunc("GET /chat/{ente}/attachments/{token}", s.download)
	mux.HandleFunc("GET /chat/{ente}/login", s.beginLogin)
	mux.HandleFunc("GET "+CallbackPath, s.completeLogin)
}

// Channel is the web chat.
func (s *Server) Channel() crm.Channel { return crm.ChannelWebchat }

// Deliver reports an outbound message sent: the citizen's open connections
// push it as soon as it is committed, from the hub's event, and a closed one
// replays it on reconnection, so there is nothing to hand over here. The
// citizen's acknowledgement later marks it delivered and read.
func (s *Server) Deliver(ctx context.Context, m channels.Outbound) (channels.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return channels.Delivery{}, err
	}
	if m.Conversation.Channel != crm.ChannelWebchat {
		return channels.Delivery{}, fmt.Errorf("%w: conversation %d is on %s, not the web chat",
			channels.ErrPermanent, m.Conversation.ID, m.Conversation.Channel)
	}
	if m.Message.Private || m.Message.Direction != crm.Outbound {
		return channels.Delivery{}, fmt.Errorf("%w: message %d is not for the citizen", channels.ErrPermanent, m.Message.ID)
	}
	return channels.Delivery{Status: crm.DeliverySent}, nil
}

// Shutdown closes every open chat with "going away" (the widgets reconnect,
// to another instance) and waits for them to end, or for ctx. The HTTP server's
// own Shutdown does not close websockets, which it no longer tracks.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.cancel()
	done := make(chan struct{})
	go func() { s.conns.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("web chat shutdown: %w", ctx.Err())
	}
}

// track counts an open connection, unless the server is shutting down.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns.Add(1)
	return true
}

// checkOrigin accepts browsers on pages of our own host (the chat page, or
// the frame the embed script opens, both served by Dialogo) and clients that
// send no Origin (not browsers, such as the load generator).
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Host, r.Host) || (s.publicHost != "" && strings.EqualFold(u.Host, s.publicHost))
}

// chatURL is the chat page of an ente, where the login sends the citizen back.
func (s *Server) chatURL(ente string) string {
	return s.publicURL + "/chat/" + url.PathEscape(ente)
}
