package webchat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/web/citizenauth"
	"github.com/dialogo-pa/dialogo/web/i18n"
)

// Timing and sizes of a connection.
const (
	helloWait          = 10 * time.Second // from the upgrade to hello
	pongWait           = 60 * time.Second // silence after which the peer is gone
	pingPeriod         = 25 * time.Second
	writeWait          = 10 * time.Second // a frame that takes longer to write: the peer is gone or too slow
	closeGrace         = 2 * time.Second  // after our close frame, to let the peer read it
	dbTimeout          = 10 * time.Second
	maxFramesPerSecond = 30
	maxBadFrames       = 10
	// Queues are small: thousands of chats are open at once, mostly idle. A
	// pusher that falls further behind the hub is cut off and catches up
	// from the database, which is always right.
	outQueue  = 32 // frames waiting for the writer
	hubBuffer = 16 // events waiting for the pusher
	// positionRefresh is about how often a queued conversation's place is
	// looked at again: others leaving the queue ahead of it send no event to it.
	positionRefresh = time.Minute
)

var clientIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// conn is one widget's socket. Three goroutines share it: the reader (the
// HTTP handler's), which handles the citizen's frames; the writer, the only
// one that writes to the socket, fed by a bounded queue; and the pusher, which
// follows the conversation through the hub and the database and queues what
// the citizen must see.
type conn struct {
	srv     *Server
	ws      *websocket.Conn
	tenant  crm.Tenant
	log     *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc
	started time.Time

	out        chan outFrame
	writerDone chan struct{}
	pusherDone chan struct{}

	// Set by hello, then only read.
	lang           string
	visitorID      string
	bucket         *bucket // messages
	feedbackBucket *bucket

	// Read by the hub's filter on the hub's goroutine; written by the reader
	// (after storing a message) and the pusher (after following the
	// conversation elsewhere).
	contactID atomic.Int64
	convID    atomic.Int64

	kick  chan struct{}    // the pusher should look at the database
	local chan crm.Message // messages the reader stored, pushed without a query

	shownMu sync.Mutex
	shown   map[int64]bool // conversations pushed to the widget, which receipts may name

	// The reader's own.
	helloDone    bool
	frames       int
	windowStart  time.Time
	windowFrames int
	badFrames    int
	typingAt     [2]time.Time        // the last two typing notices passed on
	receipts     map[int64]*[2]int64 // per conversation: highest ack, highest read
	closeReason  string
}

// outFrame is a text frame to write, or a close frame when closeCode is set.
type outFrame struct {
	data      []byte
	closeCode int
	closeText string
}

// serveSocket upgrades GET /chat/{ente}/ws and runs the connection until it ends.
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	tenant, ok := s.requestTenant(w, r, i18n.Lang(r))
	if !ok {
		return
	}
	if !s.track() {
		s.writeProblem(w, r, i18n.Lang(r), http.StatusServiceUnavailable, "unavailable", "internal")
		return
	}
	defer s.conns.Done()
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered with the error
	}
	c := &conn{
		srv:        s,
		ws:         ws,
		tenant:     tenant,
		started:    time.Now(),
		out:        make(chan outFrame, outQueue),
		writerDone: make(chan struct{}),
		pusherDone: make(chan struct{}),
		kick:       make(chan struct{}, 1),
		local:      make(chan crm.Message, 2),
		shown:      map[int64]bool{},
		receipts:   map[int64]*[2]int64{},
		lang:       i18n.Default,
	}
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	c.log = s.log.With("ente", tenant.Slug, "conn", connectionID())
	c.run()
}

func connectionID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (c *conn) run() {
	go c.writeLoop()
	c.readLoop()
	// A close we chose is written before the end; otherwise (the peer left,
	// the server is shutting down) the writer says goodbye if it still can.
	c.cancel()
	select {
	case <-c.writerDone:
	case <-time.After(closeGrace): // stuck writing to a peer that is gone
	}
	c.ws.Close()
	<-c.writerDone
	if c.helloDone {
		<-c.pusherDone
		c.srv.messages.release(c.bucket)
		c.srv.feedback.release(c.feedbackBucket)
		c.log.Info("web chat disconnected", "reason", c.closeReason, "frames", c.frames,
			"duration", time.Since(c.started).Round(time.Millisecond))
	}
}

