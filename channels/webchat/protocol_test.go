package webchat_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestWelcomeGivesANewVisitorATokenAndNoConversation(t *testing.T) {
	t.Parallel()
	e := setup(t)

	_, w := e.newVisitor()

	require.Len(t, w.Visitor, 43, "32 random bytes, base64url")
	require.Nil(t, w.ConversationID)
	require.Equal(t, "none", w.Status)
	require.False(t, w.Contact.Verified)
	require.Equal(t, 4000, w.Limits.MaxText)
	require.Equal(t, int64(10<<20), w.Limits.MaxAttachmentBytes)
	require.Equal(t, 20, w.Limits.MessagesPerMinute)
}

func TestTheFirstMessageOpensAQueuedConversationInTheFirstTeam(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, w := e.newVisitor()

	c.say("c-first-message", "Buongiorno, vorrei pagare la TARI")

	ack := c.ack("c-first-message")
	require.Equal(t, int64(1), ack.Seq)
	st := c.waitType("status")
	require.Equal(t, ack.conversation(), st.conversation())
	require.Equal(t, "queued", st.Status)
	require.Equal(t, 1, st.Position)
	echo := c.message(1)
	require.Equal(t, "citizen", echo.Author)
	require.Equal(t, "c-first-message", echo.ClientID)
	require.Equal(t, "Buongiorno, vorrei pagare la TARI", echo.Text)

	conv := e.conversation(ack.conversation())
	require.Equal(t, crm.StatusQueued, conv.Status)
	require.Equal(t, &e.team.ID, conv.TeamID)
	require.Equal(t, crm.ChannelWebchat, conv.Channel)
	contact, err := e.store.Contact(e.ctx, e.tenant.ID, conv.ContactID)
	require.NoError(t, err)
	require.Len(t, contact.Identities, 1)
	require.Equal(t, crm.IdentityWebchat, contact.Identities[0].Kind)
	require.NotContains(t, contact.Identities[0].ExternalID, w.Visitor, "the token itself is never stored")
	require.NotContains(t, conv.Messages[0].ExternalID, w.Visitor)
}

func TestDuplicateSendsAreStoredOnceAndAcknowledgedWithTheSameSeq(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, _, conv := e.startConversation("Buongiorno")

	c.say("c-resent-twice", "Vorrei un certificato")
	first := c.ack("c-resent-twice")
	c.say("c-resent-twice", "Vorrei un certificato")
	second := c.ack("c-resent-twice")

	require.Equal(t, int64(2), first.Seq)
	require.Equal(t, first.Seq, second.Seq)
	require.Equal(t, first.conversation(), second.conversation())
	require.Len(t, e.messages(conv), 2)
	c.message(2)
	c.never("second copy", func(f frame) bool { return f.Type == "message" && f.Seq == 2 }, 300*time.Millisecond)
}

func TestAMessageResentOnAnotherConnectionIsStoredOnce(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, token, conv := e.startConversation("Buongiorno")
	c.say("c-sent-before-the-drop", "Vorrei un certificato")
	first := c.ack("c-sent-before-the-drop")
	c.ws.Close()

	again, _ := e.connect(hello{Visitor: token, ConversationID: conv, LastSeq: 1})
	again.say("c-sent-before-the-drop", "Vorrei un certificato")

	require.Equal(t, first.Seq, again.ack("c-sent-before-the-drop").Seq)
	require.Len(t, e.messages(conv), 2)
}

