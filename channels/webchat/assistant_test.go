package webchat_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

// The web chat's side of the virtual assistant: its answers reach the
// citizen like any message, and the citizen rates them with feedback frames.

// enableAssistant lets the ente's virtual assistant answer its new
// conversations first, as an administrator of the ente would.
func (e *env) enableAssistant() {
	e.t.Helper()
	admin := e.newStaff("Alessandra Amministratrice", crm.RoleAdmin)
	require.NoError(e.t, e.store.SetAssistantSettings(e.ctx, admin.Actor(), crm.AssistantSettings{Enabled: true}))
}

// assistantTurn claims the assistant's turn in a conversation of the test's
// ente, as an assistant worker does. Turns of the ente's other conversations,
// if any, are given back at once.
func (e *env) assistantTurn(conv int64) crm.AssistantTurn {
	e.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		turns, err := e.store.ClaimAssistantTurns(e.ctx, 50, time.Minute, e.tenant.ID)
		require.NoError(e.t, err)
		var mine *crm.AssistantTurn
		for _, turn := range turns {
			if turn.ConversationID == conv {
				mine = &turn
				continue
			}
			require.NoError(e.t, e.store.ReleaseAssistantTurn(e.ctx, turn))
		}
		if mine != nil {
			return *mine
		}
		require.True(e.t, time.Now().Before(deadline), "conversation %d has no turn for the assistant", conv)
		time.Sleep(20 * time.Millisecond)
	}
}

// assistantAnswers posts the assistant's answer to the citizen's last
// question in the conversation, and returns it.
func (e *env) assistantAnswers(conv int64, text string) crm.Message {
	e.t.Helper()
	turn := e.assistantTurn(conv)
	questions := turn.Questions()
	require.NotEmpty(e.t, questions)
	m, err := e.store.CompleteAssistantTurn(e.ctx, turn, crm.AssistantReply{
		Text: text, Kind: crm.AnswerKnowledge, Question: questions[len(questions)-1].Text,
		Language: "it", Confidence: 0.8,
	})
	require.NoError(e.t, err)
	return m
}

// feedbackOn returns the feedback stored on an answer: 1, -1, or 0 for none.
func (e *env) feedbackOn(conv, seq int64) int {
	e.t.Helper()
	editor := e.newStaff("Katia Redattrice", crm.RoleKnowledgeEditor)
	answers, err := e.store.AssistantAnswers(e.ctx, editor.Actor(), crm.AnswerQuery{ConversationID: conv})
	require.NoError(e.t, err)
	for _, a := range answers {
		if a.Seq == seq {
			return a.Feedback
		}
	}
	e.t.Fatalf("no answer %d in conversation %d", seq, conv)
	return 0
}

// startWithAnAnswer opens a conversation with the assistant and has it
// answer: the citizen's question is 1, the answer 2.
func (e *env) startWithAnAnswer() (*client, string, int64) {
	e.t.Helper()
	c, token, conv := e.startConversation("Quali documenti servono per la carta d'identità?")
	answer := e.assistantAnswers(conv, "Servono una fototessera e il documento scaduto.")
	require.Equal(e.t, int64(2), answer.Seq)
	m := c.message(2)
	require.Equal(e.t, "assistant", m.Author)
	return c, token, conv
}

func feedback(seq int64, useful bool) map[string]any {
	return map[string]any{"type": "feedback", "seq": seq, "useful": useful}
}

func TestAConversationWithTheAssistantSaysSoAndShowsItsAnswers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.enableAssistant()
	c, w := e.newVisitor()

	c.say("c-first-question", "Buongiorno, come pago la TARI?")
	ack := c.ack("c-first-question")
	st := c.waitType("status")
	require.Equal(t, "assistant", st.Status)
	require.Zero(t, st.Position, "nobody waits in a queue")
	e.assistantAnswers(ack.conversation(), "Può pagare la TARI con pagoPA: https://www.comune.milano.it/tari")

	m := c.message(2)
	require.Equal(t, "assistant", m.Author)
	require.Equal(t, "Assistente virtuale", m.AuthorName)
	require.Equal(t, "Può pagare la TARI con pagoPA: https://www.comune.milano.it/tari", m.Text)
	c.ws.Close()
	_, again := e.connect(hello{Visitor: w.Visitor, Lang: "en"})
	require.Equal(t, "assistant", again.Status)
}

func TestFeedbackOnAnAnswerIsStoredAndTheLastOneCounts(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.enableAssistant()
	c, _, conv := e.startWithAnAnswer()

	for _, step := range []struct {
		useful bool
		want   int
	}{
		{false, -1},
		{false, -1}, // the same again, as after a reconnection: nothing changes
		{true, 1},   // changed
	} {
		c.sendJSON(feedback(2, step.useful))
		ok := c.waitType("feedback_ok")
		require.Equal(t, int64(2), ok.Seq)
		require.Equal(t, conv, ok.conversation())
		require.NotNil(t, ok.Useful)
		require.Equal(t, step.useful, *ok.Useful)
		require.Equal(t, step.want, e.feedbackOn(conv, 2))
	}
}