// writeLoop is the only writer of the socket.
func (c *conn) writeLoop() {
	defer close(c.writerDone)
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	for {
		select {
		case f := <-c.out:
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if f.closeCode != 0 {
				_ = c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(f.closeCode, f.closeText))
				return
			}
			if err := c.ws.WriteMessage(websocket.TextMessage, f.data); err != nil {
				c.abort("write failed")
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.abort("ping failed")
				return
			}
		case <-c.ctx.Done():
			_ = c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(time.Second))
			// The reader waits for the peer's answer, not for ever.
			_ = c.ws.SetReadDeadline(time.Now().Add(closeGrace))
			return
		}
	}
}

// abort ends a connection whose peer cannot be written to: closing the socket
// wakes the reader.
func (c *conn) abort(reason string) {
	c.log.Debug("web chat write failed", "reason", reason)
	c.cancel()
	_ = c.ws.Close()
}

// send queues a frame for the writer, waiting while the queue is full: a
// slow reader slows only its own connection, and the write deadline ends it
// when it stops reading.
func (c *conn) send(v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // frames are structs of strings and numbers: they always encode
	}
	select {
	case c.out <- outFrame{data: b}:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// sendError sends an error frame whose message is the text key in the
// citizen's language.
func (c *conn) sendError(code, key string, e errorOut, args ...any) {
	e.Type, e.Code, e.Message = "error", code, texts.T(c.lang, key, args...)
	c.send(e)
}

// readLoop reads frames until the connection ends.
func (c *conn) readLoop() {
	_ = c.ws.SetReadDeadline(time.Now().Add(helloWait))
	c.ws.SetPongHandler(func(string) error {
		if c.helloDone {
			return c.ws.SetReadDeadline(time.Now().Add(pongWait))
		}
		return nil
	})
	for {
		typ, r, err := c.ws.NextReader()
		if err != nil {
			var ne net.Error
			switch {
			case !c.helloDone && errors.As(err, &ne) && ne.Timeout():
				c.closeReason = "no hello"
				c.closeWith(websocket.ClosePolicyViolation, "hello expected", false)
			case websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway):
				c.closeReason = "closed by the client"
			default:
				c.closeReason = "connection lost"
			}
			return
		}
		// Read one byte more than a frame may have, to know it has more,
		// and never more than that: a huge frame is not read at all.
		data, err := io.ReadAll(io.LimitReader(r, maxFrameBytes+1))
		if err != nil {
			c.closeReason = "connection lost"
			return
		}
		c.frames++
		if c.flooding(time.Now()) {
			c.closeReason = "too many frames"
			c.closeWith(websocket.ClosePolicyViolation, "too many frames", true)
			return
		}
		if len(data) > maxFrameBytes {
			c.sendError(codeTooLarge, "frame_too_large", errorOut{Detail: "a frame is at most 16 KiB"})
			c.closeReason = "frame too large"
			c.closeWith(websocket.CloseMessageTooBig, "frame too large", true)
			return
		}
		if c.helloDone {
			_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
		}
		if typ != websocket.TextMessage {
			c.badFrame("frames are JSON text, not binary")
		} else {
			c.handle(data)
		}
		if c.closeReason != "" {
			return
		}
		if c.badFrames > maxBadFrames {
			c.closeReason = "too many bad frames"
			c.closeWith(websocket.ClosePolicyViolation, "too many bad frames", true)
			return
		}
	}
}

// flooding counts a frame and reports whether the peer sent more than
// maxFramesPerSecond in the current second.
func (c *conn) flooding(now time.Time) bool {
	if now.Sub(c.windowStart) >= time.Second {
		c.windowStart, c.windowFrames = now, 0
	}
	c.windowFrames++
	return c.windowFrames > maxFramesPerSecond
}

