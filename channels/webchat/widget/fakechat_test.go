package widget_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeChat is a stand-in for package webchat's server, written from
// docs/chat-protocol.md alone, so that the widget is tested against the
// contract and not against the server's code: hello and welcome, replay after
// last_seq, acknowledgements, a client_id stored once, the citizen's messages
// echoed to every tab, operator messages, typing and status, errors and
// attachments, the virtual assistant's answers and the citizen's feedback on
// them. Tests play the operator and the assistant with its methods and make it
// misbehave with its fields.
type fakeChat struct {
	t      *testing.T
	secret []byte // the ente's secret for signed identities

	mu       sync.Mutex
	visitors map[string]*fakeVisitor
	convs    []*fakeConv
	files    map[string]fakeFile

	// What the widget sent.
	hellos   []fakeHello
	received []string // client_ids of every message frame, duplicates included
	typings  int
	acked    int64 // highest seq acknowledged
	read     int64 // highest seq read
	feedback []fakeFeedback

	// The ente's virtual assistant answers first: new conversations start
	// with it rather than in the queue.
	assistant bool

	// Misbehaviour, set by tests.
	down           bool // refuse websocket connections
	dropBeforeAck  int  // close the socket this many times after storing a message, before its ack
	rateLimit      int  // refuse this many messages with rate_limited
	maxFile        int64
	loginOutcome   string // what the login ends with: "ok" (when empty), "cancelled" or "error"
	loginAnew      bool   // the login finds the browser's visitor verified as someone else
	refuseFeedback bool   // refuse every feedback as invalid_message
}

// fakeFeedback is a feedback frame the widget sent.
type fakeFeedback struct {
	ConversationID int64
	Seq            int64
	Useful         bool
}

type fakeVisitor struct {
	token    string
	conv     *fakeConv
	verified bool
	name     string
	conns    map[*fakeConn]bool
}

type fakeConv struct {
	id       int64
	seq      int64
	msgs     []fakeMessage
	byClient map[string]int64
	status   string
	visitor  *fakeVisitor
}

type fakeMessage struct {
	Type           string           `json:"type"`
	ConversationID int64            `json:"conversation_id"`
	Seq            int64            `json:"seq"`
	ClientID       string           `json:"client_id,omitempty"`
	Author         string           `json:"author"`
	AuthorName     string           `json:"author_name,omitempty"`
	Text           string           `json:"text"`
	Attachments    []fakeAttachment `json:"attachments"`
	At             time.Time        `json:"at"`
}

type fakeAttachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
	URL         string `json:"url"`
}

type fakeFile struct {
	visitor string
	att     fakeAttachment
	body    []byte
}

type fakeHello struct {
	Type           string `json:"type"`
	Visitor        string `json:"visitor"`
	ConversationID *int64 `json:"conversation_id"`
	LastSeq        int64  `json:"last_seq"`
	Lang           string `json:"lang"`
	Identity       *struct {
		UserID string `json:"user_id"`
		Hash   string `json:"hash"`
		Name   string `json:"name"`
		Email  string `json:"email"`
	} `json:"identity"`
}

// fakeConn is one websocket; writes come from its reader and from the test
// playing the operator, so they take turns.
type fakeConn struct {
	mu sync.Mutex
	ws *websocket.Conn
}

func (c *fakeConn) send(v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = c.ws.WriteJSON(v)
}

func newFakeChat(t *testing.T) *fakeChat {
	return &fakeChat{
		t:        t,
		secret:   []byte("il segreto del comune di prova"),
		visitors: map[string]*fakeVisitor{},
		files:    map[string]fakeFile{},
		maxFile:  64 << 10,
	}
}

// Register makes the fake a web.Area: it serves what package webchat will.
func (f *fakeChat) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /chat/{ente}/ws", f.serveWS)
	mux.HandleFunc("POST /chat/{ente}/attachments", f.upload)
	mux.HandleFunc("GET /chat/{ente}/attachments/{token}", f.download)
	mux.HandleFunc("GET /chat/{ente}/login", f.login)
}

func (f *fakeChat) sign(userID string) string {
	m := hmac.New(sha256.New, f.secret)
	m.Write([]byte(userID))
	return hex.EncodeToString(m.Sum(nil))
}

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

