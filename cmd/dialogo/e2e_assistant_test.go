package main

// End-to-end test of the virtual assistant in the real site: newSite with its
// hub and its workers (the assistant's Run loop among them) running, served on
// loopback, a citizen in the web chat and an operator in the console, each in
// a real headless Chromium. The assistant answers from the demo knowledge
// base, hands the conversation off to the team of its topic when asked for a
// person, falls silent while the operator answers, and answers again once the
// operator hands the conversation back.

import (
	"context"
	"crypto/rand"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/browsertest"
	"github.com/dialogo-pa/dialogo/internal/testdb"
	"github.com/dialogo-pa/dialogo/knowledge"
	kbdemo "github.com/dialogo-pa/dialogo/knowledge/demo"
	"github.com/dialogo-pa/dialogo/web/static"
)

// assistantE2E is a running Dialogo, workers included, with an ente whose
// virtual assistant answers first: the URP (the first team, where new
// conversations start) and the Anagrafe, with their topics, the demo
// knowledge base, and an operator in both teams.
type assistantE2E struct {
	*e2eSite
	pool     *pgxpool.Pool
	anagrafe crm.Team
}

// asstOfficeHours is what the citizen is told when nobody is on duty.
const asstOfficeHours = "dal lunedì al venerdì, 8:30-16:30"

// startAssistantE2E builds the site as `dialogo serve` does: newSite, the hub
// and every worker of the site (the dispatcher, the assistant, the
// re-embedder) running until the test ends, and the handler on loopback.
func startAssistantE2E(t *testing.T) *assistantE2E {
	t.Helper()
	if static.BootstrapItaliaVersion() == "" {
		t.Skip("web/static/vendor is empty: run make assets")
	}
	logs := &e2eLog{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the site's log:\n%s", logs)
		}
	})
	env := testEnv(t, nil)
	env.stdout, env.stderr = logs, logs
	env.log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := httptest.NewUnstartedServer(nil)
	env.cfg.PublicURL = "http://" + ts.Listener.Addr().String()
	pool := testdb.New(t) // the package's: never closed here
	db := &database{pool: pool, url: testdb.URL(t)}
	st, err := newSite(t.Context(), env, db, prometheus.NewRegistry())
	require.NoError(t, err)
	require.NotEmpty(t, st.workers, "the site has its workers")

	// The hub first, then the workers, as serve runs them; stopped in the
	// reverse order.
	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan error, 1)
	go func() { hubDone <- st.hub.Run(hubCtx) }()
	t.Cleanup(func() { stopHub(); <-hubDone })
	select {
	case <-st.hub.Ready():
	case <-time.After(15 * time.Second):
		t.Fatal("the hub did not start listening")
	}
	workCtx, stopWorkers := context.WithCancel(context.Background())
	workersDone := make(chan error, len(st.workers))
	for _, w := range st.workers {
		go func() { workersDone <- w(workCtx) }()
	}
	t.Cleanup(func() {
		stopWorkers()
		for range st.workers {
			if err := <-workersDone; err != nil {
				t.Errorf("a worker of the site stopped with: %v", err)
			}
		}
	})
	ts.Config.Handler = st.handler
	ts.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := st.chat.Shutdown(ctx); err != nil {
			t.Errorf("closing the web chats: %v", err)
		}
		ts.Close()
	})

	s := &assistantE2E{e2eSite: &e2eSite{t: t, url: env.cfg.PublicURL, store: crm.NewStore(pool)}, pool: pool}
	ctx := t.Context()
	slug := "e2e-asst-" + strings.ToLower(rand.Text()[:10])
	s.tenant, err = s.store.EnsureTenant(ctx, slug, "Comune di Prova", "01199250158")
	require.NoError(t, err)
	admin := crm.SystemActor(s.tenant.ID)
	require.NoError(t, s.store.SetAssistantSettings(ctx, admin, crm.AssistantSettings{Enabled: true,
		OfficeHours: asstOfficeHours, Alternatives: "telefono 02 0202, sportello in via Larga 12"}))
	s.team, err = s.store.EnsureTeam(ctx, s.tenant.ID, "urp", "Ufficio Relazioni con il Pubblico")
	require.NoError(t, err)
	s.anagrafe, err = s.store.EnsureTeam(ctx, s.tenant.ID, "anagrafe", "Anagrafe")
	require.NoError(t, err)
	require.NoError(t, s.store.SetTeamTopics(ctx, admin, s.team.ID, []string{"tari", "rifiuti ingombranti"}))
	require.NoError(t, s.store.SetTeamTopics(ctx, admin, s.anagrafe.ID, []string{"carta d'identità", "residenza", "certificato"}))
	s.operator = s.newStaff("Olga Operatrice", crm.RoleOperator) // in the URP
	require.NoError(t, s.store.AddTeamMember(ctx, s.tenant.ID, s.anagrafe.ID, s.operator.ID))
	// The site's embedder is the local one (no DIALOGO_EMBEDDINGS_* here).
	_, err = knowledge.IngestFS(ctx, pool, knowledge.LocalEmbedder{}, s.tenant.ID, kbdemo.FS)
	require.NoError(t, err)
	return s
}