// closeWith ends the connection with a close frame, written after whatever is
// queued (an error frame saying why). With drain, it then reads and discards
// until the peer answers the close or closeGrace passes, so that the peer
// reads our frames before the socket closes under it.
func (c *conn) closeWith(code int, text string, drain bool) {
	select {
	case c.out <- outFrame{closeCode: code, closeText: text}:
	case <-c.ctx.Done():
		return
	case <-time.After(writeWait):
		return
	}
	if drain {
		_ = c.ws.SetReadDeadline(time.Now().Add(closeGrace))
		for {
			if _, _, err := c.ws.NextReader(); err != nil {
				break
			}
		}
	}
	select {
	case <-c.writerDone:
	case <-time.After(writeWait):
	}
}

func (c *conn) badFrame(detail string) {
	c.badFrames++
	c.sendError(codeBadFrame, "bad_frame", errorOut{Detail: detail})
}

// dbContext bounds one database operation of the connection.
func (c *conn) dbContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.ctx, dbTimeout)
}

func (c *conn) handle(data []byte) {
	v, ferr := decodeFrame(data)
	if ferr != nil {
		c.log.Debug("web chat frame refused", "detail", ferr.detail)
		c.badFrame(ferr.detail)
		return
	}
	if h, ok := v.(*helloFrame); ok {
		c.log.Debug("web chat frame", "type", "hello")
		if c.helloDone {
			c.badFrame("hello was already received")
			return
		}
		c.hello(h)
		return
	}
	if !c.helloDone {
		c.badFrames++
		c.sendError(codeNotReady, "not_ready", errorOut{Detail: "the first frame must be hello"})
		return
	}
	switch f := v.(type) {
	case *messageFrame:
		c.log.Debug("web chat frame", "type", "message")
		c.message(f)
	case *typingFrame:
		c.log.Debug("web chat frame", "type", "typing")
		c.typing(*f.On)
	case *receiptFrame:
		c.log.Debug("web chat frame", "type", f.Type)
		c.receipt(f)
	case *feedbackFrame:
		c.log.Debug("web chat frame", "type", "feedback")
		c.feedback(f)
	case *pingFrame:
		c.send(pongOut{Type: "pong"})
	}
}

// hello identifies the visitor, answers welcome and starts following their
// conversation.
func (c *conn) hello(h *helloFrame) {
	if i18n.Supported(h.Lang) {
		c.lang = h.Lang
	}
	token := h.Visitor
	if token != "" && !validVisitorToken(token) {
		c.log.Debug("web chat: a malformed visitor token was replaced")
		token = ""
	}
	newVisitor := token == ""
	if newVisitor {
		token = newVisitorToken()
	}
	c.visitorID = visitorID(token)

	identityRefused := false
	if h.Identity != nil {
		var ok bool
		token, ok = c.signIn(h.Identity, token)
		identityRefused = !ok
	}

	ctx, cancel := c.dbContext()
	defer cancel()
	welcome := welcomeOut{Type: "welcome", Visitor: token, Status: "none",
		Limits: limitsOut{MaxText: maxTextRunes, MaxAttachmentBytes: c.srv.maxAttachment, MessagesPerMinute: c.srv.perMinute}}
	var conv crm.Conversation
	var err error
	// A visitor made just now has no contact yet, unless a signed identity
	// gave it one: no need to ask.
	if !newVisitor || h.Identity != nil {
		var owner crm.IdentityOwner
		owner, err = c.srv.store.OwnerOf(ctx, c.tenant.ID, crm.IdentityWebchat, c.visitorID)
		if err == nil {
			c.contactID.Store(owner.ContactID)
			welcome.Contact = contactOut{Name: owner.Name, Verified: owner.Verified}
			conv, err = c.srv.store.ContactConversation(ctx, c.tenant.ID, owner.ContactID, crm.ChannelWebchat, "")
		}
	}
	if err == nil && conv.Status == crm.StatusQueued {
		welcome.Position, err = c.srv.store.QueuePosition(ctx, c.tenant.ID, conv.ID)
	}
	if err != nil && !errors.Is(err, crm.ErrNotFound) {
		c.log.Error("web chat: reading the visitor's conversation", "err", err)
		c.sendError(codeUnavailable, "unavailable", errorOut{})
		c.closeReason = "database unavailable"
		c.closeWith(websocket.CloseTryAgainLater, "try again later", true)
		return
	}
	start := view{lastStatus: "none"}
	if conv.ID != 0 {
		welcome.ConversationID, welcome.Status = &conv.ID, string(conv.Status)
		c.convID.Store(conv.ID)
		c.markShown(conv.ID)
		start.conv, start.lastStatus, start.position = conv, conv.Status, welcome.Position
		if h.ConversationID != nil && *h.ConversationID == conv.ID {
			start.sent = min(h.LastSeq, conv.LastSeq)
		}
	}

	// Subscribe before the replay reads the database, so that nothing
	// committed in between is missed.
	sub := c.srv.hub.Subscribe(c.accepts, hubBuffer)
	c.bucket = c.srv.messages.acquire(c.visitorID, time.Now())
	c.feedbackBucket = c.srv.feedback.acquire(c.visitorID, time.Now())
	c.helloDone = true
	_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.send(welcome)
	if identityRefused {
		c.sendError(codeBadIdentity, "bad_identity", errorOut{})
	}
	go c.pushLoop(sub, start)
	c.log.Info("web chat connected", "new_visitor", newVisitor, "conversation_id", conv.ID, "lang", c.lang)
}