func TestAcknowledgementsOutOfOrderNeverLowerTheDeliveryStatus(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, token, conv := e.startConversation("Buongiorno")
	for i := 2; i <= 6; i++ {
		e.reply(conv, fmt.Sprintf("Risposta %d", i))
		c.message(int64(i))
	}

	c.sendJSON(map[string]any{"type": "ack", "seq": 5})
	c.sendJSON(map[string]any{"type": "ack", "seq": 3})
	c.roundTrip()
	// Another tab of the same visitor acknowledges late, and reads less.
	other, _ := e.connect(hello{Visitor: token, ConversationID: conv, LastSeq: 6})
	other.sendJSON(map[string]any{"type": "read", "seq": 3})
	other.sendJSON(map[string]any{"type": "ack", "seq": 2})
	other.roundTrip()

	want := map[int64]crm.DeliveryStatus{1: crm.DeliveryReceived, 2: crm.DeliveryRead, 3: crm.DeliveryRead,
		4: crm.DeliveryDelivered, 5: crm.DeliveryDelivered, 6: crm.DeliveryPending}
	for _, m := range e.messages(conv) {
		require.Equal(t, want[m.Seq], m.DeliveryStatus, "message %d", m.Seq)
	}
}

func TestAnAcknowledgementTellsTheConsoles(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, _, conv := e.startConversation("Buongiorno")
	e.reply(conv, "Buongiorno, mi dica")
	c.message(2)
	sub := e.subscribe()

	c.sendJSON(map[string]any{"type": "read", "seq": 2})

	ev := waitEvent(t, sub, "delivery", func(ev crm.Event) bool { return ev.Kind == crm.EventDelivery })
	require.Equal(t, conv, ev.ConversationID)
	require.Equal(t, int64(2), ev.Seq)
	require.Equal(t, string(crm.DeliveryRead), ev.Status)
	require.NotZero(t, ev.ContactID)
}

func TestReconnectingWithAStaleSequenceReplaysExactlyTheMissedMessages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, token, conv := e.startConversation("Buongiorno")
	e.reply(conv, "Buongiorno, mi dica")
	c.message(2)
	c.ws.Close()

	e.reply(conv, "È ancora lì?")
	_, err := e.store.PostReply(e.ctx, e.operator.Actor(), conv, crm.Reply{Text: "Nota interna", Private: true})
	require.NoError(t, err)
	e.reply(conv, "Le lascio il link al modulo")

	again, w := e.connect(hello{Visitor: token, ConversationID: conv, LastSeq: 2})
	require.Equal(t, conv, w.conversation())
	first, second := again.next(), again.next()
	require.Equal(t, "message", first.Type)
	require.Equal(t, int64(3), first.Seq)
	require.Equal(t, "È ancora lì?", first.Text)
	require.Equal(t, "operator", first.Author)
	require.Equal(t, "Chiara", first.AuthorName)
	require.Equal(t, "message", second.Type)
	require.Equal(t, int64(5), second.Seq, "the private note (4) is never shown")
	again.never("message replayed twice or the private note", func(f frame) bool { return f.Type == "message" },
		300*time.Millisecond)

	// Live messages go on after the replay.
	e.reply(conv, "Arrivederci")
	require.Equal(t, "Arrivederci", again.message(6).Text)
}

func TestClosingTheTabAndComingBackWithTheSameVisitorResumesTheConversation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, token, conv := e.startConversation("Buongiorno")
	e.reply(conv, "Buongiorno, mi dica")
	c.message(2)
	c.ws.Close()

	// The new tab knows only the token kept in localStorage.
	back, w := e.connect(hello{Visitor: token})

	require.Equal(t, token, w.Visitor)
	require.Equal(t, conv, w.conversation())
	require.Equal(t, "assigned", w.Status)
	require.Equal(t, int64(1), back.message(1).Seq)
	require.Equal(t, int64(2), back.message(2).Seq)
	back.say("c-after-coming-back", "Sono tornato")
	ack := back.ack("c-after-coming-back")
	require.Equal(t, conv, ack.conversation())
	require.Equal(t, int64(3), ack.Seq)
}

