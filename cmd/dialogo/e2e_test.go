package main

// End-to-end tests of the real site: newSite on the package's test database,
// its hub listening, served on loopback, driven by people in a real headless
// Chromium — a citizen in the web chat (/chat/{ente}) and an operator in the
// console (/console) — and, for the SPID/CIE login, the fake OpenID provider.
// Nothing is faked between the two browsers: what one does reaches the other
// through the websockets, the database and LISTEN/NOTIFY.
//
// DIALOGO_SCREENSHOTS=<folder> saves what the pages looked like.

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/channels/webchat"
	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/browsertest"
	"github.com/dialogo-pa/dialogo/internal/testdb"
	"github.com/dialogo-pa/dialogo/web/citizenauth/oidctest"
	"github.com/dialogo-pa/dialogo/web/static"
)

// e2ePassword is the password of the ente's staff.
const e2ePassword = "una password lunga abbastanza"

// e2eSite is a running Dialogo with an ente of the test's own: one team, an
// operator and a supervisor in it.
type e2eSite struct {
	t     *testing.T
	url   string
	store *crm.Store

	tenant     crm.Tenant
	team       crm.Team
	operator   crm.Staff
	supervisor crm.Staff
}

// startE2E builds the site as `dialogo serve` does (newSite, the hub running)
// and serves it on loopback; with idp, the citizen login goes to that
// provider. The site's log is shown when the test fails.
func startE2E(t *testing.T, idp *oidctest.Provider) *e2eSite {
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

	// The address first: the site needs its public URL (the OIDC redirect).
	ts := httptest.NewUnstartedServer(nil)
	env.cfg.PublicURL = "http://" + ts.Listener.Addr().String()
	if idp != nil {
		env.cfg.OIDCIssuer = idp.URL
		env.cfg.OIDCClientID = idp.ClientID
		env.cfg.OIDCClientSecret = idp.ClientSecret
		env.cfg.SecretKey = []byte(rand.Text() + rand.Text())
	}
	db := &database{pool: testdb.New(t), url: testdb.URL(t)} // the package's: never closed here
	st, err := newSite(t.Context(), env, db, prometheus.NewRegistry())
	require.NoError(t, err)

	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan error, 1)
	go func() { hubDone <- st.hub.Run(hubCtx) }()
	t.Cleanup(func() { stopHub(); <-hubDone })
	select {
	case <-st.hub.Ready():
	case <-time.After(15 * time.Second):
		t.Fatal("the hub did not start listening")
	}
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

	s := &e2eSite{t: t, url: env.cfg.PublicURL, store: crm.NewStore(db.pool)}
	ctx := t.Context()
	slug := "e2e-" + strings.ToLower(rand.Text()[:10])
	s.tenant, err = s.store.EnsureTenant(ctx, slug, "Comune di Prova", "01199250158")
	require.NoError(t, err)
	s.team, err = s.store.EnsureTeam(ctx, s.tenant.ID, "urp", "Ufficio Relazioni con il Pubblico")
	require.NoError(t, err)
	s.operator = s.newStaff("Olga Operatrice", crm.RoleOperator)
	s.supervisor = s.newStaff("Sergio Supervisore", crm.RoleSupervisor)
	return s
}

func (s *e2eSite) newStaff(name string, role crm.Role) crm.Staff {
	s.t.Helper()
	st, err := s.store.EnsureStaff(s.t.Context(), s.tenant.ID, crm.StaffInput{
		Email: string(role) + "." + s.tenant.Slug + "@example.org", Name: name, Roles: []crm.Role{role}, Password: e2ePassword,
	})
	require.NoError(s.t, err)
	require.NoError(s.t, s.store.AddTeamMember(s.t.Context(), s.tenant.ID, s.team.ID, st.ID))
	return st
}

// chatURL is the ente's chat page, in Italian.
func (s *e2eSite) chatURL() string { return s.url + "/chat/" + s.tenant.Slug + "?lang=it" }