// signIn makes the visitor the user that the ente's website vouches for. It
// returns the visitor token to use from now on (a new one when the browser's
// visitor was verified as someone else), and false when the identity is
// refused and the chat goes on anonymously.
func (c *conn) signIn(id *signedIdentity, token string) (string, bool) {
	if id.UserID == "" || len(id.UserID) > 255 || !utf8.ValidString(id.UserID) {
		return token, false
	}
	ctx, cancel := c.dbContext()
	defer cancel()
	secret, err := c.srv.store.WebchatIdentitySecret(ctx, c.tenant.ID)
	if err != nil {
		if !errors.Is(err, crm.ErrNotFound) {
			c.log.Error("web chat: reading the identity secret", "err", err)
		}
		return token, false
	}
	if !citizenauth.VerifyIdentity(secret, id.UserID, id.Hash) {
		c.log.Info("web chat: a signed identity did not verify")
		return token, false
	}
	proof := crm.IdentityClaim{Kind: crm.IdentityWebchat, ExternalID: signedUserID(id.UserID),
		Verified: true, VerifiedBy: crm.VerifiedSignedIdentity,
		DisplayName: truncateRunes(id.Name, 300), Email: id.Email, Language: c.lang}
	if cf, err := crm.NormalizeCodiceFiscale(id.UserID); err == nil {
		proof.Kind, proof.ExternalID = crm.IdentityCodiceFiscale, cf
	}
	const reason = "Identità firmata dal sito dell'ente nella web chat"
	_, err = c.srv.store.SignIn(ctx, c.tenant.ID, visitorClaim(c.visitorID, c.lang), proof, reason)
	if errors.Is(err, crm.ErrAnotherPerson) {
		// A shared computer: this browser's visitor is somebody else.
		token = newVisitorToken()
		c.visitorID = visitorID(token)
		_, err = c.srv.store.SignIn(ctx, c.tenant.ID, visitorClaim(c.visitorID, c.lang), proof, reason)
	}
	if err != nil {
		if !errors.Is(err, crm.ErrInvalid) {
			c.log.Error("web chat: signing in a signed identity", "err", err)
		}
		return token, false
	}
	return token, true
}

// accepts is the hub's filter: the events of the visitor's contact and of the
// conversation shown. It runs on the hub's goroutine, so it reads atomics only.
func (c *conn) accepts(e crm.Event) bool {
	if e.TenantID != c.tenant.ID {
		return false
	}
	if id := c.contactID.Load(); id != 0 && e.ContactID == id {
		return true
	}
	id := c.convID.Load()
	return id != 0 && e.ConversationID == id
}