func TestAVisitorWhoseConversationWasResolvedStartsANewOne(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, _, conv := e.startConversation("Buongiorno")
	_, err := e.store.SetStatus(e.ctx, e.operator.Actor(), conv, true)
	require.NoError(t, err)
	require.Equal(t, "resolved", c.waitFor("resolved status", func(f frame) bool {
		return f.Type == "status" && f.Status == "resolved"
	}).Status)

	c.say("c-a-new-question", "Un'altra domanda")

	ack := c.ack("c-a-new-question")
	require.NotEqual(t, conv, ack.conversation())
	require.Equal(t, int64(1), ack.Seq)
	st := c.waitFor("status of the new conversation", func(f frame) bool {
		return f.Type == "status" && f.conversation() == ack.conversation()
	})
	require.Equal(t, "queued", st.Status)
	m := c.waitFor("the new conversation's first message", func(f frame) bool {
		return f.Type == "message" && f.conversation() == ack.conversation()
	})
	require.Equal(t, int64(1), m.Seq)
}

func TestAnOperatorReplyIsPushedLive(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, _, conv := e.startConversation("Buongiorno")

	e.reply(conv, "Buongiorno, sono Chiara. Come posso aiutarla?")

	m := c.message(2)
	require.Equal(t, "operator", m.Author)
	require.Equal(t, "Chiara", m.AuthorName)
	require.Equal(t, "Buongiorno, sono Chiara. Come posso aiutarla?", m.Text)
	require.Equal(t, conv, m.conversation())
	require.NotNil(t, m.Attachments)
	require.WithinDuration(t, time.Now(), m.At, time.Minute)
	st := c.waitFor("assigned status", func(f frame) bool { return f.Type == "status" && f.Status == "assigned" })
	require.Equal(t, conv, st.conversation(), "the reply assigned the conversation")
	require.Zero(t, st.Position)
}

func TestAPrivateNoteIsNeverPushed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, _, conv := e.startConversation("Buongiorno")

	_, err := e.store.PostReply(e.ctx, e.operator.Actor(), conv, crm.Reply{Text: "Cittadino già noto", Private: true})
	require.NoError(t, err)
	e.reply(conv, "Buongiorno")

	require.Equal(t, "Buongiorno", c.message(3).Text)
	c.never("private note", func(f frame) bool { return f.Type == "message" && f.Seq == 2 }, 200*time.Millisecond)
}

func TestTheQueuePositionIsTold(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, _, first := e.startConversation("Prima")
	c, w := e.newVisitor()
	c.say("c-second-in-line", "Seconda")
	ack := c.ack("c-second-in-line")
	require.Equal(t, 2, c.waitType("status").Position)

	_, err := e.store.Assign(e.ctx, e.operator.Actor(), first, crm.Assignment{AssigneeID: &e.operator.ID})
	require.NoError(t, err)
	c.ws.Close()
	_, w = e.connect(hello{Visitor: w.Visitor, ConversationID: ack.conversation(), LastSeq: 1})

	require.Equal(t, "queued", w.Status)
	require.Equal(t, 1, w.Position)
}

func TestOperatorTypingIsRelayedToTheCitizen(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, _, conv := e.startConversation("Buongiorno")

	require.NoError(t, e.store.Publish(e.ctx, crm.Event{Kind: crm.EventTyping, TenantID: e.tenant.ID,
		ConversationID: conv, Author: crm.AuthorOperator, StaffID: e.operator.ID, On: true}))

	f := c.waitType("typing")
	require.Equal(t, "operator", f.Author)
	require.Equal(t, "Chiara", f.AuthorName)
	require.True(t, f.On)
}

func TestCitizenTypingReachesTheConsolesAtMostTwiceASecond(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, _, conv := e.startConversation("Buongiorno")
	sub := e.subscribe()

	for i := 0; i < 6; i++ {
		c.sendJSON(map[string]any{"type": "typing", "on": i%2 == 0})
	}
	c.roundTrip()

	ev := waitEvent(t, sub, "typing", func(ev crm.Event) bool { return ev.Kind == crm.EventTyping })
	require.Equal(t, conv, ev.ConversationID)
	require.Equal(t, crm.AuthorCitizen, ev.Author)
	require.True(t, ev.On)
	waitEvent(t, sub, "second typing", func(ev crm.Event) bool { return ev.Kind == crm.EventTyping })
	select {
	case ev := <-sub.C:
		require.NotEqual(t, crm.EventTyping, ev.Kind, "a third typing notice within a second was passed on")
	case <-time.After(300 * time.Millisecond):
	}
}

