package console_test

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

// enableAssistant lets the test's ente's virtual assistant answer first.
func (e *env) enableAssistant() {
	e.t.Helper()
	require.NoError(e.t, e.store.SetAssistantSettings(e.ctx, e.staff[crm.RoleAdmin].Actor(),
		crm.AssistantSettings{Enabled: true, OfficeHours: "dal lunedì al venerdì, 9-17"}))
}

// assistantTurn claims the assistant's turn in a conversation of the test's
// ente, as an assistant worker would.
func (e *env) assistantTurn(convID int64) crm.AssistantTurn {
	e.t.Helper()
	turns, err := e.store.ClaimAssistantTurns(e.ctx, 100, crm.AssistantLease, e.tenant.ID)
	require.NoError(e.t, err)
	var mine *crm.AssistantTurn
	for i, turn := range turns {
		if turn.ConversationID == convID {
			mine = &turns[i]
			continue
		}
		require.NoError(e.t, e.store.ReleaseAssistantTurn(e.ctx, turn))
	}
	if mine == nil {
		var status string
		var last, read int64
		var lease *time.Time
		err := e.pool.QueryRow(e.ctx, `SELECT status, last_seq, assistant_seq, assistant_lease FROM conversations
			WHERE tenant_id = $1 AND id = $2`, e.tenant.ID, convID).Scan(&status, &last, &read, &lease)
		e.t.Fatalf("the assistant's turn in conversation %d was not claimed: %s, last %d, read %d, lease %v (%v)",
			convID, status, last, read, lease, err)
	}
	return *mine
}

// assistantAnswers has the assistant answer the citizen's question in a new
// conversation with reply, and returns the conversation.
func (e *env) assistantAnswers(from crm.IdentityClaim, question string, reply crm.AssistantReply) int64 {
	e.t.Helper()
	conv := e.citizenWrites(from, question).Message.ConversationID
	require.Equal(e.t, crm.StatusAssistant, e.conversation(conv).Status)
	reply.Question = question
	_, err := e.store.CompleteAssistantTurn(e.ctx, e.assistantTurn(conv), reply)
	require.NoError(e.t, err)
	return conv
}

func TestHandoffSummaryIsShownBesideTheConversation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.enableAssistant()
	summary := "Il cittadino chiede del rimborso TARI 2024.\nL'assistente non ha trovato la risposta due volte."
	conv := e.assistantAnswers(visitor("Mario Rossi"), "Come chiedo il rimborso della TARI?", crm.AssistantReply{
		Text: "Non ho trovato la risposta: la passo a un operatore.", Kind: crm.AnswerHandoff, Failed: true,
		Handoff: &crm.Handoff{Reason: crm.HandoffFailures, Summary: summary},
	})
	require.Equal(t, crm.StatusQueued, e.conversation(conv).Status)
	c := e.login(e.operator())

	page := c.get(convPath(conv, ""))

	require.Equal(t, http.StatusOK, page.status)
	box := regexp.MustCompile(`(?s)<section id="dlg-handoff".*?</section>`).FindString(page.body)
	require.NotEmpty(t, box, "the summary box")
	require.Contains(t, box, "Riepilogo dell&#39;assistente virtuale")
	require.Contains(t, box, "risposte non trovate")
	require.Contains(t, box, "Il cittadino chiede del rimborso TARI 2024.<br>L&#39;assistente non ha trovato la risposta due volte.",
		"the summary keeps its line breaks")
	require.Contains(t, box, `<time datetime="`)
	require.Less(t, regexp.MustCompile(`id="dlg-handoff"`).FindStringIndex(page.body)[0],
		regexp.MustCompile(`id="dlg-citizen-title"`).FindStringIndex(page.body)[0], "above the citizen panel")
	// The timeline: the assistant's answer, and its summary as a private note.
	require.Regexp(t, `dlg-msg--out dlg-msg--assistant[^>]*>\s*<span class="dlg-msg__meta"><span class="dlg-msg__author">Assistente virtuale</span>`, page.body)
	require.Regexp(t, `(?s)dlg-msg--note dlg-msg--assistant.*?Nota dell&#39;assistente virtuale.*?Il cittadino chiede del rimborso`, page.body)
}