func (c *conn) markShown(id int64) {
	c.shownMu.Lock()
	c.shown[id] = true
	c.shownMu.Unlock()
}

func (c *conn) wasShown(id int64) bool {
	c.shownMu.Lock()
	defer c.shownMu.Unlock()
	return c.shown[id]
}

// message stores a citizen's message and acknowledges it.
func (c *conn) message(f *messageFrame) {
	clientID := *f.ClientID
	if !clientIDRE.MatchString(clientID) {
		c.sendError(codeInvalidMessage, "invalid_message",
			errorOut{Detail: "client_id has 8-64 letters, digits, '-' or '_'"})
		return
	}
	withID := errorOut{ClientID: clientID}
	if utf8.RuneCountInString(f.Text) > maxTextRunes {
		c.sendError(codeTooLarge, "text_too_long", withID, maxTextRunes)
		return
	}
	if len(f.Attachments) > maxMessageAttachments {
		c.sendError(codeInvalidMessage, "too_many_attachments", withID, maxMessageAttachments)
		return
	}
	if strings.TrimSpace(f.Text) == "" && len(f.Attachments) == 0 {
		c.sendError(codeInvalidMessage, "empty_message", withID)
		return
	}
	if ok, wait := c.srv.messages.take(c.bucket, time.Now()); !ok {
		e := withID
		e.RetryAfterMS = wait.Milliseconds() + 1
		c.sendError(codeRateLimited, "rate_limited", e, int(math.Ceil(wait.Seconds())))
		return
	}

	ctx, cancel := c.dbContext()
	defer cancel()
	atts := []crm.Attachment{}
	if len(f.Attachments) > 0 {
		var err error
		atts, err = c.attachments(ctx, f.Attachments)
		if errors.Is(err, crm.ErrInvalid) || errors.Is(err, crm.ErrNotFound) {
			c.sendError(codeInvalidMessage, "unknown_attachment", withID)
			return
		}
		if err != nil {
			c.log.Error("web chat: reading attachments", "err", err)
			c.sendError(codeUnavailable, "unavailable", withID)
			return
		}
	}
	res, err := c.srv.store.Ingest(ctx, c.tenant.ID, crm.InboundMessage{
		Channel:     crm.ChannelWebchat,
		ExternalID:  c.visitorID + ":" + clientID,
		From:        visitorClaim(c.visitorID, c.lang),
		Text:        f.Text,
		Attachments: atts,
	})
	if errors.Is(err, crm.ErrInvalid) {
		c.sendError(codeInvalidMessage, "invalid_message", errorOut{ClientID: clientID, Detail: err.Error()})
		return
	}
	if err != nil {
		c.log.Error("web chat: storing a message", "err", err)
		c.sendError(codeUnavailable, "unavailable", withID)
		return
	}
	c.contactID.Store(res.ContactID)
	if !res.Duplicate {
		if res.Message.ConversationID != c.convID.Load() {
			// A new conversation: the pusher follows it there.
			c.convID.Store(res.Message.ConversationID)
			c.markShown(res.Message.ConversationID)
			c.wake()
		} else {
			select {
			case c.local <- res.Message:
			default: // the hub's event will bring it
			}
		}
	}
	c.send(ackOut{Type: "ack", ClientID: clientID, Seq: res.Message.Seq, ConversationID: res.Message.ConversationID})
}

// attachments resolves the tokens of a message to the files the visitor
// uploaded.
func (c *conn) attachments(ctx context.Context, tokens []string) ([]crm.Attachment, error) {
	contact := c.contactID.Load()
	if contact == 0 {
		owner, err := c.srv.store.OwnerOf(ctx, c.tenant.ID, crm.IdentityWebchat, c.visitorID)
		if err != nil {
			return nil, err
		}
		contact = owner.ContactID
	}
	atts, err := c.srv.store.ContactAttachments(ctx, c.tenant.ID, contact, tokens)
	if err != nil {
		return nil, err
	}
	for i := range atts {
		atts[i].URL = attachmentPath(c.tenant.Slug, atts[i].Token)
	}
	return atts, nil
}