func TestMalformedFramesAreAnsweredWithErrorsAndTheConnectionSurvives(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, _, _ := e.startConversation("Buongiorno")

	for _, tc := range []struct {
		name, frame, code, detail string
	}{
		{"not JSON", `hello there`, "bad_frame", "not JSON"},
		{"not an object", `[1, 2]`, "bad_frame", "object"},
		{"no type", `{"text": "ciao"}`, "bad_frame", `"type"`},
		{"unknown type", `{"type": "shout"}`, "bad_frame", `unknown frame type "shout"`},
		{"unknown field", `{"type": "ping", "extra": 1}`, "bad_frame", `unknown field "extra"`},
		{"wrong type of field", `{"type": "ack", "seq": "5"}`, "bad_frame", `"seq"`},
		{"message without client_id", `{"type": "message", "text": "ciao"}`, "bad_frame", `"client_id"`},
		{"typing without on", `{"type": "typing"}`, "bad_frame", `"on"`},
		{"ack without seq", `{"type": "ack"}`, "bad_frame", `"seq"`},
		{"second hello", `{"type": "hello", "visitor": ""}`, "bad_frame", "hello"},
		{"bad client_id", `{"type": "message", "client_id": "x", "text": "ciao"}`, "invalid_message", "client_id"},
		{"empty message", `{"type": "message", "client_id": "c-empty-message", "text": "  "}`, "invalid_message", ""},
	} {
		c.sendRaw([]byte(tc.frame))
		f := c.errorFrame()
		require.Equal(t, tc.code, f.Code, tc.name)
		require.Contains(t, f.Detail, tc.detail, tc.name)
		require.NotEmpty(t, f.Message, tc.name)
	}
	c.roundTrip()
}

func TestErrorsAreInTheCitizensLanguage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	it, _ := e.connect(hello{Lang: "it"})
	en, _ := e.connect(hello{Lang: "en"})

	it.sendRaw([]byte(`{"type":"message","client_id":"c-empty-message","text":""}`))
	en.sendRaw([]byte(`{"type":"message","client_id":"c-empty-message","text":""}`))

	require.Equal(t, "Scrivi un messaggio o allega un file.", it.errorFrame().Message)
	require.Equal(t, "Write a message or attach a file.", en.errorFrame().Message)
}

func TestFramesBeforeHelloAreNotReady(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.dial(nil)

	c.sendRaw([]byte(`{"type":"message","client_id":"c-too-early","text":"ciao"}`))
	require.Equal(t, "not_ready", c.errorFrame().Code)

	c.sendJSON(hello{Type: "hello"})
	require.Equal(t, "welcome", c.waitType("welcome").Type)
}

func TestMoreThanTenBadFramesCloseTheConnection(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, _ := e.newVisitor()

	for i := 0; i < 11; i++ {
		c.sendRaw([]byte(`{"type":"nonsense"}`))
	}

	ce, frames := c.closed()
	require.Equal(t, websocket.ClosePolicyViolation, ce.Code)
	require.Len(t, frames, 11)
	for _, f := range frames {
		require.Equal(t, "bad_frame", f.Code)
	}
}

func TestAnOversizeFrameIsRefusedAndTheConnectionClosed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, _ := e.newVisitor()

	// The server may close before the client has written it all: the write may fail.
	_ = c.ws.WriteMessage(websocket.TextMessage,
		[]byte(`{"type":"message","client_id":"c-oversize","text":"`+strings.Repeat("a", 20<<10)+`"}`))

	ce, frames := c.closed()
	require.Equal(t, websocket.CloseMessageTooBig, ce.Code)
	require.Len(t, frames, 1)
	require.Equal(t, "too_large", frames[0].Code)
}