func (f *fakeChat) serveWS(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		http.Error(w, "down for the test", http.StatusServiceUnavailable)
		return
	}
	up := websocket.Upgrader{} // same origin only, as the protocol says
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	ws.SetReadLimit(16 << 10)
	c := &fakeConn{ws: ws}

	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var hello fakeHello
	if err := ws.ReadJSON(&hello); err != nil || hello.Type != "hello" {
		c.send(map[string]any{"type": "error", "code": "not_ready", "message": "hello first"})
		return
	}
	_ = ws.SetReadDeadline(time.Time{})

	f.mu.Lock()
	f.hellos = append(f.hellos, hello)
	v := f.visitors[hello.Visitor]
	if v == nil {
		v = &fakeVisitor{token: randomToken(), conns: map[*fakeConn]bool{}}
		f.visitors[v.token] = v
	}
	badIdentity := false
	if id := hello.Identity; id != nil {
		if hmac.Equal([]byte(id.Hash), []byte(f.sign(id.UserID))) {
			v.verified, v.name = true, id.Name
		} else {
			badIdentity = true
		}
	}
	v.conns[c] = true
	welcome := map[string]any{
		"type": "welcome", "visitor": v.token, "conversation_id": nil, "status": "none",
		"contact": map[string]any{"name": v.name, "verified": v.verified},
		"limits":  map[string]any{"max_text": 4000, "max_attachment_bytes": f.maxFile, "messages_per_minute": 20},
	}
	var replay []fakeMessage
	if v.conv != nil {
		welcome["conversation_id"], welcome["status"] = v.conv.id, v.conv.status
		after := int64(0)
		if hello.ConversationID != nil && *hello.ConversationID == v.conv.id {
			after = hello.LastSeq
		}
		for _, m := range v.conv.msgs {
			if m.Seq > after {
				replay = append(replay, m)
			}
		}
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(v.conns, c)
		f.mu.Unlock()
	}()

	c.send(welcome)
	if badIdentity {
		c.send(map[string]any{"type": "error", "code": "bad_identity", "message": "Non è stato possibile verificare la tua identità."})
	}
	for _, m := range replay {
		c.send(m)
	}
	for {
		var frame struct {
			Type        string   `json:"type"`
			ClientID    string   `json:"client_id"`
			Text        string   `json:"text"`
			Attachments []string `json:"attachments"`
			Seq         int64    `json:"seq"`
			On          bool     `json:"on"`
			Useful      *bool    `json:"useful"`
			// ConversationID of feedback (and of receipts, ignored here).
			ConversationID int64 `json:"conversation_id"`
		}
		if err := ws.ReadJSON(&frame); err != nil {
			return
		}
		switch frame.Type {
		case "message":
			if !f.message(c, v, frame.ClientID, frame.Text, frame.Attachments) {
				return
			}
		case "typing":
			f.mu.Lock()
			f.typings++
			f.mu.Unlock()
		case "ack":
			f.mu.Lock()
			f.acked = max(f.acked, frame.Seq)
			f.mu.Unlock()
		case "read":
			f.mu.Lock()
			f.read = max(f.read, frame.Seq)
			f.mu.Unlock()
		case "feedback":
			f.giveFeedback(c, v, frame.ConversationID, frame.Seq, frame.Useful)
		case "ping":
			c.send(map[string]any{"type": "pong"})
		default:
			c.send(map[string]any{"type": "error", "code": "bad_frame", "message": "?"})
		}
	}
}

// message handles a citizen's message; false means the connection is to be
// dropped.
func (f *fakeChat) message(c *fakeConn, v *fakeVisitor, clientID, text string, tokens []string) bool {
	f.mu.Lock()
	f.received = append(f.received, clientID)
	if !clientIDPattern.MatchString(clientID) || (text == "" && len(tokens) == 0) {
		f.mu.Unlock()
		c.send(map[string]any{"type": "error", "code": "invalid_message", "client_id": clientID, "message": "Messaggio non valido."})
		return true
	}
	if f.rateLimit > 0 {
		f.rateLimit--
		f.mu.Unlock()
		c.send(map[string]any{"type": "error", "code": "rate_limited", "client_id": clientID, "retry_after_ms": 1500,
			"message": "Stai scrivendo troppo velocemente: il messaggio verrà inviato tra poco."})
		return true
	}
	var atts []fakeAttachment
	for _, tok := range tokens {
		file, ok := f.files[tok]
		if !ok || file.visitor != v.token {
			f.mu.Unlock()
			c.send(map[string]any{"type": "error", "code": "invalid_message", "client_id": clientID, "message": "Allegato sconosciuto."})
			return true
		}
		atts = append(atts, file.att)
	}
	if v.conv == nil {
		status := "queued"
		if f.assistant {
			status = "assistant"
		}
		v.conv = &fakeConv{id: int64(100 + len(f.convs)), byClient: map[string]int64{}, status: status, visitor: v}
		f.convs = append(f.convs, v.conv)
	}
	conv := v.conv
	seq, dup := conv.byClient[clientID]
	var m fakeMessage
	if !dup {
		m = conv.add("citizen", "", text, atts)
		m.ClientID = clientID
		conv.msgs[len(conv.msgs)-1] = m
		conv.byClient[clientID] = m.Seq
		seq = m.Seq
		if f.dropBeforeAck > 0 {
			// Stored, but the connection dies before the ack leaves.
			f.dropBeforeAck--
			f.mu.Unlock()
			return false
		}
	}
	conns := conv.visitor.connList()
	first := len(conv.msgs) == 1
	f.mu.Unlock()

	c.send(map[string]any{"type": "ack", "client_id": clientID, "seq": seq, "conversation_id": conv.id})
	if !dup {
		for _, other := range conns {
			other.send(m)
		}
		if first {
			status := map[string]any{"type": "status", "conversation_id": conv.id, "status": "queued", "position": 2}
			if conv.status == "assistant" {
				status = map[string]any{"type": "status", "conversation_id": conv.id, "status": "assistant"}
			}
			for _, other := range conns {
				other.send(status)
			}
		}
	}
	return true
}