// attachmentPath is the citizen's address of an attachment. Messages store it
// too, so that its last segment, the token, is found from the URL alone.
func attachmentPath(ente, token string) string {
	return "/chat/" + url.PathEscape(ente) + "/attachments/" + url.PathEscape(token)
}

func (c *conn) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// typing passes on the citizen's typing, at most twice a second.
func (c *conn) typing(on bool) {
	now := time.Now()
	if now.Sub(c.typingAt[0]) < time.Second {
		return
	}
	c.typingAt[0], c.typingAt[1] = c.typingAt[1], now
	conv := c.convID.Load()
	if conv == 0 {
		return // nobody to tell before the first message
	}
	ctx, cancel := c.dbContext()
	defer cancel()
	err := c.srv.store.Publish(ctx, crm.Event{Kind: crm.EventTyping, TenantID: c.tenant.ID, ConversationID: conv,
		ContactID: c.contactID.Load(), Author: crm.AuthorCitizen, On: on})
	if err != nil {
		c.log.Warn("web chat: publishing typing", "err", err)
	}
}

// receipt records an ack or read. Receipts that add nothing to what this
// connection already recorded are dropped before the database; the database
// never lowers a status anyway.
func (c *conn) receipt(f *receiptFrame) {
	conv := c.convID.Load()
	if f.ConversationID != 0 && f.ConversationID != conv {
		if !c.wasShown(f.ConversationID) {
			return
		}
		conv = f.ConversationID
	}
	if conv == 0 {
		return
	}
	seen := c.receipts[conv]
	if seen == nil {
		seen = &[2]int64{}
		c.receipts[conv] = seen
	}
	status, i := crm.DeliveryDelivered, 0
	if f.Type == "read" {
		status, i = crm.DeliveryRead, 1
	}
	seq := *f.Seq
	if seq <= seen[i] {
		return
	}
	seen[i] = seq
	if i == 1 {
		seen[0] = max(seen[0], seq) // read implies delivered
	}
	ctx, cancel := c.dbContext()
	defer cancel()
	if err := c.srv.store.MarkDelivery(ctx, c.tenant.ID, conv, seq, status); err != nil {
		c.log.Warn("web chat: recording a receipt", "err", err)
	}
}

// feedback records the citizen's thumbs up or down on an answer of the
// virtual assistant in their conversation, and acknowledges it. The store
// refuses a sequence number that is not an assistant's answer of one of the
// contact's conversations; the last feedback given counts, so a repeated one
// changes nothing.
func (c *conn) feedback(f *feedbackFrame) {
	seq, useful := *f.Seq, *f.Useful
	conv := c.convID.Load()
	if f.ConversationID != 0 {
		conv = f.ConversationID
	}
	refused := errorOut{Seq: seq, ConversationID: conv}
	contact := c.contactID.Load()
	if conv == 0 || contact == 0 {
		refused.Detail = "there is no conversation to give feedback on"
		c.sendError(codeInvalidMessage, "invalid_feedback", refused)
		return
	}
	if ok, wait := c.srv.feedback.take(c.feedbackBucket, time.Now()); !ok {
		refused.RetryAfterMS = wait.Milliseconds() + 1
		c.sendError(codeRateLimited, "feedback_rate_limited", refused, int(math.Ceil(wait.Seconds())))
		return
	}
	ctx, cancel := c.dbContext()
	defer cancel()
	err := c.srv.store.AnswerFeedback(ctx, c.tenant.ID, contact, conv, seq, useful)
	if errors.Is(err, crm.ErrNotFound) {
		refused.Detail = "seq is not an answer of the assistant in this visitor's conversation"
		c.sendError(codeInvalidMessage, "invalid_feedback", refused)
		return
	}
	if err != nil {
		c.log.Error("web chat: storing feedback on an answer", "err", err)
		c.sendError(codeUnavailable, "feedback_unavailable", refused)
		return
	}
	c.send(feedbackOKOut{Type: "feedback_ok", ConversationID: conv, Seq: seq, Useful: useful})
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