// storageKey is the key of the widget's localStorage entry name.
func (s *e2eSite) storageKey(name string) string { return "dialogo:" + s.tenant.Slug + ":" + name }

// signIn fills in the console's login form as a person would.
func (s *e2eSite) signIn(t *testing.T, ctx context.Context, st crm.Staff) {
	t.Helper()
	e2eDo(t, ctx,
		chromedp.Navigate(s.url+"/console/login?lang=it"),
		chromedp.WaitVisible(chromedp.CSS("#dlg-email")),
		chromedp.SendKeys(chromedp.CSS("#dlg-email"), st.Email),
		chromedp.SendKeys(chromedp.CSS("#dlg-password"), e2ePassword),
		chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type="submit"]`)),
	)
	e2eWait(t, ctx, `location.pathname === "/console" && document.getElementById("dlg-inbox-list") !== null`)
}

// waitOnline waits until the staff member's console has its live connection.
func (s *e2eSite) waitOnline(t *testing.T, st crm.Staff) {
	t.Helper()
	require.Eventually(t, func() bool {
		list, err := s.store.OnlineStaff(t.Context(), s.tenant.ID)
		require.NoError(t, err)
		return slices.ContainsFunc(list, func(p crm.StaffPresence) bool { return p.StaffID == st.ID })
	}, 15*time.Second, 20*time.Millisecond, "%s's console never connected", st.Name)
}

func (s *e2eSite) conversation(t *testing.T, id int64) crm.Conversation {
	t.Helper()
	c, err := s.store.Conversation(t.Context(), s.tenant.ID, id)
	require.NoError(t, err)
	return c
}

// e2eConnected is true once the chat has its connection (the attach button
// waits for the visitor token of the welcome).
const e2eConnected = `!document.getElementById('dlg-attach').disabled`

// e2eWait polls a JavaScript expression in the page until it is truthy. A
// navigation ends a poll: it starts again in the new page.
func e2eWait(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	const timeout = 15 * time.Second
	deadline := time.Now().Add(timeout)
	for {
		err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](expr,
			chromedp.WithPollingTimeout(time.Until(deadline)), chromedp.WithPollingInterval(20*time.Millisecond)))
		if err == nil {
			return
		}
		// A poll ended by a navigation fails with the page's execution
		// context ("Execution context was destroyed", "Inspected target
		// navigated or closed"); the timeout, or the tab's end, fails the test.
		if time.Now().After(deadline) || errors.Is(err, chromedp.ErrPollingTimeout) || ctx.Err() != nil {
			t.Fatalf("waiting for %s: %v", expr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// e2eClick clicks an element of a part of the console that live updates
// replace at any moment (the inbox list, the head of a conversation): found
// and clicked in one step, as a node found first may be gone when clicked.
func e2eClick(t *testing.T, ctx context.Context, selector string) {
	t.Helper()
	e2eWait(t, ctx, `document.querySelector(`+e2eJS(selector)+`) !== null`)
	e2eDo(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector(`+e2eJS(selector)+`).click()`))
}

func e2eDo(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, actions...))
}

func e2eEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// e2eJS quotes s as a JavaScript string.
func e2eJS(s string) string { return strconv.Quote(s) }

// e2eScreenshot saves the page when DIALOGO_SCREENSHOTS names a folder.
func e2eScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if dir := os.Getenv("DIALOGO_SCREENSHOTS"); dir != "" {
		browsertest.Screenshot(ctx, t, filepath.Join(dir, "e2e-"+name+".png"))
	}
}

// e2eMessage is a message as a page shows it, or as the database holds it.
type e2eMessage struct {
	Seq    int64  `json:"seq"`
	Author string `json:"author"` // citizen, operator, system
	Text   string `json:"text"`
}

func (m e2eMessage) String() string { return fmt.Sprintf("%d %s %q", m.Seq, m.Author, m.Text) }

// e2eText is a JavaScript function that returns the text of an element as
// it reads, without what only screen readers get (a link's "opens in a new
// window").
const e2eText = `(el => { const c = el.cloneNode(true); c.querySelectorAll('.visually-hidden').forEach(h => h.remove()); return c.textContent; })`