func TestFeedbackMayNameTheConversation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.enableAssistant()
	c, _, conv := e.startWithAnAnswer()

	c.sendJSON(map[string]any{"type": "feedback", "seq": 2, "useful": false, "conversation_id": conv})

	require.Equal(t, conv, c.waitType("feedback_ok").conversation())
	require.Equal(t, -1, e.feedbackOn(conv, 2))
}

func TestFeedbackOnWhatIsNotAnAnswerOfTheAssistantIsInvalid(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.enableAssistant()
	c, _, conv := e.startWithAnAnswer()
	e.reply(conv, "Buongiorno, sono Chiara: le confermo quanto detto.")
	c.message(3)

	for _, tc := range []struct {
		name string
		seq  int64
	}{
		{"the citizen's own message", 1},
		{"an operator's message", 3},
		{"a number never used", 42},
	} {
		c.sendJSON(feedback(tc.seq, true))
		f := c.errorFrame()
		require.Equal(t, "invalid_message", f.Code, tc.name)
		require.Equal(t, tc.seq, f.Seq, tc.name)
		require.Equal(t, conv, f.conversation(), tc.name)
		require.Equal(t, "Non è possibile valutare questo messaggio.", f.Message, tc.name)
		require.NotEmpty(t, f.Detail, tc.name)
	}
	// The connection goes on, and the answer may still be rated.
	c.sendJSON(feedback(2, true))
	require.Equal(t, int64(2), c.waitType("feedback_ok").Seq)
	require.Equal(t, 1, e.feedbackOn(conv, 2))
}

func TestFeedbackOnAnotherContactsConversationIsRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.enableAssistant()
	_, _, theirs := e.startWithAnAnswer()

	t.Run("by a visitor with no conversation yet", func(t *testing.T) {
		stranger, _ := e.newVisitor()
		stranger.sendJSON(map[string]any{"type": "feedback", "seq": 2, "useful": false, "conversation_id": theirs})
		require.Equal(t, "invalid_message", stranger.errorFrame().Code)
		stranger.sendJSON(feedback(2, false))
		require.Equal(t, "invalid_message", stranger.errorFrame().Code)
	})
	t.Run("by a visitor with a conversation of their own", func(t *testing.T) {
		other, _, mine := e.startWithAnAnswer()
		require.NotEqual(t, theirs, mine)
		other.sendJSON(map[string]any{"type": "feedback", "seq": 2, "useful": false, "conversation_id": theirs})
		f := other.errorFrame()
		require.Equal(t, "invalid_message", f.Code)
		require.Equal(t, theirs, f.conversation())
		require.Equal(t, 0, e.feedbackOn(mine, 2))
	})
	require.Equal(t, 0, e.feedbackOn(theirs, 2), "nobody else's feedback is stored")
}

func TestFeedbackIsRateLimitedApartFromMessages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.enableAssistant()
	c, _, conv := e.startWithAnAnswer()
	for i := range 5 { // the burst
		c.sendJSON(feedback(2, i%2 == 0))
		c.waitType("feedback_ok")
	}

	c.sendJSON(feedback(2, false))

	f := c.errorFrame()
	require.Equal(t, "rate_limited", f.Code)
	require.Equal(t, int64(2), f.Seq)
	require.Empty(t, f.ClientID)
	require.Greater(t, f.RetryAfterMS, int64(0))
	require.LessOrEqual(t, f.RetryAfterMS, int64(3001), "20 a minute: one every 3 s")
	require.Equal(t, 1, e.feedbackOn(conv, 2), "the refused feedback was not stored")
	// Rating answers does not use up the citizen's messages.
	for i := range 4 {
		id := fmt.Sprintf("c-after-rating-%d", i)
		c.say(id, "Un'altra domanda")
		c.ack(id)
	}
}

func TestMalformedFeedbackFramesAreBadFrames(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.enableAssistant()
	c, _, conv := e.startWithAnAnswer()

	for _, tc := range []struct {
		name, frame, detail string
	}{
		{"without seq", `{"type": "feedback", "useful": true}`, `missing field "seq"`},
		{"on seq 0", `{"type": "feedback", "seq": 0, "useful": true}`, `"seq" is a sequence number`},
		{"on a negative seq", `{"type": "feedback", "seq": -2, "useful": true}`, `"seq" is a sequence number`},
		{"with seq as text", `{"type": "feedback", "seq": "2", "useful": true}`, `field "seq" must be a number`},
		{"without useful", `{"type": "feedback", "seq": 2}`, `missing field "useful"`},
		{"with useful as text", `{"type": "feedback", "seq": 2, "useful": "yes"}`, `field "useful" must be a boolean`},
		{"with useful as a number", `{"type": "feedback", "seq": 2, "useful": 1}`, `field "useful" must be a boolean`},
		{"with a negative conversation", `{"type": "feedback", "seq": 2, "useful": true, "conversation_id": -1}`, `"conversation_id"`},
		{"with an unknown field", `{"type": "feedback", "seq": 2, "useful": true, "stars": 5}`, `unknown field "stars"`},
	} {
		c.sendRaw([]byte(tc.frame))
		f := c.errorFrame()
		require.Equal(t, "bad_frame", f.Code, tc.name)
		require.Contains(t, f.Detail, tc.detail, tc.name)
	}
	c.roundTrip()
	require.Equal(t, 0, e.feedbackOn(conv, 2), "nothing was stored")
}
