package assistant_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/assistant"
	"github.com/dialogo-pa/dialogo/crm"
)

func TestANewConversationStartsWithTheAssistantWhenTheEnteEnabledIt(t *testing.T) {
	t.Parallel()
	b := setup(t, assistant.Config{})
	res := b.say(t, visitor(), "Buongiorno")
	require.Equal(t, crm.StatusAssistant, b.conversation(t, res.Message.ConversationID).Status)
	require.Equal(t, 1, b.work(t))

	require.NoError(t, b.store.SetAssistantSettings(b.ctx, crm.SystemActor(b.tenant.ID), crm.AssistantSettings{}))
	res = b.say(t, visitor(), "Buongiorno")
	require.Equal(t, crm.StatusQueued, b.conversation(t, res.Message.ConversationID).Status)
	require.Zero(t, b.work(t), "the assistant has nothing to do in a queue")
}

func TestAnswersFromTheKnowledgeBaseQuotingItsSource(t *testing.T) {
	t.Parallel()
	b := setup(t, assistant.Config{})
	res := b.say(t, visitor(), "Quanto costa la carta d'identità elettronica?")
	require.Equal(t, 1, b.work(t))

	reply := b.lastReply(t, res.Message.ConversationID)
	containsAll(t, reply, "Ecco cosa dice la pagina «Carta d'identità elettronica (CIE) › Quanto costa»",
		"> - Primo rilascio o rinnovo: 22,21 euro", "Fonte: Carta d'identità elettronica (CIE)")
	require.NotContains(t, reply, "> >", "a line the page quotes is quoted once")
	as := b.answers(t, res.Message.ConversationID)
	require.Len(t, as, 1)
	a := as[0]
	require.Equal(t, crm.AnswerKnowledge, a.Kind)
	require.Equal(t, "it", a.Language)
	require.Empty(t, a.Model, "no model: an extractive answer")
	require.GreaterOrEqual(t, a.Confidence, assistant.DefaultMinConfidence)
	require.NotEmpty(t, a.Retrieved)
	var cited []string
	for _, p := range a.Retrieved {
		require.NotZero(t, p.ChunkID)
		if p.Cited {
			cited = append(cited, p.Source)
		}
	}
	require.Equal(t, []string{"cie.md"}, cited, "the quoted passage is the one recorded as cited")
	require.Equal(t, crm.StatusAssistant, b.conversation(t, res.Message.ConversationID).Status)
	require.Zero(t, b.work(t), "an answered question is not answered again")
}

func TestAnswersInEnglishWhenWrittenToInEnglish(t *testing.T) {
	t.Parallel()
	b := setup(t, assistant.Config{})
	res := b.say(t, visitor(), "How do I pay the waste tax TARI?")
	b.work(t)
	reply := b.lastReply(t, res.Message.ConversationID)
	containsAll(t, reply, "Here is what the page", "(in Italian)", "Source: TARI")
	require.Equal(t, "en", b.answers(t, res.Message.ConversationID)[0].Language)
}

func TestSaysItDoesNotKnowThenHandsOffOnRepeatedFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, assistant.Config{})
	v := visitor()
	res := b.say(t, v, "Come rinnovo il passaporto?")
	conv := res.Message.ConversationID
	b.work(t)
	containsAll(t, b.lastReply(t, conv), "non ho trovato questa informazione", "operatore")
	require.Equal(t, crm.AnswerUnknown, b.answers(t, conv)[0].Kind)
	require.Equal(t, crm.StatusAssistant, b.conversation(t, conv).Status)

	b.say(t, v, "Dove si rinnova la patente di guida?")
	b.work(t)
	c := b.conversation(t, conv)
	require.Equal(t, crm.StatusQueued, c.Status, "the second failure in a row hands off")
	h, err := b.store.ConversationHandoff(b.ctx, b.tenant.ID, conv)
	require.NoError(t, err)
	require.Equal(t, crm.HandoffFailures, h.Reason)
	containsAll(t, h.Summary, "Come rinnovo il passaporto?", "Dove si rinnova la patente di guida?", "non ha trovato risposte")
	// Nobody is on duty: the citizen is told the office hours and the alternatives.
	containsAll(t, b.lastReply(t, conv), "non ci sono operatori disponibili", "dal lunedì al venerdì, 9:00-17:00", "telefono 020202")
}