// e2eChatLog reads the citizen's chat: every message element, with its
// sequence number (0 for one that the server has not stored).
const e2eChatLog = `[...document.querySelectorAll('#dlg-log .dlg-msg')].map(m => ({
	seq: Number(m.dataset.seq || 0),
	author: m.dataset.author || 'system',
	text: ` + e2eText + `(m.querySelector('.dlg-msg__text') || m),
}))`

// e2eConsoleLog reads the console's history of conversation %d: its messages,
// notes and activity lines.
const e2eConsoleLog = `[...document.querySelectorAll('#dlg-log .dlg-msg, #dlg-log .dlg-activity')]
	.filter(m => m.dataset.conv === "%d")
	.map(m => ({
		seq: Number(m.dataset.seq || 0),
		author: m.classList.contains('dlg-activity') ? 'system'
			: m.classList.contains('dlg-msg--in') ? 'citizen' : 'operator',
		text: m.classList.contains('dlg-activity') ? m.firstChild.textContent.replace(/\s*·\s*$/, '')
			: m.querySelector('.dlg-msg__text').textContent,
	}))`

// storedMessages returns the conversation's messages as the database holds
// them: all of them for staff, or only those the citizen may see.
func (s *e2eSite) storedMessages(t *testing.T, convID int64, forCitizen bool) []e2eMessage {
	t.Helper()
	var out []e2eMessage
	for _, m := range s.conversation(t, convID).Messages {
		if forCitizen && m.Private {
			continue
		}
		out = append(out, e2eMessage{Seq: m.Seq, Author: string(m.AuthorKind), Text: m.Text})
	}
	return out
}

// requireSameMessages checks that a page shows the stored messages, each once,
// in order.
func requireSameMessages(t *testing.T, who string, stored, shown []e2eMessage) {
	t.Helper()
	seqs := map[int64]int{}
	for _, m := range shown {
		seqs[m.Seq]++
	}
	for seq, n := range seqs {
		require.Equal(t, 1, n, "%s shows message %d %d times:\n%v", who, seq, n, shown)
	}
	require.Equal(t, stored, shown, "%s shows other messages than the database holds", who)
}