func (c *fakeConv) add(author, name, text string, atts []fakeAttachment) fakeMessage {
	// Sequence numbers may skip (staff's private notes): skip one now and then.
	c.seq += 1 + int64(len(c.msgs)%3/2)
	if atts == nil {
		atts = []fakeAttachment{}
	}
	m := fakeMessage{Type: "message", ConversationID: c.id, Seq: c.seq, Author: author, AuthorName: name,
		Text: text, Attachments: atts, At: time.Now().UTC().Truncate(time.Second)}
	c.msgs = append(c.msgs, m)
	return m
}

func (v *fakeVisitor) connList() []*fakeConn {
	out := make([]*fakeConn, 0, len(v.conns))
	for c := range v.conns {
		out = append(out, c)
	}
	return out
}

// conversation returns the only conversation, failing the test if there is
// not exactly one.
func (f *fakeChat) conversation() *fakeConv {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.convs) != 1 {
		f.t.Fatalf("fake chat: %d conversations, want 1", len(f.convs))
	}
	return f.convs[0]
}

// operatorSays stores a message of an operator and pushes it to the citizen.
func (f *fakeChat) operatorSays(conv *fakeConv, name, text string) {
	f.mu.Lock()
	m := conv.add("operator", name, text, nil)
	conv.status = "assigned"
	conns := conv.visitor.connList()
	f.mu.Unlock()
	for _, c := range conns {
		c.send(map[string]any{"type": "status", "conversation_id": conv.id, "status": "assigned"})
		c.send(m)
	}
}

// assistantSays stores an answer of the virtual assistant and pushes it to
// the citizen.
func (f *fakeChat) assistantSays(conv *fakeConv, text string) fakeMessage {
	f.mu.Lock()
	m := conv.add("assistant", "Assistente virtuale", text, nil)
	conns := conv.visitor.connList()
	f.mu.Unlock()
	for _, c := range conns {
		c.send(m)
	}
	return m
}

// handOff moves the conversation from the assistant to the queue, as the
// assistant does when the citizen asks for an operator.
func (f *fakeChat) handOff(conv *fakeConv) {
	f.mu.Lock()
	conv.status = "queued"
	conns := conv.visitor.connList()
	f.mu.Unlock()
	for _, c := range conns {
		c.send(map[string]any{"type": "status", "conversation_id": conv.id, "status": "queued", "position": 1})
	}
}

// giveFeedback records a feedback frame and answers it as the protocol says:
// feedback_ok for an answer of the assistant in the visitor's conversation,
// bad_frame or invalid_message otherwise.
func (f *fakeChat) giveFeedback(c *fakeConn, v *fakeVisitor, convID, seq int64, useful *bool) {
	if seq < 1 || useful == nil {
		c.send(map[string]any{"type": "error", "code": "bad_frame", "message": "?"})
		return
	}
	f.mu.Lock()
	f.feedback = append(f.feedback, fakeFeedback{ConversationID: convID, Seq: seq, Useful: *useful})
	conv := v.conv
	if convID == 0 && conv != nil {
		convID = conv.id
	}
	answer := false
	if conv != nil && conv.id == convID && !f.refuseFeedback {
		for _, m := range conv.msgs {
			answer = answer || (m.Seq == seq && m.Author == "assistant")
		}
	}
	f.mu.Unlock()
	if !answer {
		c.send(map[string]any{"type": "error", "code": "invalid_message", "seq": seq, "conversation_id": convID,
			"message": "Non è possibile valutare questo messaggio."})
		return
	}
	c.send(map[string]any{"type": "feedback_ok", "conversation_id": convID, "seq": seq, "useful": *useful})
}

