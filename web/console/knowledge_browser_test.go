package console_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/browsertest"
)

// signInTo fills in the login form and waits for the page the staff member
// lands on to show the element of selector.
func signInTo(t *testing.T, ctx context.Context, e *env, st crm.Staff, selector string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(e.url+"/console/login?lang=it"),
		chromedp.WaitVisible(chromedp.CSS("#dlg-email")),
		chromedp.SendKeys(chromedp.CSS("#dlg-email"), st.Email),
		chromedp.SendKeys(chromedp.CSS("#dlg-password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(selector)),
	))
}

func TestKnowledgeAndHandoffInABrowser(t *testing.T) {
	requireVendor(t)
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
	cf := codiceFiscale(41)
	e.importCitizen(cf, "Lucia", "Bianchi")
	e.assistantAnswers(verifiedCitizen(cf, "Lucia Bianchi"), "Quando scade il mio avviso della mensa?", crm.AssistantReply{
		Text: "Il suo avviso della mensa è scaduto.", Kind: crm.AnswerPersonal, Confidence: 1,
	})
	handedOff := e.assistantAnswers(visitor("Anna Verdi"), "Ho perso il lavoro e non riesco a pagare la TARI", crm.AssistantReply{
		Text: "Mi dispiace. La metto subito in contatto con un operatore.", Kind: crm.AnswerHandoff,
		Handoff: &crm.Handoff{Reason: crm.HandoffDistress,
			Summary: "La cittadina non riesce a pagare la TARI dopo aver perso il lavoro.\nChiede una rateizzazione."},
	})
	file := filepath.Join(t.TempDir(), "carta-identita.md")
	require.NoError(t, os.WriteFile(file, []byte(cartaIdentita), 0o644))

	b := browsertest.Start(t, browsertest.WindowSize(1440, 900))

	// The knowledge editor lands on the sources and uploads a document.
	ctx := b.NewUser(t)
	errs := browsertest.WatchErrors(ctx, t)
	signInTo(t, ctx, e, e.editor(), "#dlg-sources")
	browsertest.Axe(ctx, t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.CSS("#dlg-file"), []string{file}),
		chromedp.Click(chromedp.CSS(`form[action="/console/knowledge/upload"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".dlg-flash")),
	))
	waitFor(t, ctx, `document.getElementById("dlg-sources").textContent.includes("carta-identita.md")`)
	waitFor(t, ctx, `Number(document.querySelector("#dlg-sources [data-chunks]").dataset.chunks) > 0`)
	browsertest.Axe(ctx, t)
	screenshot(ctx, t, "console-knowledge.png")

	// Removing asks first.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#dlg-sources a[href^="/console/knowledge?remove="]`)),
		chromedp.WaitVisible(chromedp.CSS("#dlg-remove-title")),
	))
	browsertest.Axe(ctx, t)

	// The answers, with the passages retrieved for each, in both languages.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(e.url+"/console/knowledge/answers"),
		chromedp.WaitVisible(chromedp.CSS(".dlg-passages")),
	))
	waitFor(t, ctx, `document.getElementById("dlg-answers").textContent.includes("TARI - Tassa sui rifiuti")`)
	waitFor(t, ctx, `!document.getElementById("dlg-answers").textContent.includes("avviso della mensa è scaduto")`)
	browsertest.Axe(ctx, t)
	screenshot(ctx, t, "console-answers.png")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(e.url+"/console/knowledge/answers?lang=en"),
		chromedp.WaitVisible(chromedp.CSS(".dlg-passages")),
	))
	browsertest.Axe(ctx, t)
	errs.Check(t)

	// The operator sees the assistant's summary beside the conversation, and
	// hands the conversation back.
	op := b.NewUser(t)
	opErrs := browsertest.WatchErrors(op, t)
	signInTo(t, op, e, e.operator(), "#dlg-inbox-list")
	require.NoError(t, chromedp.Do(op,
		chromedp.Navigate(e.url+convPath(handedOff, "")),
		chromedp.WaitVisible(chromedp.CSS("#dlg-handoff")),
	))
	waitFor(t, op, `document.getElementById("dlg-handoff").textContent.includes("Chiede una rateizzazione.")`)
	waitFor(t, op, `document.getElementById("dlg-handoff").textContent.includes("disagio")`)
	e.waitOnline(t, e.operator())
	browsertest.Axe(op, t)
	viewportScreenshot(op, t, "console-handoff.png")
	require.NoError(t, chromedp.Do(op,
		chromedp.Click(chromedp.CSS(`form[action$="/handback"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".dlg-flash")),
	))
	waitFor(t, op, `document.getElementById("dlg-summary").textContent.includes("Con l'assistente")`)
	waitFor(t, op, `document.getElementById("dlg-handoff") === null`)
	require.Equal(t, crm.StatusAssistant, e.conversation(handedOff).Status)
	browsertest.Axe(op, t)
	opErrs.Check(t)
}