func TestE2ECitizenAndOperatorChatLive(t *testing.T) {
	start := time.Now()
	s := startE2E(t, nil)
	b := browsertest.Start(t, browsertest.WindowSize(1280, 900), browsertest.Timeout(90*time.Second))
	citizen, operator := b.NewUser(t), b.NewUser(t)
	citizenErrs := browsertest.WatchErrors(citizen, t)
	operatorErrs := browsertest.WatchErrors(operator, t)

	// The citizen opens the Comune's chat.
	e2eDo(t, citizen, chromedp.Navigate(s.chatURL()))
	e2eWait(t, citizen, e2eConnected)
	browsertest.Axe(citizen, t)
	// Whatever the citizen sees until the reload comes live: this mark would go.
	e2eDo(t, citizen, chromedp.Evaluate[chromedp.Void](`window.e2eNoReload = true`))

	// The operator signs in and watches the team's queue.
	e2eDo(t, operator, chromedp.Navigate(s.url+"/console/login?lang=it"), chromedp.WaitVisible(chromedp.CSS("#dlg-email")))
	browsertest.Axe(operator, t)
	s.signIn(t, operator, s.operator)
	teamTab := "team-" + strconv.FormatInt(s.team.ID, 10)
	e2eDo(t, operator, chromedp.Click(chromedp.CSS(`.dlg-tabs a[href*="tab=`+teamTab+`"]`)))
	e2eWait(t, operator, `new URLSearchParams(location.search).get("tab") === "`+teamTab+`" && document.querySelector("#dlg-inbox-list .dlg-empty") !== null`)
	s.waitOnline(t, s.operator)
	// Whatever appears from now on comes without a reload: this mark would go.
	e2eDo(t, operator, chromedp.Evaluate[chromedp.Void](`window.e2eNoReload = true`))

	// The citizen writes.
	question := "Buongiorno, vorrei informazioni sulla TARI"
	e2eDo(t, citizen,
		chromedp.SendKeys(chromedp.CSS("#dlg-input"), question),
		chromedp.Click(chromedp.CSS(`#dlg-form button[type="submit"]`)),
	)
	e2eWait(t, citizen, `document.querySelector('.dlg-msg--out[data-delivery="sent"]') !== null`)
	convID := int64(e2eEval[float64](t, citizen, `Number(localStorage.getItem(`+e2eJS(s.storageKey("conversation"))+`))`))
	require.NotZero(t, convID, "the widget keeps its conversation")
	conv := s.conversation(t, convID)
	require.Equal(t, crm.ChannelWebchat, conv.Channel)
	require.Equal(t, crm.StatusQueued, conv.Status, "a new conversation goes to the team's queue")
	require.Equal(t, s.team.ID, *conv.TeamID)
	e2eWait(t, citizen, `document.getElementById('dlg-conv-status').textContent.startsWith('In attesa di un operatore')`)

	// It appears in the operator's queue, live.
	link := fmt.Sprintf(`#dlg-inbox-list a.dlg-inbox-contact[href="/console/conversations/%d"]`, convID)
	e2eWait(t, operator, `document.querySelector(`+e2eJS(link)+`) !== null && document.getElementById("dlg-inbox-list").textContent.includes(`+e2eJS(question)+`)`)
	e2eWait(t, operator, `document.querySelector('[data-count="`+teamTab+`"]').textContent.trim() === "1"`)
	require.True(t, e2eEval[bool](t, operator, `window.e2eNoReload === true`), "the inbox was reloaded")
	browsertest.Axe(operator, t)
	e2eScreenshot(t, operator, "inbox-live")

	// The operator opens it and takes it.
	e2eClick(t, operator, link)
	e2eWait(t, operator, `location.pathname === "/console/conversations/`+strconv.FormatInt(convID, 10)+`" && document.getElementById("dlg-reply-text") !== null`)
	e2eWait(t, operator, `document.getElementById("dlg-log").textContent.includes(`+e2eJS(question)+`)`)
	s.waitOnline(t, s.operator)
	e2eDo(t, operator, chromedp.Evaluate[chromedp.Void](`window.e2eNoReload = true`))
	require.Equal(t, "Prendi in carico", e2eEval[string](t, operator, `document.querySelector('#dlg-summary form[action$="/take"] button').textContent.trim()`))
	// The head of the conversation is swapped by live refreshes too.
	e2eClick(t, operator, `#dlg-summary form[action$="/take"] button`)
	e2eWait(t, operator, `document.getElementById("dlg-summary").textContent.includes("Olga Operatrice (tu)")`)
	e2eWait(t, operator, `document.getElementById("dlg-compact-list").textContent.includes(`+e2eJS(question)+`)`)
	conv = s.conversation(t, convID)
	require.Equal(t, crm.StatusAssigned, conv.Status)
	require.Equal(t, s.operator.ID, *conv.AssigneeID)
	// The citizen is told, live.
	e2eWait(t, citizen, `document.getElementById('dlg-conv-status').textContent === 'Un operatore sta seguendo la conversazione'`)

	// The operator writes a reply: the citizen sees them typing, then the
	// reply, signed with their first name.
	reply := "Buongiorno! La TARI si paga con l'avviso pagoPA: trova tutto su https://www.comune.example.it/tari"
	e2eDo(t, operator, chromedp.SendKeys(chromedp.CSS("#dlg-reply-text"), reply))
	e2eWait(t, citizen, `document.getElementById('dlg-typing').textContent === 'Olga sta scrivendo…'`)
	e2eScreenshot(t, citizen, "chat-operator-typing")
	e2eDo(t, operator, chromedp.Click(chromedp.CSS(`#dlg-reply button[type="submit"]`)))
	e2eWait(t, operator, `document.getElementById("dlg-reply-text").value === ""`)
	e2eWait(t, operator, `[...document.querySelectorAll("#dlg-log .dlg-msg--out .dlg-msg__text")].some(m => m.textContent === `+e2eJS(reply)+`)`)
	e2eWait(t, citizen, `[...document.querySelectorAll('#dlg-log .dlg-msg--in')].some(m =>
		`+e2eText+`(m.querySelector('.dlg-msg__text')) === `+e2eJS(reply)+` &&
		m.querySelector('.dlg-msg__author').textContent === 'Olga · Operatore')`)
	e2eWait(t, citizen, `document.getElementById('dlg-typing').textContent === ''`)
	// The citizen's browser acknowledges and reads it: the operator's ticks follow.
	e2eWait(t, operator, `document.querySelector("#dlg-log .dlg-msg--out .dlg-ticks--read") !== null`)

	// The citizen types: the operator sees it; then the citizen's answer
	// arrives, live.
	answer := "Grazie! E se l'avviso non mi è arrivato?"
	e2eDo(t, citizen, chromedp.SendKeys(chromedp.CSS("#dlg-input"), answer))
	e2eWait(t, operator, `document.getElementById("dlg-typing").textContent === "Il cittadino sta scrivendo…"`)
	e2eScreenshot(t, operator, "conversation-citizen-typing")
	e2eDo(t, citizen, chromedp.Click(chromedp.CSS(`#dlg-form button[type="submit"]`)))
	e2eWait(t, operator, `[...document.querySelectorAll("#dlg-log .dlg-msg--in .dlg-msg__text")].some(m => m.textContent === `+e2eJS(answer)+`)`)
	e2eWait(t, operator, `document.getElementById("dlg-typing").textContent === ""`)
	e2eWait(t, citizen, `document.querySelectorAll('.dlg-msg--out[data-delivery="sent"]').length === 2`)
	require.True(t, e2eEval[bool](t, operator, `window.e2eNoReload === true`), "the conversation was reloaded")
	require.True(t, e2eEval[bool](t, citizen, `window.e2eNoReload === true`), "the chat was reloaded")

	// What each side shows live is what the database holds.
	forCitizen, forStaff := s.storedMessages(t, convID, true), s.storedMessages(t, convID, false)
	require.Equal(t, []e2eMessage{{1, "citizen", question}}, forCitizen[:1])
	require.Equal(t, []string{"citizen", "operator", "citizen"}, authors(forCitizen))
	requireSameMessages(t, "the chat", forCitizen, e2eEval[[]e2eMessage](t, citizen, e2eChatLog))
	requireSameMessages(t, "the console", forStaff, e2eEval[[]e2eMessage](t, operator, fmt.Sprintf(e2eConsoleLog, convID)))
	browsertest.Axe(citizen, t)
	browsertest.Axe(operator, t)
	e2eScreenshot(t, citizen, "chat-conversation")
	e2eScreenshot(t, operator, "conversation")

	// Both reload their pages: the whole conversation, each message once.
	e2eDo(t, citizen, chromedp.Reload())
	e2eWait(t, citizen, e2eConnected)
	e2eWait(t, citizen, fmt.Sprintf(`document.querySelectorAll('#dlg-log .dlg-msg[data-seq]').length >= %d`, len(forCitizen)))
	e2eDo(t, operator, chromedp.Reload())
	e2eWait(t, operator, `document.getElementById("dlg-reply-text") !== null`)
	require.Equal(t, forCitizen, s.storedMessages(t, convID, true), "the reload sent nothing again")
	requireSameMessages(t, "the chat after a reload", forCitizen, e2eEval[[]e2eMessage](t, citizen, e2eChatLog))
	requireSameMessages(t, "the console after a reload", forStaff, e2eEval[[]e2eMessage](t, operator, fmt.Sprintf(e2eConsoleLog, convID)))
	require.Equal(t, "Olga · Operatore", e2eEval[string](t, citizen, `document.querySelector('#dlg-log .dlg-msg--in .dlg-msg__author').textContent`))
	require.Equal(t, "Un operatore sta seguendo la conversazione", e2eEval[string](t, citizen, `document.getElementById('dlg-conv-status').textContent`))
	require.Equal(t, "", e2eEval[string](t, citizen, `document.getElementById('dlg-input').value`), "the sent answer is not left in the box")
	require.Equal(t, "null", e2eEval[string](t, citizen, `String(localStorage.getItem(`+e2eJS(s.storageKey("outbox"))+`))`), "nothing waits to be sent")

	// The conversation goes on after the reloads: the operator answers once
	// more, and both pages, caught up and live again, show it once.
	last := "Se non le è arrivato, può scaricarlo dal portale dei pagamenti del Comune."
	e2eDo(t, operator,
		chromedp.SendKeys(chromedp.CSS("#dlg-reply-text"), last),
		chromedp.Click(chromedp.CSS(`#dlg-reply button[type="submit"]`)),
	)
	e2eWait(t, operator, `[...document.querySelectorAll("#dlg-log .dlg-msg--out .dlg-msg__text")].some(m => m.textContent === `+e2eJS(last)+`)`)
	e2eWait(t, citizen, `[...document.querySelectorAll('#dlg-log .dlg-msg--in .dlg-msg__text')].some(m => m.textContent === `+e2eJS(last)+`)`)
	forCitizen, forStaff = s.storedMessages(t, convID, true), s.storedMessages(t, convID, false)
	require.Equal(t, []string{"citizen", "operator", "citizen", "operator"}, authors(forCitizen))
	requireSameMessages(t, "the chat at the end", forCitizen, e2eEval[[]e2eMessage](t, citizen, e2eChatLog))
	requireSameMessages(t, "the console at the end", forStaff, e2eEval[[]e2eMessage](t, operator, fmt.Sprintf(e2eConsoleLog, convID)))

	citizenErrs.Check(t)
	operatorErrs.Check(t)
	t.Logf("the citizen and the operator chatted, live, in %v", time.Since(start).Round(time.Millisecond))
}

