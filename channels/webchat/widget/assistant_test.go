package widget_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/internal/browsertest"
)

// The widget while the virtual assistant answers: the status line says so,
// "Parla con un operatore" asks for a person, and each answer can be rated.

// feedbackButton is the CSS selector of a feedback button of answer seq.
func feedbackButton(seq int64, useful bool) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`.dlg-msg[data-seq="%d"] .dlg-feedback__button[data-useful="%t"]`, seq, useful))
}

// quotedAnswer is how the assistant answers from the knowledge base: a
// sentence, the passage it found, quoted, and the page it comes from.
const quotedAnswer = "Per la carta d'identità serve una fototessera recente.\n\n" +
	"> Il cittadino si presenta con una fototessera\n> e con il documento scaduto.\n\n" +
	"Fonte: https://www.comune.milano.it/servizi/carta-identita."

func TestTheVirtualAssistantInItalian(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.enableAssistant(t)
	ctx := browsertest.New(t)
	errs := browsertest.WatchErrors(ctx, t)
	openChat(t, ctx, e.chatURL("lang=it"))

	require.Equal(t, "Scrivi qui la tua domanda: ti risponde l'assistente virtuale del Comune. Se preferisci, puoi parlare con un operatore in qualsiasi momento.",
		eval[string](t, ctx, `document.querySelector('.dlg-intro').textContent`))
	require.False(t, eval[bool](t, ctx, `document.getElementById('dlg-operator').hidden`),
		"the citizen may ask for an operator before writing anything")
	require.Equal(t, "Parla con un operatore", eval[string](t, ctx, `document.getElementById('dlg-operator').textContent.trim()`))

	do(t, ctx, chromedp.Focus(chromedp.ID("dlg-input")))
	write(t, ctx, "Che documenti servono per la carta d'identità?")
	waitFor(t, ctx, `document.getElementById('dlg-conv-status').textContent === "Stai parlando con l'assistente virtuale del Comune. Puoi chiedere un operatore in qualsiasi momento."`)
	require.False(t, eval[bool](t, ctx, `document.getElementById('dlg-operator').hidden`))
	conv := e.fake.conversation()
	answer := e.fake.assistantSays(conv, quotedAnswer)
	waitFor(t, ctx, `document.querySelector('.dlg-msg[data-author="assistant"] .dlg-feedback')`)

	t.Run("the answer keeps its lines, quotes its source and links to it", func(t *testing.T) {
		in := eval[message](t, ctx, `(`+readLog+`).find(m => m.author === 'assistant')`)
		require.Equal(t, "Assistente virtuale", in.Who)
		require.Equal(t, []string{"Per la carta d'identità serve una fototessera recente.",
			"Il cittadino si presenta con una fototessera\ne con il documento scaduto.",
			"Fonte: https://www.comune.milano.it/servizi/carta-identita (si apre in una nuova finestra)."},
			eval[[]string](t, ctx, `[...document.querySelector('.dlg-msg[data-author="assistant"] .dlg-msg__text').children].map(n => n.textContent)`))
		require.Equal(t, "BLOCKQUOTE", eval[string](t, ctx, `document.querySelector('.dlg-msg[data-author="assistant"] .dlg-msg__text').children[1].tagName`))
		link := eval[map[string]string](t, ctx, `(() => { const a = document.querySelector('.dlg-msg[data-author="assistant"] a');
			return {href: a.href, target: a.target, rel: a.rel, text: a.firstChild.textContent}; })()`)
		require.Equal(t, "https://www.comune.milano.it/servizi/carta-identita", link["href"], "the full stop is not part of the address")
		require.Equal(t, "_blank", link["target"])
		require.Contains(t, link["rel"], "noopener")
		require.Contains(t, link["rel"], "noreferrer")
	})

	t.Run("the answer can be rated, and is rated once the server has it", func(t *testing.T) {
		group := eval[map[string]any](t, ctx, fmt.Sprintf(`(() => {
			const g = document.querySelector('.dlg-msg[data-seq="%d"] .dlg-feedback');
			return {role: g.getAttribute('role'), label: document.getElementById(g.getAttribute('aria-labelledby')).textContent,
				buttons: [...g.querySelectorAll('button')].map(b => b.textContent + '|' + b.getAttribute('aria-pressed') + '|' + b.type)};
		})()`, answer.Seq))
		require.Equal(t, "group", group["role"])
		require.Equal(t, "Ti è stata utile?", group["label"])
		require.Equal(t, []any{"Utile|false|button", "Non utile|false|button"}, group["buttons"])
		require.Equal(t, 0, eval[int](t, ctx, `document.querySelectorAll('.dlg-msg[data-author="citizen"] .dlg-feedback').length`),
			"only the assistant's answers are rated")

		do(t, ctx, chromedp.Click(feedbackButton(answer.Seq, false)))
		waitFor(t, ctx, `document.getElementById('dlg-announce').textContent === 'Grazie, la tua valutazione è stata registrata.'`)
		require.Equal(t, []fakeFeedback{{ConversationID: conv.id, Seq: answer.Seq, Useful: false}},
			e.fake.get(func(f *fakeChat) any { return append([]fakeFeedback(nil), f.feedback...) }))
		require.Equal(t, "true", eval[string](t, ctx, fmt.Sprintf(`document.querySelector('%s').getAttribute('aria-pressed')`, feedbackButton(answer.Seq, false))))
		require.Equal(t, "false", eval[string](t, ctx, fmt.Sprintf(`document.querySelector('%s').getAttribute('aria-pressed')`, feedbackButton(answer.Seq, true))))
		require.Equal(t, "down", eval[string](t, ctx, fmt.Sprintf(`localStorage.getItem('dialogo:%s:feedback:%d:%d')`, e.tenant.Slug, conv.id, answer.Seq)))
		browsertest.Axe(ctx, t)
		screenshot(t, ctx, "assistant-desktop-it.png")
	})

	t.Run("the choice is shown again after a reload", func(t *testing.T) {
		do(t, ctx, chromedp.Reload())
		waitFor(t, ctx, connected)
		waitFor(t, ctx, fmt.Sprintf(`document.querySelector('%s')?.getAttribute('aria-pressed') === 'true'`, feedbackButton(answer.Seq, false)))
		require.Equal(t, "false", eval[string](t, ctx, fmt.Sprintf(`document.querySelector('%s').getAttribute('aria-pressed')`, feedbackButton(answer.Seq, true))))
	})

	t.Run("the buttons wait while the chat is offline", func(t *testing.T) {
		e.fake.set(func(f *fakeChat) { f.down = true })
		e.fake.dropConnections()
		waitFor(t, ctx, `document.getElementById('dlg-connection').textContent === 'Connessione persa, riprovo…'`)
		require.True(t, eval[bool](t, ctx, `[...document.querySelectorAll('.dlg-feedback__button')].every(b => b.disabled)`))
		browsertest.Axe(ctx, t)
		e.fake.set(func(f *fakeChat) { f.down = false })
		waitFor(t, ctx, connected)
		waitFor(t, ctx, `[...document.querySelectorAll('.dlg-feedback__button')].every(b => !b.disabled)`)
	})

	t.Run("a changed mind is sent too", func(t *testing.T) {
		do(t, ctx, chromedp.Click(feedbackButton(answer.Seq, true)))
		waitFor(t, ctx, fmt.Sprintf(`document.querySelector('%s').getAttribute('aria-pressed') === 'true'`, feedbackButton(answer.Seq, true)))
		require.Eventually(t, func() bool {
			return e.fake.get(func(f *fakeChat) any { return len(f.feedback) == 2 && f.feedback[1].Useful }).(bool)
		}, 5*time.Second, 20*time.Millisecond)
		require.Equal(t, "false", eval[string](t, ctx, fmt.Sprintf(`document.querySelector('%s').getAttribute('aria-pressed')`, feedbackButton(answer.Seq, false))))
		require.Equal(t, "up", eval[string](t, ctx, fmt.Sprintf(`localStorage.getItem('dialogo:%s:feedback:%d:%d')`, e.tenant.Slug, conv.id, answer.Seq)))
	})

	t.Run("feedback the server refuses is undone", func(t *testing.T) {
		e.fake.set(func(f *fakeChat) { f.refuseFeedback = true })
		do(t, ctx, chromedp.Click(feedbackButton(answer.Seq, false)))
		waitFor(t, ctx, `document.getElementById('dlg-alert').textContent === 'Non è possibile valutare questo messaggio.'`)
		require.Equal(t, "false false", eval[string](t, ctx, fmt.Sprintf(`[...document.querySelectorAll('.dlg-msg[data-seq="%d"] .dlg-feedback__button')].map(b => b.getAttribute('aria-pressed')).join(' ')`, answer.Seq)))
		require.Equal(t, "null", eval[string](t, ctx, fmt.Sprintf(`String(localStorage.getItem('dialogo:%s:feedback:%d:%d'))`, e.tenant.Slug, conv.id, answer.Seq)))
		e.fake.set(func(f *fakeChat) { f.refuseFeedback = false })
	})

	t.Run("Parla con un operatore asks for one with a message", func(t *testing.T) {
		do(t, ctx, chromedp.Click(chromedp.ID("dlg-operator")))
		waitFor(t, ctx, `document.querySelectorAll('.dlg-msg--out[data-delivery="sent"]').length === 2`)
		require.Equal(t, []string{"Che documenti servono per la carta d'identità?", "Vorrei parlare con un operatore"}, e.fake.citizenTexts())
		require.True(t, eval[bool](t, ctx, `document.getElementById('dlg-operator').disabled`), "asked once")
		require.Equal(t, "dlg-input", eval[string](t, ctx, `document.activeElement.id`))

		e.fake.assistantSays(conv, "Ti metto in contatto con un operatore.")
		e.fake.handOff(conv)
		waitFor(t, ctx, `document.getElementById('dlg-conv-status').textContent === 'In attesa di un operatore: sei 1° in coda'`)
		require.True(t, eval[bool](t, ctx, `document.getElementById('dlg-operator').hidden`), "no button once in the queue")
		browsertest.Axe(ctx, t)
	})
	errs.Check(t)
}