func (f *fakeChat) operatorTyping(conv *fakeConv, name string, on bool) {
	f.mu.Lock()
	conns := conv.visitor.connList()
	f.mu.Unlock()
	for _, c := range conns {
		c.send(map[string]any{"type": "typing", "author": "operator", "author_name": name, "on": on})
	}
}

// citizenTexts returns the texts of the citizen's stored messages.
func (f *fakeChat) citizenTexts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.convs {
		for _, m := range c.msgs {
			if m.Author == "citizen" {
				out = append(out, m.Text)
			}
		}
	}
	return out
}

func (f *fakeChat) lastHello() fakeHello {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.hellos) == 0 {
		f.t.Fatal("fake chat: no hello yet")
	}
	return f.hellos[len(f.hellos)-1]
}

// dropConnections closes every websocket, as a server restart would.
func (f *fakeChat) dropConnections() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, v := range f.visitors {
		for c := range v.conns {
			_ = c.ws.Close()
		}
	}
}

func (f *fakeChat) set(change func(f *fakeChat)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeChat) get(read func(f *fakeChat) any) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return read(f)
}

// upload is POST /chat/{ente}/attachments.
func (f *fakeChat) upload(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Visitor ")
	f.mu.Lock()
	_, known := f.visitors[token]
	maxFile := f.maxFile
	f.mu.Unlock()
	if !ok || !known {
		problem(w, http.StatusUnauthorized, "Sessione di chat sconosciuta.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFile+4096)
	file, header, err := r.FormFile("file")
	if err != nil {
		problem(w, http.StatusRequestEntityTooLarge, "Il file è troppo grande: puoi allegare file fino a 64 kB.")
		return
	}
	defer file.Close()
	body, err := io.ReadAll(io.LimitReader(file, maxFile+1))
	if err != nil || int64(len(body)) > maxFile {
		problem(w, http.StatusRequestEntityTooLarge, "Il file è troppo grande: puoi allegare file fino a 64 kB.")
		return
	}
	ct := http.DetectContentType(body)
	if !slices.Contains([]string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}, ct) {
		problem(w, http.StatusUnsupportedMediaType, "Puoi allegare solo immagini (PNG, JPEG, GIF, WebP) o documenti PDF.")
		return
	}
	tok := randomToken()
	att := fakeAttachment{Name: header.Filename, ContentType: ct, Size: len(body), URL: "/chat/" + r.PathValue("ente") + "/attachments/" + tok}
	f.mu.Lock()
	f.files[tok] = fakeFile{visitor: token, att: att, body: body}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "name": att.Name, "content_type": ct, "size": att.Size})
}

// download is GET /chat/{ente}/attachments/{token}, for the visitor who owns
// the file, named by the Authorization header or, for links and images, by
// ?visitor=.
func (f *fakeChat) download(w http.ResponseWriter, r *http.Request) {
	visitor, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Visitor ")
	if !ok {
		visitor = r.URL.Query().Get("visitor")
	}
	f.mu.Lock()
	file, ok := f.files[r.PathValue("token")]
	f.mu.Unlock()
	if !ok || file.visitor != visitor {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", file.att.ContentType)
	_, _ = w.Write(file.body)
}

// login is GET /chat/{ente}/login?visitor=…: the real one goes through the
// identity provider; the fake verifies the visitor at once and sends the
// browser back to the chat as package webchat does, with the outcome (and a
// new visitor token, if any) in the fragment.
func (f *fakeChat) login(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	v, ok := f.visitors[r.URL.Query().Get("visitor")]
	outcome, back := f.loginOutcome, url.Values{}
	if outcome == "" {
		outcome = "ok"
	}
	back.Set("login", outcome)
	if ok && outcome == "ok" {
		if f.loginAnew {
			v = &fakeVisitor{token: randomToken(), conns: map[*fakeConn]bool{}}
			f.visitors[v.token] = v
			back.Set("visitor", v.token)
		}
		v.verified, v.name = true, "Mario Rossi"
	}
	f.mu.Unlock()
	if !ok {
		http.Error(w, "unknown visitor", http.StatusBadRequest)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/chat/"+r.PathValue("ente")+"#"+back.Encode(), http.StatusSeeOther)
}

func problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail})
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}