// assistantMessages returns what the assistant told the citizen, as stored.
func (s *assistantE2E) assistantMessages(t *testing.T, convID int64) []crm.Message {
	t.Helper()
	var out []crm.Message
	for _, m := range s.conversation(t, convID).Messages {
		if m.AuthorKind == crm.AuthorAssistant && !m.Private {
			out = append(out, m)
		}
	}
	return out
}

func (s *assistantE2E) answers(t *testing.T, convID int64) []crm.AssistantAnswer {
	t.Helper()
	as, err := s.store.AssistantAnswers(t.Context(), crm.SystemActor(s.tenant.ID), crm.AnswerQuery{ConversationID: convID})
	require.NoError(t, err)
	return as // newest first
}

// asstChatBubbles is the number of the assistant's messages in the chat.
const asstChatBubbles = `document.querySelectorAll('#dlg-log .dlg-msg[data-author="assistant"]').length`

// asstBubble is the JavaScript for the chat's n-th (from 0) message of the assistant.
func asstBubble(n int) string {
	return fmt.Sprintf(`document.querySelectorAll('#dlg-log .dlg-msg[data-author="assistant"]')[%d]`, n)
}

// asstSeqAuthors keeps the sequence numbers and the authors of messages: the
// chat shows the assistant's quotations as blocks, not as the "> " lines the
// database holds.
func asstSeqAuthors(msgs []e2eMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = fmt.Sprintf("%d %s", m.Seq, m.Author)
	}
	return out
}