func TestHandsOffOnRequestToTheTeamOfTheTopicAndFallsSilent(t *testing.T) {
	t.Parallel()
	b := setup(t, assistant.Config{})
	b.online(t)
	v := visitor()
	res := b.say(t, v, "Come si paga la TARI?")
	conv := res.Message.ConversationID
	b.work(t)
	require.Equal(t, crm.AnswerKnowledge, b.answers(t, conv)[0].Kind)

	b.say(t, v, "Voglio parlare con un operatore")
	b.work(t)
	c := b.conversation(t, conv)
	require.Equal(t, crm.StatusQueued, c.Status)
	require.NotNil(t, c.TeamID)
	require.Equal(t, b.tributi.ID, *c.TeamID, "a conversation about the TARI goes to Tributi")
	containsAll(t, b.lastReply(t, conv), "Ti metto in contatto con un operatore (Tributi)", "Sei al 1° posto in coda")

	// The operator's queue has the summary, as a private note of the assistant.
	var summary string
	for _, m := range c.Messages {
		if m.AuthorKind == crm.AuthorAssistant && m.Private {
			summary = m.Text
		}
	}
	containsAll(t, summary, "Riepilogo dell'assistente virtuale", "il cittadino ha chiesto un operatore",
		"Come si paga la TARI?", "Voglio parlare con un operatore", "L'assistente ha risposto:")

	// From now on the assistant is silent, whatever the citizen writes.
	before := len(b.assistantMessages(t, conv))
	b.say(t, v, "Quanto costa la carta d'identità?")
	require.Zero(t, b.work(t))
	_, err := b.store.Assign(b.ctx, b.operator.Actor(), conv, crm.Assignment{AssigneeID: &b.operator.ID})
	require.NoError(t, err)
	_, err = b.store.PostReply(b.ctx, b.operator.Actor(), conv, crm.Reply{Text: "Buongiorno, sono Olga."})
	require.NoError(t, err)
	b.say(t, v, "Grazie")
	require.Zero(t, b.work(t))
	require.Len(t, b.assistantMessages(t, conv), before, "the assistant never speaks after the handoff")

	// Handed back, it answers what comes next, not what came before.
	_, err = b.store.HandBack(b.ctx, b.operator.Actor(), conv)
	require.NoError(t, err)
	require.Zero(t, b.work(t), "messages before the hand-back are the operator's")
	b.say(t, v, "Come si cambia la residenza?")
	require.Equal(t, 1, b.work(t))
	ms := b.assistantMessages(t, conv)
	require.Len(t, ms, before+1)
	containsAll(t, ms[len(ms)-1].Text, "«Cambio di residenza e cambio di indirizzo › Come fare»")
}

func TestHandsOffAtOnceWhenTheCitizenIsInDistress(t *testing.T) {
	t.Parallel()
	b := setup(t, assistant.Config{})
	res := b.say(t, visitor(), "Mi hanno minacciato davanti al municipio, aiutatemi")
	b.work(t)
	conv := res.Message.ConversationID
	require.Equal(t, crm.StatusQueued, b.conversation(t, conv).Status)
	containsAll(t, b.lastReply(t, conv), "112")
	h, err := b.store.ConversationHandoff(b.ctx, b.tenant.ID, conv)
	require.NoError(t, err)
	require.Equal(t, crm.HandoffDistress, h.Reason)
}

func TestNeverAnswersAfterAnOperatorWrote(t *testing.T) {
	t.Parallel()
	b := setup(t, assistant.Config{})
	res := b.say(t, visitor(), "Quanto costa la carta d'identità elettronica?")
	conv := res.Message.ConversationID
	turns, err := b.store.ClaimAssistantTurns(b.ctx, 10, time.Minute, b.tenant.ID)
	require.NoError(t, err)
	require.Len(t, turns, 1)
	reply, err := b.asst.Reply(b.ctx, turns[0])
	require.NoError(t, err)
	require.NotEmpty(t, reply.Text)

	// While the assistant was thinking, an operator answered.
	_, err = b.store.PostReply(b.ctx, b.operator.Actor(), conv, crm.Reply{Text: "Costa 22,21 euro."})
	require.NoError(t, err)
	_, err = b.store.CompleteAssistantTurn(b.ctx, turns[0], reply)
	require.ErrorIs(t, err, crm.ErrTurnTaken)
	require.Empty(t, b.assistantMessages(t, conv))
	require.Empty(t, b.answers(t, conv))
}