func TestConversationWithoutHandoffHasNoSummaryBox(t *testing.T) {
	t.Parallel()
	e := setup(t)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID

	page := e.login(e.operator()).get(convPath(conv, ""))

	require.Equal(t, http.StatusOK, page.status)
	require.NotContains(t, page.body, `id="dlg-handoff"`)
	require.NotContains(t, page.body, "/handback", "the ente has no assistant to hand back to")
}

func TestHandBackGivesTheConversationToTheAssistant(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.enableAssistant()
	conv := e.assistantAnswers(visitor("Mario Rossi"), "Voglio parlare con una persona", crm.AssistantReply{
		Text: "La passo a un operatore.", Kind: crm.AnswerHandoff,
		Handoff: &crm.Handoff{Reason: crm.HandoffRequested, Summary: "Il cittadino chiede un operatore."},
	})
	c := e.login(e.operator())
	c.post(convPath(conv, "/take"), nil)
	before := c.get(convPath(conv, ""))
	require.Contains(t, before.body, `action="/console/conversations/`+itoa(conv)+`/handback"`)
	require.Contains(t, before.body, "Restituisci all&#39;assistente")
	require.Contains(t, before.body, "richiesta del cittadino")

	res := c.post(convPath(conv, "/handback"), nil)

	require.Equal(t, convPath(conv, ""), res.location)
	page := c.follow(res)
	require.Contains(t, page.body, "Conversazione restituita all&#39;assistente virtuale.")
	got := e.conversation(conv)
	require.Equal(t, crm.StatusAssistant, got.Status)
	require.Nil(t, got.AssigneeID)
	require.Contains(t, page.body, `dlg-status--assistant">Con l&#39;assistente<`)
	require.NotContains(t, page.body, `id="dlg-handoff"`, "the handoff is over")
	require.NotContains(t, page.body, `/handback"`, "nothing to hand back any more")
	all := e.login(e.supervisor()).get("/console?tab=all&status=assistant")
	require.Contains(t, all.body, "Mario Rossi")
	require.Contains(t, all.body, "Con l&#39;assistente")
}

func TestHandBackIsRefusedWhenTheAssistantIsOff(t *testing.T) {
	t.Parallel()
	e := setup(t)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID
	c := e.login(e.operator())

	res := c.post(convPath(conv, "/handback"), nil)

	require.Equal(t, convPath(conv, ""), res.location)
	require.Contains(t, c.follow(res).body, "L&#39;assistente virtuale non è attivo per il tuo ente")
	require.Equal(t, crm.StatusQueued, e.conversation(conv).Status)
}