func TestAssistantAnswersThenHandsOffToTheOperatorEndToEnd(t *testing.T) {
	start := time.Now()
	s := startAssistantE2E(t)
	ctx := t.Context()
	b := browsertest.Start(t, browsertest.WindowSize(1280, 900), browsertest.Timeout(150*time.Second))
	citizen, operator := b.NewUser(t), b.NewUser(t)
	citizenErrs := browsertest.WatchErrors(citizen, t)
	operatorErrs := browsertest.WatchErrors(operator, t)

	// The operator signs in, makes themself available and watches the
	// Anagrafe's queue: somebody is on duty there.
	s.signIn(t, operator, s.operator)
	av, err := s.store.StaffAvailability(ctx, s.tenant.ID, s.operator.ID)
	require.NoError(t, err)
	require.Equal(t, crm.Away, av, "an operator starts away")
	e2eClick(t, operator, `form.dlg-availability button[role="switch"]`)
	e2eWait(t, operator, `document.querySelector('form.dlg-availability button[role="switch"]').getAttribute('aria-checked') === 'true'`)
	av, err = s.store.StaffAvailability(ctx, s.tenant.ID, s.operator.ID)
	require.NoError(t, err)
	require.Equal(t, crm.Available, av)
	anagrafeTab := "team-" + strconv.FormatInt(s.anagrafe.ID, 10)
	e2eClick(t, operator, `.dlg-tabs a[href*="tab=`+anagrafeTab+`"]`)
	e2eWait(t, operator, `new URLSearchParams(location.search).get("tab") === "`+anagrafeTab+`" && document.querySelector("#dlg-inbox-list .dlg-empty") !== null`)
	s.waitOnline(t, s.operator)

	// 1. The citizen opens the chat: the assistant answers first, and a person
	// is one button away.
	e2eDo(t, citizen, chromedp.Navigate(s.chatURL()))
	e2eWait(t, citizen, e2eConnected)
	e2eWait(t, citizen, `!document.getElementById('dlg-operator').hidden && !document.getElementById('dlg-operator').disabled`)
	require.Equal(t, "Parla con un operatore", e2eEval[string](t, citizen, `document.getElementById('dlg-operator').textContent.trim()`))
	e2eDo(t, citizen, chromedp.Evaluate[chromedp.Void](`window.e2eNoReload = true`))

	question := "Quanto costa la carta d'identità elettronica?"
	e2eDo(t, citizen,
		chromedp.SendKeys(chromedp.CSS("#dlg-input"), question),
		chromedp.Click(chromedp.CSS(`#dlg-form button[type="submit"]`)),
	)
	e2eWait(t, citizen, `document.querySelector('.dlg-msg--out[data-delivery="sent"]') !== null`)
	convID := int64(e2eEval[float64](t, citizen, `Number(localStorage.getItem(`+e2eJS(s.storageKey("conversation"))+`))`))
	require.NotZero(t, convID, "the widget keeps its conversation")
	conv := s.conversation(t, convID)
	require.Equal(t, crm.ChannelWebchat, conv.Channel)
	require.Equal(t, s.team.ID, *conv.TeamID, "a new conversation starts in the ente's first team")

	// The assistant's answer comes, live: the page it quotes, the quotation,
	// its source with a link, and the buttons to rate it.
	e2eWait(t, citizen, asstChatBubbles+` === 1`)
	answer := asstBubble(0)
	answerText := e2eEval[string](t, citizen, e2eText+`(`+answer+`.querySelector('.dlg-msg__text'))`)
	require.Contains(t, answerText, "Ecco cosa dice la pagina «Carta d'identità elettronica (CIE)")
	require.Contains(t, answerText, "Fonte: Carta d'identità elettronica (CIE)")
	require.Equal(t, "Assistente virtuale", e2eEval[string](t, citizen, answer+`.querySelector('.dlg-msg__author').textContent`))
	require.True(t, e2eEval[bool](t, citizen, answer+`.querySelector('blockquote.dlg-quote') !== null`), "the passage is shown as a quotation")
	sourceURL := s.url + "/chat/" + s.tenant.Slug + "/fonti/cie.md"
	links := e2eEval[[]string](t, citizen, `[...`+answer+`.querySelectorAll('.dlg-msg__text a[href]')].map(a => a.href)`)
	require.Contains(t, links, sourceURL, "the source is a link to the page the assistant read")
	res, err := http.Get(sourceURL)
	require.NoError(t, err)
	page, err := io.ReadAll(res.Body)
	require.NoError(t, res.Body.Close())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "the source's link leads to its page")
	require.Contains(t, html.UnescapeString(string(page)), "Carta d'identità elettronica (CIE)")

	answerSeq := int64(e2eEval[float64](t, citizen, `Number(`+answer+`.dataset.seq)`))
	feedback := fmt.Sprintf(`%s.querySelector('.dlg-feedback[data-seq="%d"]')`, answer, answerSeq)
	e2eWait(t, citizen, feedback+` !== null && [...`+feedback+`.querySelectorAll('button')].every(b => !b.disabled)`)
	require.Equal(t, []string{"Utile", "Non utile"}, e2eEval[[]string](t, citizen, `[...`+feedback+`.querySelectorAll('button')].map(b => b.title)`))
	require.Equal(t, "Ti è stata utile?", e2eEval[string](t, citizen, feedback+`.querySelector('.dlg-feedback__question').textContent`))

	stored := s.assistantMessages(t, convID)
	require.Len(t, stored, 1)
	require.Equal(t, answerSeq, stored[0].Seq)
	as := s.answers(t, convID)
	require.Len(t, as, 1)
	require.Equal(t, crm.AnswerKnowledge, as[0].Kind)
	require.Equal(t, answerSeq, as[0].Seq)
	require.Equal(t, question, as[0].Question)
	require.Zero(t, as[0].Feedback, "no rating yet")
	var cited []string
	for _, p := range as[0].Retrieved {
		if p.Cited {
			cited = append(cited, p.Source)
		}
	}
	require.Equal(t, []string{"cie.md"}, cited)
	require.Equal(t, crm.StatusAssistant, s.conversation(t, convID).Status, "the assistant keeps the conversation it answered")
	e2eWait(t, citizen, `document.getElementById('dlg-conv-status').textContent.startsWith("Stai parlando con l'assistente virtuale")`)
	require.Equal(t, asstSeqAuthors(s.storedMessages(t, convID, true)), asstSeqAuthors(e2eEval[[]e2eMessage](t, citizen, e2eChatLog)))
	browsertest.Axe(citizen, t)
	e2eScreenshot(t, citizen, "chat-assistant-answer")

	// "Non utile": the rating is stored, and the citizen is told.
	e2eDo(t, citizen, chromedp.Evaluate[chromedp.Void](feedback+`.querySelector('button[data-useful="false"]').click()`))
	e2eWait(t, citizen, `document.getElementById('dlg-announce').textContent === "Grazie, la tua valutazione è stata registrata."`)
	require.Equal(t, []string{"false", "true"}, e2eEval[[]string](t, citizen, `[...`+feedback+`.querySelectorAll('button')].map(b => b.getAttribute('aria-pressed'))`))
	var rating *int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT feedback FROM assistant_answers WHERE tenant_id = $1 AND conversation_id = $2 AND seq = $3`,
		s.tenant.ID, convID, answerSeq).Scan(&rating))
	require.NotNil(t, rating, "the rating is in the database")
	require.Equal(t, -1, *rating)

	// 2. "Parla con un operatore": the assistant hands the conversation off to
	// the team of its topic, the Anagrafe, and tells the citizen their place.
	e2eClick(t, citizen, "#dlg-operator")
	e2eWait(t, citizen, asstChatBubbles+` === 2`)
	handoffText := e2eEval[string](t, citizen, e2eText+`(`+asstBubble(1)+`.querySelector('.dlg-msg__text'))`)
	require.Contains(t, handoffText, "Ti metto in contatto con un operatore (Anagrafe).")
	require.True(t, strings.Contains(handoffText, "Sei al 1° posto in coda") || strings.Contains(handoffText, asstOfficeHours),
		"the handoff tells the place in the queue or the office hours: %q", handoffText)
	require.Contains(t, handoffText, "Sei al 1° posto in coda", "the operator is on duty in the Anagrafe")
	e2eWait(t, citizen, `document.getElementById('dlg-conv-status').textContent === "In attesa di un operatore: sei 1° in coda"`)
	e2eWait(t, citizen, `document.getElementById('dlg-operator').hidden`)
	citizenMsgs := s.storedMessages(t, convID, true)
	require.Equal(t, []string{"citizen", "assistant", "citizen", "assistant"}, authors(citizenMsgs))
	require.Equal(t, "Vorrei parlare con un operatore", citizenMsgs[2].Text, "the request is in the conversation")
	conv = s.conversation(t, convID)
	require.Equal(t, crm.StatusQueued, conv.Status)
	require.NotNil(t, conv.TeamID)
	require.Equal(t, s.anagrafe.ID, *conv.TeamID, "a conversation about the carta d'identità goes to the Anagrafe")
	require.Nil(t, conv.AssigneeID)
	h, err := s.store.ConversationHandoff(ctx, s.tenant.ID, convID)
	require.NoError(t, err)
	require.Equal(t, crm.HandoffRequested, h.Reason)
	require.Contains(t, h.Summary, question)

	// 3. It appears in the Anagrafe's queue, live; the operator opens it and
	// finds the assistant's summary.
	link := fmt.Sprintf(`#dlg-inbox-list a.dlg-inbox-contact[href="/console/conversations/%d"]`, convID)
	e2eWait(t, operator, `document.querySelector(`+e2eJS(link)+`) !== null`)
	e2eClick(t, operator, link)
	convPath := "/console/conversations/" + strconv.FormatInt(convID, 10)
	e2eWait(t, operator, `location.pathname === `+e2eJS(convPath)+` && document.getElementById("dlg-reply-text") !== null`)
	e2eWait(t, operator, `document.getElementById("dlg-handoff") !== null`)
	box := e2eEval[string](t, operator, `document.getElementById("dlg-handoff").textContent.replace(/\s+/g, " ")`)
	for _, want := range []string{"Riepilogo dell'assistente virtuale", "Motivo del passaggio", "richiesta del cittadino",
		question, "Vorrei parlare con un operatore"} {
		require.Contains(t, box, want)
	}
	require.True(t, e2eEval[bool](t, operator, `document.querySelector('#dlg-summary form[action$="/handback"] button') !== null`),
		"a queued conversation can go back to the assistant")
	s.waitOnline(t, s.operator)
	browsertest.Axe(operator, t)
	e2eScreenshot(t, operator, "conversation-handoff")

	// The operator replies: the conversation is theirs, and the citizen reads it.
	reply := "Buongiorno, sono l'operatrice"
	e2eDo(t, operator,
		chromedp.SendKeys(chromedp.CSS("#dlg-reply-text"), reply),
		chromedp.Click(chromedp.CSS(`#dlg-reply button[type="submit"]`)),
	)
	e2eWait(t, operator, `[...document.querySelectorAll("#dlg-log .dlg-msg--out .dlg-msg__text")].some(m => m.textContent === `+e2eJS(reply)+`)`)
	e2eWait(t, citizen, `[...document.querySelectorAll('#dlg-log .dlg-msg[data-author="operator"]')].some(m =>
		`+e2eText+`(m.querySelector('.dlg-msg__text')) === `+e2eJS(reply)+` &&
		m.querySelector('.dlg-msg__author').textContent === 'Olga · Operatore')`)
	e2eWait(t, citizen, `document.getElementById('dlg-conv-status').textContent === 'Un operatore sta seguendo la conversazione'`)
	conv = s.conversation(t, convID)
	require.Equal(t, crm.StatusAssigned, conv.Status)
	require.Equal(t, s.operator.ID, *conv.AssigneeID)

	// The citizen writes again, a question the assistant could answer: it
	// stays silent, as the operator has the conversation.
	before := len(s.assistantMessages(t, convID))
	require.Equal(t, 2, before)
	again := "E quanto costa il duplicato della carta d'identità?"
	e2eDo(t, citizen,
		chromedp.SendKeys(chromedp.CSS("#dlg-input"), again),
		chromedp.Click(chromedp.CSS(`#dlg-form button[type="submit"]`)),
	)
	e2eWait(t, citizen, `document.querySelectorAll('.dlg-msg--out[data-delivery="sent"]').length === 3`)
	e2eWait(t, operator, `[...document.querySelectorAll("#dlg-log .dlg-msg--in .dlg-msg__text")].some(m => m.textContent === `+e2eJS(again)+`)`)
	last := s.storedMessages(t, convID, true)
	require.Equal(t, crm.AuthorCitizen, crm.AuthorKind(last[len(last)-1].Author))
	require.Equal(t, again, last[len(last)-1].Text, "the citizen's message is stored")
	// Nothing is waiting for the assistant in this ente: no worker may claim
	// the conversation, none holds it, and the assistant wrote nothing more.
	turns, err := s.store.ClaimAssistantTurns(ctx, 100, crm.AssistantLease, s.tenant.ID)
	require.NoError(t, err)
	require.Empty(t, turns, "the assistant would answer a conversation an operator has")
	var leased bool
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT assistant_lease IS NOT NULL FROM conversations WHERE tenant_id = $1 AND id = $2`,
		s.tenant.ID, convID).Scan(&leased))
	require.False(t, leased, "a worker of the assistant claimed the operator's conversation")
	require.Len(t, s.assistantMessages(t, convID), before, "the assistant spoke after the operator")
	require.Equal(t, before, int(e2eEval[float64](t, citizen, asstChatBubbles)))
	require.Equal(t, crm.StatusAssigned, s.conversation(t, convID).Status)

	// 4. "Restituisci all'assistente": the conversation is the assistant's
	// again; the summary of the handoff that is over goes.
	e2eClick(t, operator, `#dlg-summary form[action$="/handback"] button[type="submit"]`)
	e2eWait(t, operator, `location.pathname === `+e2eJS(convPath)+` && document.getElementById("dlg-reply-text") !== null &&
		document.querySelector('#dlg-summary form[action$="/handback"]') === null`)
	e2eWait(t, operator, `document.body.textContent.includes("Conversazione restituita all'assistente virtuale.")`)
	require.True(t, e2eEval[bool](t, operator, `document.getElementById("dlg-handoff") === null`), "the summary of a handoff that is over is gone")
	conv = s.conversation(t, convID)
	require.Equal(t, crm.StatusAssistant, conv.Status)
	require.Nil(t, conv.AssigneeID)
	e2eWait(t, citizen, `document.getElementById('dlg-conv-status').textContent.startsWith("Stai parlando con l'assistente virtuale")`)
	e2eWait(t, citizen, `!document.getElementById('dlg-operator').hidden && !document.getElementById('dlg-operator').disabled`)
	require.Len(t, s.assistantMessages(t, convID), before, "the assistant does not answer what was written to the operator")

	// The citizen asks something else: the assistant answers it, and only it.
	residenza := "Come si cambia la residenza?"
	e2eDo(t, citizen,
		chromedp.SendKeys(chromedp.CSS("#dlg-input"), residenza),
		chromedp.Click(chromedp.CSS(`#dlg-form button[type="submit"]`)),
	)
	e2eWait(t, citizen, asstChatBubbles+` === 3`)
	newAnswer := e2eEval[string](t, citizen, e2eText+`(`+asstBubble(2)+`.querySelector('.dlg-msg__text'))`)
	require.Contains(t, newAnswer, "Ecco cosa dice la pagina «Cambio di residenza")
	require.Contains(t, newAnswer, "Fonte: Cambio di residenza")
	require.True(t, e2eEval[bool](t, citizen, asstBubble(2)+`.querySelector('.dlg-feedback button') !== null`), "the new answer can be rated")
	as = s.answers(t, convID)
	require.Len(t, as, 3, "the answer, the handoff and the new answer")
	require.Equal(t, crm.AnswerKnowledge, as[0].Kind)
	require.Equal(t, residenza, as[0].Question, "the assistant answers the new question, not what the operator had")
	require.Equal(t, -1, as[len(as)-1].Feedback, "the first answer keeps its rating")
	require.Equal(t, crm.StatusAssistant, s.conversation(t, convID).Status)
	require.Equal(t, asstSeqAuthors(s.storedMessages(t, convID, true)), asstSeqAuthors(e2eEval[[]e2eMessage](t, citizen, e2eChatLog)))
	require.Equal(t, []string{"citizen", "assistant", "citizen", "assistant", "operator", "citizen", "citizen", "assistant"},
		authors(s.storedMessages(t, convID, true)))
	require.True(t, e2eEval[bool](t, citizen, `window.e2eNoReload === true`), "the chat was reloaded")
	browsertest.Axe(citizen, t)
	e2eScreenshot(t, citizen, "chat-assistant-again")

	citizenErrs.Check(t)
	operatorErrs.Check(t)
	t.Logf("the assistant answered, handed off, fell silent and answered again in %v", time.Since(start).Round(time.Millisecond))
}
