package console_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/browsertest"
	"github.com/dialogo-pa/dialogo/web/static"
)

// requireVendor skips when Bootstrap Italia was not copied into web/static
// (make assets), without which the pages cannot be looked at.
func requireVendor(t *testing.T) {
	t.Helper()
	if static.BootstrapItaliaVersion() == "" {
		t.Skip("web/static/vendor is empty: run make assets")
	}
}

func screenshot(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	if dir := os.Getenv("DIALOGO_SCREENSHOTS"); dir != "" {
		browsertest.Screenshot(ctx, t, filepath.Join(dir, name))
	}
}

// viewportScreenshot saves what the window shows, with the panes scrolled as
// they are (a full-page screenshot lays the page out again).
func viewportScreenshot(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	dir := os.Getenv("DIALOGO_SCREENSHOTS")
	if dir == "" {
		return
	}
	// Let the compositor paint what scripts changed (a scrolled pane).
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`,
		chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
	t.Logf("screenshot: %s", filepath.Join(dir, name))
}

// signIn fills in the login form as a person would.
func signIn(t *testing.T, ctx context.Context, e *env, st crm.Staff) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(e.url+"/console/login?lang=it"),
		chromedp.WaitVisible(chromedp.CSS("#dlg-email")),
		chromedp.SendKeys(chromedp.CSS("#dlg-email"), st.Email),
		chromedp.SendKeys(chromedp.CSS("#dlg-password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#dlg-inbox-list")),
	))
}

// waitFor polls a JavaScript predicate in the page.
func waitFor(t *testing.T, ctx context.Context, predicate string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate, chromedp.WithPollingTimeout(15*time.Second)))
	require.NoError(t, err, "waiting for %s", predicate)
}

func (e *env) waitOnline(t *testing.T, st crm.Staff) {
	t.Helper()
	require.Eventually(t, func() bool {
		list, err := e.store.OnlineStaff(e.ctx, e.tenant.ID)
		require.NoError(t, err)
		for _, p := range list {
			if p.StaffID == st.ID {
				return true
			}
		}
		return false
	}, 15*time.Second, 50*time.Millisecond, "%s's console never connected", st.Name)
}

func TestConsoleInABrowser(t *testing.T) {
	requireVendor(t)
	e := setup(t)
	cf := codiceFiscale(21)
	e.importCitizen(cf, "Lucia", "Bianchi")
	lucia := verifiedCitizen(cf, "Lucia Bianchi")
	e.ingest(crm.InboundMessage{Channel: crm.ChannelEmail, ExternalID: "mail-" + randomHex(4), From: lucia,
		Subject: "Mensa scolastica", Text: "Buongiorno, vi scrivo per la retta della mensa di ottobre."})
	var err error
	first := e.citizenWrites(lucia, "Salve, ho ricevuto un avviso per la mensa ma credo di averlo già pagato.")
	convID := first.Message.ConversationID
	_, err = e.store.SetTags(e.ctx, e.supervisor().Actor(), convID, []string{"mensa", "pagopa"})
	require.NoError(t, err)
	e.citizenWrites(visitor("Mario Rossi"), "Come rinnovo la carta d'identità?")
	tributi, err := e.store.EnsureTeam(e.ctx, e.tenant.ID, "tributi", "Tributi")
	require.NoError(t, err)
	for _, name := range []string{"Giorgio Esposito", "Sara Romano", "Luca Ferrari"} {
		e.ingest(crm.InboundMessage{Channel: crm.ChannelWebchat, ExternalID: "m-" + randomHex(4), From: visitor(name),
			Text: "Ho una domanda sulla TARI.", TeamID: tributi.ID})
	}
	e.ingest(crm.InboundMessage{Channel: crm.ChannelTelegram, ExternalID: "tg-" + randomHex(4),
		From: crm.IdentityClaim{Kind: crm.IdentityTelegram, ExternalID: strconv.FormatInt(time.Now().UnixNano()%1e9, 10), DisplayName: "Anna Verdi"},
		Text: "Buonasera, a che ora apre l'anagrafe di via Larga?"})

	b := browsertest.Start(t, browsertest.WindowSize(1440, 900))
	ctx := b.NewUser(t)
	errs := browsertest.WatchErrors(ctx, t)

	// The login page.
	// Chromium asks for English; the ente's staff choose Italian, and the
	// choice is remembered.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(e.url+"/console/login?lang=it"), chromedp.WaitVisible(chromedp.CSS("#dlg-email"))))
	font, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => { await document.fonts.ready;
		return getComputedStyle(document.body).fontFamily + "|" + [...document.fonts].some(f => f.family.includes("Titillium") && f.status === "loaded"); })()`,
		chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Contains(t, font, "Titillium Web")
	require.Contains(t, font, "|true", "Bootstrap Italia's font is loaded, from our stylesheet")
	version, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.BOOTSTRAP_ITALIA_VERSION`))
	require.NoError(t, err)
	require.Equal(t, static.BootstrapItaliaVersion(), version)
	browsertest.Axe(ctx, t)
	screenshot(ctx, t, "console-login.png")

	// The inbox.
	signIn(t, ctx, e, e.operator())
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(e.url+"/console?tab=unassigned"),
		chromedp.WaitVisible(chromedp.CSS("#dlg-inbox-list table"))))
	e.waitOnline(t, e.operator())
	// A new citizen writes: the inbox updates itself.
	e.citizenWrites(visitor("Paolo Galli"), "Vorrei prenotare un appuntamento per la carta d'identità.")
	waitFor(t, ctx, `document.getElementById("dlg-inbox-list").textContent.includes("Paolo Galli")`)
	waitFor(t, ctx, `document.querySelector('[data-count="unassigned"]').textContent.trim() === "8"`)
	browsertest.Axe(ctx, t)
	screenshot(ctx, t, "console-inbox.png")

	// The conversation.
	// The list may be swapped by a live refresh at any moment: click in one step.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.querySelector('a.dlg-inbox-contact[href="/console/conversations/`+itoa(convID)+`"]').click()`),
		chromedp.WaitVisible(chromedp.CSS("#dlg-reply-text")),
	))
	waitFor(t, ctx, `document.getElementById("dlg-log").textContent.includes("retta della mensa di ottobre")`)
	e.waitOnline(t, e.operator())

	// Take it, with the script.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action$="/take"] button`))))
	waitFor(t, ctx, `document.getElementById("dlg-summary").textContent.includes("(tu)")`)
	waitFor(t, ctx, `document.getElementById("dlg-compact-list").textContent.includes("Lucia Bianchi")`)
	require.Equal(t, e.operator().ID, *e.conversation(convID).AssigneeID)

	// Reply.
	reply := "Buongiorno Lucia, controllo subito il pagamento."
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#dlg-reply-text"), reply),
		chromedp.Click(chromedp.CSS(`#dlg-reply button[type="submit"]`)),
	))
	waitFor(t, ctx, `document.getElementById("dlg-log").textContent.includes(`+strconv.Quote(reply)+`)`)
	waitFor(t, ctx, `document.getElementById("dlg-reply-text").value === ""`)
	var replies int
	for _, m := range e.conversation(convID).Messages {
		if m.Direction == crm.Outbound && m.Text == reply {
			replies++
		}
	}
	require.Equal(t, 1, replies)

	// A private note.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#dlg-kind-note")),
		chromedp.SendKeys(chromedp.CSS("#dlg-reply-text"), "Verificare con l'ufficio scuola."),
		chromedp.Click(chromedp.CSS(`#dlg-reply button[type="submit"]`)),
	))
	waitFor(t, ctx, `[...document.querySelectorAll("#dlg-log .dlg-msg--note")].some(n => n.textContent.includes("ufficio scuola"))`)

	// The citizen types, then writes: the console shows both live.
	require.NoError(t, e.store.Publish(e.ctx, crm.Event{Kind: crm.EventTyping, TenantID: e.tenant.ID, ConversationID: convID,
		Author: crm.AuthorCitizen, On: true}))
	waitFor(t, ctx, `document.getElementById("dlg-typing").textContent.includes("sta scrivendo")`)
	e.citizenWrites(lucia, "Grazie, attendo. Ho la ricevuta se serve.")
	waitFor(t, ctx, `document.getElementById("dlg-log").textContent.includes("Ho la ricevuta se serve.")`)
	waitFor(t, ctx, `document.getElementById("dlg-typing").textContent === ""`)

	// The reply is delivered and read: the ticks follow.
	seq := e.conversation(convID).LastSeq
	require.NoError(t, e.store.MarkDelivery(e.ctx, e.tenant.ID, convID, seq, crm.DeliveryRead))
	waitFor(t, ctx, `document.querySelector("#dlg-log .dlg-ticks--read") !== null`)

	// The fascicolo, on request, audited.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("a[data-fascicolo]")),
		chromedp.WaitVisible(chromedp.CSS("#dlg-fascicolo-body")),
	))
	waitFor(t, ctx, `document.getElementById("dlg-fascicolo").textContent.includes("€ 1.234,56")`)
	contactID := e.conversation(convID).ContactID
	audit, err := e.store.AuditLog(e.ctx, e.supervisor().Actor(), crm.AuditQuery{ContactID: contactID, Action: "fascicolo.read"})
	require.NoError(t, err)
	require.Len(t, audit, 1)
	browsertest.Axe(ctx, t)
	screenshot(ctx, t, "console-conversation.png")

	// The other actions, opened, are accessible too.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".dlg-more > summary")),
		chromedp.WaitVisible(chromedp.CSS("#dlg-transfer"))))
	browsertest.Axe(ctx, t)
	viewportScreenshot(ctx, t, "console-actions.png")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".dlg-more > summary"))))
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => { const p = document.querySelector(".dlg-pane--citizen"); p.scrollTop = document.querySelector(".dlg-avvisi").offsetTop - 120; })()`)))
	viewportScreenshot(ctx, t, "console-fascicolo.png")
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("dlg-log").scrollTop = 0`)))
	viewportScreenshot(ctx, t, "console-history.png")

	// A reload loses nothing.
	require.NoError(t, chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#dlg-reply-text"))))
	waitFor(t, ctx, `document.getElementById("dlg-log").textContent.includes(`+strconv.Quote(reply)+`)`)
	waitFor(t, ctx, `document.getElementById("dlg-log").textContent.includes("Ho la ricevuta se serve.")`)

	// The supervisor's view, in another browser.
	sup := b.NewUser(t)
	supErrs := browsertest.WatchErrors(sup, t)
	signIn(t, sup, e, e.supervisor())
	require.NoError(t, chromedp.Do(sup, chromedp.Navigate(e.url+"/console/supervisor"), chromedp.WaitVisible(chromedp.CSS("#dlg-stats"))))
	waitFor(t, sup, `document.getElementById("dlg-stats").textContent.includes("Olga Operatrice")`)
	// The supervisor's own console shows up among those online.
	waitFor(t, sup, `![...document.querySelectorAll(".dlg-offline li")].some(li => li.textContent.includes("Sergio"))`)
	browsertest.Axe(sup, t)
	screenshot(sup, t, "console-supervisor.png")

	// English.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(e.url+"/console?lang=en&tab=unassigned"),
		chromedp.WaitVisible(chromedp.CSS("#dlg-inbox-list"))))
	browsertest.Axe(ctx, t)
	screenshot(ctx, t, "console-inbox-en.png")

	errs.Check(t)
	supErrs.Check(t)
}

func TestConsoleWithoutJavaScript(t *testing.T) {
	requireVendor(t)
	e := setup(t)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno, vorrei informazioni sulla TARI.").Message.ConversationID

	b := browsertest.Start(t)
	ctx := b.NewUser(t)
	_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	require.NoError(t, err)
	signIn(t, ctx, e, e.operator())
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(e.url+convPath(conv, "")),
		chromedp.WaitVisible(chromedp.CSS("#dlg-reply-text")),
		chromedp.SendKeys(chromedp.CSS("#dlg-reply-text"), "Risposta senza JavaScript"),
		chromedp.Click(chromedp.CSS(`#dlg-reply button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".dlg-flash")),
	))
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#dlg-log")))
	require.NoError(t, err)
	require.Contains(t, text, "Risposta senza JavaScript")
	require.Equal(t, crm.StatusAssigned, e.conversation(conv).Status)
}