func TestAnswersPageShowsWhyTheAssistantAnswered(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.enableAssistant()
	e.assistantAnswers(visitor("Mario Rossi"), "Quando si paga la TARI?", crm.AssistantReply{
		Text: "La TARI si paga in due rate, il 16 maggio e il 16 novembre.", Kind: crm.AnswerKnowledge, Confidence: 0.82,
		Retrieved: []crm.RetrievedPassage{
			{ChunkID: 7101, TenantID: e.tenant.ID, Score: 0.0328, Source: "tributi/tari.md", Title: "TARI - Tassa sui rifiuti",
				URL: "https://www.comune.example.it/tari", Cited: true},
			{ChunkID: 7102, TenantID: e.tenant.ID, Score: 0.0161, Source: "scuola/mensa.md", Title: "Mensa scolastica"},
		},
	})
	cf := codiceFiscale(33)
	e.importCitizen(cf, "Lucia", "Bianchi")
	e.assistantAnswers(verifiedCitizen(cf, "Lucia Bianchi"), "Quando scade il mio avviso della mensa?", crm.AssistantReply{
		Text: "Il suo avviso della mensa di ottobre, di 1.234,56 euro, è scaduto.", Kind: crm.AnswerPersonal, Confidence: 1,
	})
	c := e.login(e.staff[crm.RoleKnowledgeEditor])

	page := c.get("/console/knowledge/answers")

	require.Equal(t, http.StatusOK, page.status, page.body)
	require.Contains(t, page.body, "Quando si paga la TARI?")
	require.Contains(t, page.body, "La TARI si paga in due rate")
	require.Contains(t, page.body, ">Dalla base di conoscenza</span>")
	require.Contains(t, page.body, "82%")
	require.Contains(t, page.body, "estrattiva", "no model: an extractive answer")
	require.Contains(t, page.body, `<a href="https://www.comune.example.it/tari" target="_blank" rel="noopener noreferrer">TARI - Tassa sui rifiuti`)
	require.Contains(t, page.body, `data-chunk="7101">7101<`)
	require.Contains(t, page.body, `data-chunk="7102">7102<`)
	require.Contains(t, page.body, "0,0328")
	require.Regexp(t, `(?s)TARI - Tassa sui rifiuti.*?<strong>sì</strong>.*?Mensa scolastica.*?<td>no</td>`, page.body)
	// The answer from the fascicolo: neither the question nor the answer.
	require.NotContains(t, page.body, "Quando scade il mio avviso della mensa?")
	require.Contains(t, page.body, "Domanda del cittadino sui propri dati (non mostrata)")
	require.NotContains(t, page.body, "1.234,56")
	require.Contains(t, page.body, "Risposta basata sul fascicolo del cittadino")
	// Newest first.
	require.Less(t, regexp.MustCompile(`sui propri dati`).FindStringIndex(page.body)[0],
		regexp.MustCompile(`Quando si paga la TARI`).FindStringIndex(page.body)[0])
	// The week's figures, as a table.
	require.Regexp(t, `(?s)<th scope="row">Dalla base di conoscenza</th>\s*<td class="text-end">1</td>`, page.body)
	require.Regexp(t, `(?s)<th scope="row">Totale</th>\s*<td class="text-end">2</td>\s*<td class="text-end">0</td>\s*<td class="text-end">0</td>\s*<td class="text-end">2</td>`, page.body)
	require.NotContains(t, page.body, `/console/conversations/`, "knowledge editors do not open conversations")
}

func TestAnswersPageFiltersAndPages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.enableAssistant()
	mario := visitor("Mario Rossi")
	first := e.assistantAnswers(mario, "Orari dell'anagrafe?", crm.AssistantReply{Text: "L'anagrafe apre alle 8:30.",
		Kind: crm.AnswerKnowledge, Confidence: 0.7})
	e.assistantAnswers(visitor("Anna Verdi"), "Ciao", crm.AssistantReply{Text: "Buongiorno! Come posso aiutarla?",
		Kind: crm.AnswerGreeting, Confidence: 1})
	firstSeq := e.conversation(first).LastSeq
	require.NoError(t, e.store.AnswerFeedback(e.ctx, e.tenant.ID, e.conversation(first).ContactID, first, firstSeq, true))
	c := e.login(e.supervisor())

	greetings := c.get("/console/knowledge/answers?kind=greeting")
	useful := c.get("/console/knowledge/answers?feedback=up")
	answers, err := e.store.AssistantAnswers(e.ctx, e.supervisor().Actor(), crm.AnswerQuery{})
	require.NoError(t, err)
	require.Len(t, answers, 2)
	older := c.get("/console/knowledge/answers?before=" + itoa(answers[0].ID))

	require.Contains(t, greetings.body, "Buongiorno! Come posso aiutarla?")
	require.NotContains(t, greetings.body, "L&#39;anagrafe apre alle 8:30.")
	require.Contains(t, useful.body, "L&#39;anagrafe apre alle 8:30.")
	require.NotContains(t, useful.body, "Buongiorno! Come posso aiutarla?")
	require.Contains(t, useful.body, "👍</span> utile")
	require.Contains(t, older.body, "L&#39;anagrafe apre alle 8:30.")
	require.NotContains(t, older.body, "Buongiorno! Come posso aiutarla?")
	require.Contains(t, older.body, `href="/console/knowledge/answers"`, "back to the newest")
	require.Contains(t, greetings.body, `<a href="/console/conversations/`, "supervisors open the conversations")
	require.NotContains(t, greetings.body, `href="/console/knowledge"`, "supervisors do not edit the sources")
}