func TestAFrameOfAMegabyteIsRefusedWithoutBeingRead(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, _ := e.newVisitor()

	// The client writes on while the server has closed: its write may fail.
	_ = c.ws.WriteMessage(websocket.TextMessage, make([]byte, 1<<20))

	ce, _ := c.closed()
	require.Equal(t, websocket.CloseMessageTooBig, ce.Code)
}

func TestATextOverTheLimitIsTooLargeButTheConnectionSurvives(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, _ := e.newVisitor()

	c.say("c-long-text", strings.Repeat("è", 4001)) // 8 KB: a frame of allowed size

	f := c.errorFrame()
	require.Equal(t, "too_large", f.Code)
	require.Equal(t, "c-long-text", f.ClientID)
	require.Contains(t, f.Message, "4000")
	c.say("c-long-text", strings.Repeat("è", 4000))
	require.Equal(t, int64(1), c.ack("c-long-text").Seq)
}

func TestARateLimitBreachIsRefusedAndNothingIsStored(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, _ := e.newVisitor()
	var conv int64
	for i := 0; i < 5; i++ { // the burst
		id := fmt.Sprintf("c-burst-%d", i)
		c.say(id, "messaggio")
		conv = c.ack(id).conversation()
	}

	c.say("c-one-too-many", "ancora")

	f := c.errorFrame()
	require.Equal(t, "rate_limited", f.Code)
	require.Equal(t, "c-one-too-many", f.ClientID)
	require.Greater(t, f.RetryAfterMS, int64(0))
	require.LessOrEqual(t, f.RetryAfterMS, int64(3001), "20 a minute: one every 3 s")
	require.Len(t, e.messages(conv), 5)
}

func TestTheRateLimitIsSharedByTheVisitorsConnections(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a, w := e.newVisitor()
	b, _ := e.connect(hello{Visitor: w.Visitor})
	for i := 0; i < 5; i++ {
		c := a
		if i%2 == 1 {
			c = b
		}
		id := fmt.Sprintf("c-shared-%d", i)
		c.say(id, "messaggio")
		c.ack(id)
	}

	b.say("c-shared-over", "ancora")

	require.Equal(t, "rate_limited", b.errorFrame().Code)
}