func TestTwoAssistantsNeverAnswerTheSameMessageTwice(t *testing.T) {
	t.Parallel()
	b := setup(t, assistant.Config{})
	other := assistant.New(assistant.Config{Store: b.store, Pool: b.pool, Workers: 2, Tenants: []int64{b.tenant.ID}})
	var convs []int64
	for range 12 {
		convs = append(convs, b.say(t, visitor(), "Come cambio la residenza?").Message.ConversationID)
	}
	var wg sync.WaitGroup
	for _, a := range []*assistant.Assistant{b.asst, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a.ProcessDue(b.ctx) > 0 {
			}
		}()
	}
	wg.Wait()
	for _, c := range convs {
		require.Len(t, b.assistantMessages(t, c), 1, "conversation %d", c)
		require.Len(t, b.answers(t, c), 1)
	}
}

func TestReadsTwoQuickMessagesAsOneQuestion(t *testing.T) {
	t.Parallel()
	b := setup(t, assistant.Config{})
	v := visitor()
	res := b.say(t, v, "Buongiorno, una domanda")
	b.say(t, v, "quanto costa la carta d'identità elettronica?")
	require.Equal(t, 1, b.work(t))
	conv := res.Message.ConversationID
	require.Len(t, b.assistantMessages(t, conv), 1)
	containsAll(t, b.lastReply(t, conv), "Carta d'identità elettronica")
}

func TestGreetsAndThanks(t *testing.T) {
	t.Parallel()
	b := setup(t, assistant.Config{})
	v := visitor()
	res := b.say(t, v, "Ciao!")
	b.work(t)
	conv := res.Message.ConversationID
	containsAll(t, b.lastReply(t, conv), "assistente virtuale del Comune di Prova", "operatore")
	b.say(t, v, "grazie mille")
	b.work(t)
	containsAll(t, b.lastReply(t, conv), "Prego")
	require.Equal(t, crm.StatusAssistant, b.conversation(t, conv).Status, "greetings are not failures")
}

func TestAnAutomatedMessageIsNeverAnswered(t *testing.T) {
	t.Parallel()
	b := setup(t, assistant.Config{})
	res, err := b.store.Ingest(b.ctx, b.tenant.ID, crm.InboundMessage{Channel: crm.ChannelEmail, ExternalID: "<" + randomHex(6) + "@mx>",
		From: crm.IdentityClaim{Kind: crm.IdentityEmail, ExternalID: "mario@example.it"}, Subject: "Risposta automatica",
		Text: "Sono fuori ufficio fino a lunedì. Quanto costa la carta d'identità?", Automated: true})
	require.NoError(t, err)
	require.Equal(t, crm.StatusAssistant, b.conversation(t, res.Message.ConversationID).Status)
	require.Equal(t, 1, b.work(t), "the turn is read")
	require.Empty(t, b.assistantMessages(t, res.Message.ConversationID), "and not answered")
	require.Zero(t, b.work(t), "nor read again")
}

func TestFeedbackIsRecordedOnTheAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t, assistant.Config{})
	res := b.say(t, visitor(), "Quanto costa la carta d'identità elettronica?")
	b.work(t)
	conv := res.Message.ConversationID
	seq := b.answers(t, conv)[0].Seq
	require.NoError(t, b.store.AnswerFeedback(b.ctx, b.tenant.ID, res.ContactID, conv, seq, false))
	require.NoError(t, b.store.AnswerFeedback(b.ctx, b.tenant.ID, res.ContactID, conv, seq, true))
	require.Equal(t, 1, b.answers(t, conv)[0].Feedback, "the last feedback counts")

	stranger := b.say(t, visitor(), "Ciao")
	require.ErrorIs(t, b.store.AnswerFeedback(b.ctx, b.tenant.ID, stranger.ContactID, conv, seq, false), crm.ErrNotFound,
		"only the citizen of the conversation gives feedback")
	require.ErrorIs(t, b.store.AnswerFeedback(b.ctx, b.tenant.ID, res.ContactID, conv, res.Message.Seq, false), crm.ErrNotFound,
		"the citizen's own message is not an answer")
}