func authors(msgs []e2eMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Author
	}
	return out
}

// e2eCF is the codice fiscale of the fake provider's citizen, Mario Rossi.
const e2eCF = "RSSMRA80A01H501U"

func TestE2ECitizenLogsInWithSPIDAndTheOperatorOpensTheFascicolo(t *testing.T) {
	start := time.Now()
	idp := oidctest.New(t)
	s := startE2E(t, idp)
	ctx := t.Context()

	// The Comune knows Mario Rossi: his fascicolo was imported.
	today := time.Now().UTC().Truncate(24 * time.Hour)
	opened := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	_, err := s.store.ImportFascicolo(ctx, crm.SystemActor(s.tenant.ID), []crm.FascicoloRecord{{
		CodiceFiscale: e2eCF, GivenName: "Mario", FamilyName: "Rossi",
		Pratiche: []crm.Pratica{{
			Reference: "PG-2025-0042", Type: "tributi", Title: "Rimborso TARI 2024", Office: "Tributi", OpenedAt: opened,
			Timeline: []crm.PraticaEvent{{Status: "presentata", OccurredAt: opened}},
		}},
		Avvisi: []crm.Avviso{{
			NoticeNumber: crm.NoticeNumberWithCheck("3", "01", "0000000004242"), CreditorFiscalCode: "01199250158",
			Description: "TARI 2026, prima rata", AmountCents: 12850, DueDate: crm.Date{Time: today.AddDate(0, 0, 30)},
		}},
	}})
	require.NoError(t, err)

	b := browsertest.Start(t, browsertest.WindowSize(1280, 900), browsertest.Timeout(90*time.Second))
	citizen, operator := b.NewUser(t), b.NewUser(t)
	citizenErrs := browsertest.WatchErrors(citizen, t)
	operatorErrs := browsertest.WatchErrors(operator, t)

	// Mario writes without logging in first.
	e2eDo(t, citizen, chromedp.Navigate(s.chatURL()))
	e2eWait(t, citizen, e2eConnected)
	question := "Buongiorno, ho ricevuto l'avviso della TARI ma credo di averla già pagata."
	e2eDo(t, citizen,
		chromedp.SendKeys(chromedp.CSS("#dlg-input"), question),
		chromedp.Click(chromedp.CSS(`#dlg-form button[type="submit"]`)),
	)
	e2eWait(t, citizen, `document.querySelector('.dlg-msg--out[data-delivery="sent"]') !== null`)
	convID := int64(e2eEval[float64](t, citizen, `Number(localStorage.getItem(`+e2eJS(s.storageKey("conversation"))+`))`))
	require.NotZero(t, convID)
	anonymous := s.conversation(t, convID).ContactID
	e2eWait(t, citizen, `!document.getElementById('dlg-login').hidden`)
	require.Equal(t, "Accedi con SPID/CIE", e2eEval[string](t, citizen, `document.getElementById('dlg-login').textContent.trim()`))
	browsertest.Axe(citizen, t)

	// "Accedi con SPID/CIE": to the provider and back, verified.
	e2eDo(t, citizen, chromedp.Click(chromedp.CSS("#dlg-login")))
	e2eWait(t, citizen, `location.pathname === `+e2eJS("/chat/"+s.tenant.Slug)+` && !document.getElementById('dlg-verified').hidden`)
	e2eWait(t, citizen, e2eConnected)
	require.Equal(t, "Identità verificata: Mario Rossi", e2eEval[string](t, citizen, `document.getElementById('dlg-verified').textContent.trim()`))
	require.True(t, e2eEval[bool](t, citizen, `document.getElementById('dlg-login').hidden`))
	require.Equal(t, "", e2eEval[string](t, citizen, `location.hash`), "the outcome does not stay in the address")
	require.Equal(t, "Accesso eseguito con SPID/CIE.", e2eEval[string](t, citizen, `document.getElementById('dlg-announce').textContent`))
	require.Equal(t, s.url+webchat.CallbackPath, idp.LastAuthorization().Get("redirect_uri"))
	require.Equal(t, "S256", idp.LastAuthorization().Get("code_challenge_method"))
	// The same conversation goes on, now with the citizen Mario Rossi.
	e2eWait(t, citizen, `document.querySelectorAll('#dlg-log .dlg-msg[data-seq]').length === 1`)
	requireSameMessages(t, "the chat after the login", s.storedMessages(t, convID, true), e2eEval[[]e2eMessage](t, citizen, e2eChatLog))
	conv := s.conversation(t, convID)
	require.NotEqual(t, anonymous, conv.ContactID, "the visitor joined the citizen already known")
	contact, err := s.store.Contact(ctx, s.tenant.ID, conv.ContactID)
	require.NoError(t, err)
	require.Equal(t, e2eCF, contact.CodiceFiscale)
	browsertest.Axe(citizen, t)
	e2eScreenshot(t, citizen, "chat-verified")

	// The operator finds Mario's conversation, by his name, in the queue.
	s.signIn(t, operator, s.operator)
	e2eDo(t, operator, chromedp.Click(chromedp.CSS(`.dlg-tabs a[href*="tab=unassigned"]`)))
	link := fmt.Sprintf(`#dlg-inbox-list a.dlg-inbox-contact[href="/console/conversations/%d"]`, convID)
	e2eWait(t, operator, `new URLSearchParams(location.search).get("tab") === "unassigned" && document.querySelector(`+e2eJS(link)+`)?.textContent === "Mario Rossi"`)
	e2eClick(t, operator, link)
	e2eWait(t, operator, `document.getElementById("dlg-reply-text") !== null && document.getElementById("dlg-log").textContent.includes(`+e2eJS(question)+`)`)

	// The citizen panel: the codice fiscale, verified by SPID.
	identities := e2eEval[[]string](t, operator, `[...document.querySelectorAll(".dlg-identities li")].map(li => li.textContent.replace(/\s+/g, " ").trim())`)
	var cfIdentity string
	for _, idn := range identities {
		if strings.HasPrefix(idn, "Codice fiscale "+e2eCF) {
			cfIdentity = idn
		}
	}
	require.NotEmpty(t, cfIdentity, "the panel lists the codice fiscale: %q", identities)
	require.Contains(t, cfIdentity, "Codice fiscale "+e2eCF+" Verificata · ")
	require.Contains(t, e2eEval[string](t, operator, `document.querySelector(".dlg-facts").textContent`), e2eCF)
	require.Equal(t, "Mario Rossi", e2eEval[string](t, operator, `document.getElementById("dlg-conv-title").textContent`))
	// The database has the SPID login, and the join of the visitor with the
	// citizen, each with its reason.
	signIns, err := s.store.AuditLog(ctx, s.supervisor.Actor(), crm.AuditQuery{ContactID: conv.ContactID, Action: "contact.sign_in"})
	require.NoError(t, err)
	require.Len(t, signIns, 1)
	require.Equal(t, "Accesso con SPID dalla web chat", signIns[0].Reason)
	require.Equal(t, crm.VerifiedSPID, signIns[0].Detail["verified_by"])
	// The codice fiscale was known from the import before Mario logged in; the
	// panel says that SPID has now proved it, not merely that the ente has it on file.
	require.Contains(t, cfIdentity, "Verificata · SPID", "the identity is the one SPID proved: %q", identities)
	browsertest.Axe(operator, t)
	e2eScreenshot(t, operator, "conversation-verified")

	// The fascicolo opens on request, and the reading is audited.
	audited := func() []crm.AuditEntry {
		list, err := s.store.AuditLog(ctx, s.supervisor.Actor(), crm.AuditQuery{ContactID: conv.ContactID, Action: "fascicolo.read"})
		require.NoError(t, err)
		return list
	}
	require.Empty(t, audited(), "nothing is read before the operator asks")
	e2eDo(t, operator, chromedp.Click(chromedp.CSS("a[data-fascicolo]")), chromedp.WaitVisible(chromedp.CSS("#dlg-fascicolo-body")))
	fascicolo := e2eEval[string](t, operator, `document.getElementById("dlg-fascicolo-body").textContent.replace(/\s+/g, " ")`)
	for _, want := range []string{"Rimborso TARI 2024", "PG-2025-0042", "TARI 2026, prima rata", "128,50"} {
		require.Contains(t, fascicolo, want)
	}
	audit := audited()
	require.Len(t, audit, 1)
	require.Equal(t, s.operator.ID, audit[0].ActorID)
	require.Contains(t, audit[0].Reason, strconv.FormatInt(convID, 10), "the purpose names the conversation")
	browsertest.Axe(operator, t)
	e2eScreenshot(t, operator, "conversation-fascicolo")

	// The supervisor's view, in another browser, is accessible too.
	supervisor := b.NewUser(t)
	supervisorErrs := browsertest.WatchErrors(supervisor, t)
	s.signIn(t, supervisor, s.supervisor)
	e2eDo(t, supervisor, chromedp.Click(chromedp.CSS(`.dlg-sections a[href="/console/supervisor"]`)))
	e2eWait(t, supervisor, `location.pathname === "/console/supervisor" && document.getElementById("dlg-stats") !== null`)
	e2eWait(t, supervisor, `document.getElementById("dlg-stats").textContent.includes("Olga Operatrice")`)
	browsertest.Axe(supervisor, t)
	e2eScreenshot(t, supervisor, "supervisor")

	citizenErrs.Check(t)
	operatorErrs.Check(t)
	supervisorErrs.Check(t)
	t.Logf("the citizen logged in with SPID and the operator read the fascicolo in %v", time.Since(start).Round(time.Millisecond))
}

// e2eLog collects the site's log, which its goroutines write.
type e2eLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *e2eLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *e2eLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