func TestMoreThanThirtyFramesASecondCloseTheConnection(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, _ := e.newVisitor()

	for i := 0; i < 40; i++ {
		if err := c.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`)); err != nil {
			break // closed under us
		}
	}

	ce, _ := c.closed()
	require.Equal(t, websocket.ClosePolicyViolation, ce.Code)
}

func TestAFloodingVisitorDoesNotDisturbAnother(t *testing.T) {
	t.Parallel()
	e := setup(t)
	calm, _, calmConv := e.startConversation("Buongiorno")

	var wg sync.WaitGroup
	_, flooder := e.newVisitor()
	var floods []*client
	for n := range 3 { // one visitor, three connections, each flooding until closed
		flood, _ := e.connect(hello{Visitor: flooder.Visitor})
		floods = append(floods, flood)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				msg := fmt.Sprintf(`{"type":"message","client_id":"c-flood-%d-%04d","text":"%s"}`, n, i, strings.Repeat("x", 3000))
				if flood.ws.WriteMessage(websocket.TextMessage, []byte(msg)) != nil {
					return
				}
			}
		}()
	}
	for i := 2; i <= 4; i++ {
		id := fmt.Sprintf("c-calm-%d", i)
		calm.say(id, "Sono ancora qui")
		require.Equal(t, int64(i), calm.ack(id).Seq)
	}
	wg.Wait()

	e.reply(calmConv, "Eccomi")
	require.Equal(t, "Eccomi", calm.message(5).Text)
	for _, flood := range floods {
		ce, _ := flood.closed()
		require.Equal(t, websocket.ClosePolicyViolation, ce.Code)
	}
	owner, err := e.store.OwnerOf(e.ctx, e.tenant.ID, crm.IdentityWebchat, visitorIdentity(flooder.Visitor))
	require.NoError(t, err)
	conv, err := e.store.ContactConversation(e.ctx, e.tenant.ID, owner.ContactID, crm.ChannelWebchat, "")
	require.NoError(t, err)
	require.Equal(t, 5, len(e.messages(conv.ID)), "the flooder's burst, and nothing more")
}

func TestAPusherCutOffByTheHubCatchesUpFromTheDatabase(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, _, conv := e.startConversation("Buongiorno")

	// Far more events than a connection may fall behind, in one commit, with
	// a reply among the last: the hub cuts the connection's subscription off,
	// and the reply must come anyway.
	err := e.store.InTx(e.ctx, func(tx *crm.Store) error {
		for i := 0; i < 400; i++ {
			if err := tx.Publish(e.ctx, crm.Event{Kind: crm.EventConversation, TenantID: e.tenant.ID,
				ConversationID: conv, Seq: int64(i)}); err != nil {
				return err
			}
		}
		_, err := tx.PostReply(e.ctx, e.operator.Actor(), conv, crm.Reply{Text: "Risposta nel mezzo della tempesta"})
		return err
	})
	require.NoError(t, err)

	require.Equal(t, "Risposta nel mezzo della tempesta", c.message(2).Text)
	require.Eventually(t, func() bool { return strings.Contains(e.logs.String(), "resubscribing") }, wait, 50*time.Millisecond)
	e.reply(conv, "E dopo la tempesta")
	require.Equal(t, "E dopo la tempesta", c.message(3).Text)
}

func TestSocketsFromOtherOriginsAreRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)

	_, resp, err := websocket.DefaultDialer.Dial(e.socketURL(), http.Header{"Origin": {"https://evil.example.org"}})

	require.Error(t, err)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	same := e.dial(http.Header{"Origin": {e.url}})
	same.sendJSON(hello{Type: "hello"})
	require.Equal(t, "welcome", same.next().Type)
}

func TestAnUnknownEnteHasNoChat(t *testing.T) {
	t.Parallel()
	e := setup(t)

	_, resp, err := websocket.DefaultDialer.Dial(strings.Replace(e.socketURL(), e.tenant.Slug, "no-such-ente", 1), nil)

	require.Error(t, err)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestShutdownClosesTheSocketsWithGoingAway(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, _ := e.newVisitor()

	require.NoError(t, e.chat.Shutdown(e.ctx))

	ce, _ := c.closed()
	require.Equal(t, websocket.CloseGoingAway, ce.Code)
}

func TestTheLogHoldsNeitherTokensNorMessages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, token, conv := e.startConversation("Il mio IBAN segreto")
	e.reply(conv, "Risposta riservata")
	c.message(2)
	c.sendJSON(map[string]any{"type": "typing", "on": true})
	c.roundTrip()
	c.ws.Close()
	again, _ := e.connect(hello{Visitor: token, ConversationID: conv})
	again.message(2)

	logs := e.logs.String()
	require.Contains(t, logs, "web chat connected")
	require.NotContains(t, logs, token)
	require.NotContains(t, logs, "IBAN")
	require.NotContains(t, logs, "riservata")
}

func TestASocketWithoutHelloIsClosedAfterTenSeconds(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.dial(nil)
	start := time.Now()

	ce, frames := c.closedWithin(15 * time.Second)

	require.Equal(t, websocket.ClosePolicyViolation, ce.Code)
	require.Empty(t, frames)
	require.GreaterOrEqual(t, time.Since(start), 9*time.Second)
}

func TestAMalformedVisitorTokenIsReplaced(t *testing.T) {
	t.Parallel()
	e := setup(t)

	_, w := e.connect(hello{Visitor: "not-a-token-of-ours"})

	require.Len(t, w.Visitor, 43)
	require.Nil(t, w.ConversationID)
}