func TestTheVirtualAssistantInEnglish(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.enableAssistant(t)
	ctx := browsertest.New(t)
	errs := browsertest.WatchErrors(ctx, t)
	openChat(t, ctx, e.chatURL("embed=1&lang=en"))
	do(t, ctx, chromedp.Focus(chromedp.ID("dlg-input")))
	write(t, ctx, "Which documents do I need for an identity card?")
	waitFor(t, ctx, `document.getElementById('dlg-conv-status').textContent === "You are talking with the Comune's virtual assistant. You can ask for an operator at any time."`)
	conv := e.fake.conversation()
	answer := e.fake.assistantSays(conv, "You need a recent photo: https://www.comune.milano.it/servizi/carta-identita")
	waitFor(t, ctx, `document.querySelector('.dlg-msg[data-author="assistant"] .dlg-feedback')`)

	require.Equal(t, "Talk to an operator", eval[string](t, ctx, `document.getElementById('dlg-operator').textContent.trim()`))
	require.Equal(t, "Was this helpful?|Helpful|Not helpful", eval[string](t, ctx, fmt.Sprintf(
		`[...document.querySelectorAll('.dlg-msg[data-seq="%d"] .dlg-feedback > *')].map(n => n.textContent).join('|')`, answer.Seq)))
	browsertest.Axe(ctx, t)
	do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	browsertest.Axe(ctx, t)
	screenshot(t, ctx, "assistant-embed-phone-en.png")

	do(t, ctx, chromedp.Click(chromedp.ID("dlg-operator")))
	require.Eventually(t, func() bool { return len(e.fake.citizenTexts()) == 2 }, 5*time.Second, 20*time.Millisecond)
	require.Equal(t, "I would like to talk to an operator", e.fake.citizenTexts()[1])
	errs.Check(t)
}

func TestWithoutTheAssistantThereIsNoOperatorButton(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := browsertest.New(t)
	openChat(t, ctx, e.chatURL("lang=it"))

	require.True(t, eval[bool](t, ctx, `document.getElementById('dlg-operator').hidden`))
	require.Equal(t, "Scrivi qui la tua domanda: ti risponde un operatore del Comune appena possibile.",
		eval[string](t, ctx, `document.querySelector('.dlg-intro').textContent`))
	do(t, ctx, chromedp.Focus(chromedp.ID("dlg-input")))
	write(t, ctx, "Buongiorno")
	waitFor(t, ctx, `document.getElementById('dlg-conv-status').textContent === 'In attesa di un operatore: sei 2° in coda'`)
	require.True(t, eval[bool](t, ctx, `document.getElementById('dlg-operator').hidden`))
}
