package widget_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/internal/browsertest"
)

// The browser tests play a citizen against the fake chat server: the widget
// alone, to the letter of docs/chat-protocol.md.

// waitFor polls a JavaScript expression in the page (or in the frame of the
// iframe node) until it is truthy.
// A poll started before a navigation ends with it: it is started again in the
// new page.
func waitFor(t *testing.T, ctx context.Context, expr string, opts ...chromedp.PollOption) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	opts = append([]chromedp.PollOption{chromedp.WithPollingTimeout(15 * time.Second), chromedp.WithPollingInterval(20 * time.Millisecond)}, opts...)
	for {
		err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](expr, opts...))
		if err == nil {
			return
		}
		if time.Now().After(deadline) || errors.Is(err, chromedp.ErrPollingTimeout) || !strings.Contains(err.Error(), "context") {
			t.Fatalf("waiting for %s: %v", expr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// enter presses Enter as a keyboard does: one keydown that carries the text,
// so that a page that cancels the keydown gets no new line (chromedp's
// KeyEvent sends the text in a separate event that nothing can cancel).
func enter(mods ...chromedp.Modifier) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		key := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter",
			WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13, Text: "\r", UnmodifiedText: "\r"}
		for _, m := range mods {
			key.Modifiers |= int64(m)
		}
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, key); err != nil {
			return err
		}
		key.Type, key.Text, key.UnmodifiedText = input.DispatchKeyEventTypeKeyUp, "", ""
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, key)
		return err
	})
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, actions...))
}

// connected is true once the welcome has arrived: the attach button waits for
// the visitor token it needs.
const connected = `!document.getElementById('dlg-attach').disabled`

// openChat opens the chat page and waits for the connection.
func openChat(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(url))
	waitFor(t, ctx, connected)
}

// write types a message with the keyboard into the focused message box; a
// "\n" in text is Shift+Enter. Enter sends it.
func write(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			do(t, ctx, enter(chromedp.ModifierShift))
		}
		do(t, ctx, chromedp.KeyEvent(line))
	}
	do(t, ctx, enter())
}

// message describes a message as the log shows it.
type message struct {
	Author   string `json:"author"`
	Who      string `json:"who"`
	Text     string `json:"text"`
	Seq      string `json:"seq"`
	Delivery string `json:"delivery"`
	Meta     string `json:"meta"`
}

const readLog = `[...document.querySelectorAll('#dlg-log .dlg-msg')].map(m => ({
	author: m.dataset.author || 'system',
	who: m.querySelector('.dlg-msg__author')?.textContent || '',
	text: m.querySelector('.dlg-msg__text')?.textContent || m.textContent,
	seq: m.dataset.seq || '',
	delivery: m.dataset.delivery || '',
	meta: m.querySelector('.dlg-msg__meta')?.textContent || '',
}))`

func shownMessages(t *testing.T, ctx context.Context) []message {
	t.Helper()
	return eval[[]message](t, ctx, readLog)
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if dir := os.Getenv("DIALOGO_SCREENSHOTS"); dir != "" {
		browsertest.Screenshot(ctx, t, filepath.Join(dir, name))
	}
}

func TestCitizenChatsWithAnOperator(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := browsertest.New(t)
	errs := browsertest.WatchErrors(ctx, t)
	openChat(t, ctx, e.chatURL("lang=it"))

	hello := e.fake.lastHello()
	require.Empty(t, hello.Visitor, "a first visit has no visitor token")
	require.Nil(t, hello.ConversationID)
	require.Equal(t, "it", hello.Lang)

	// Keyboard only: the skip link leads to the message box.
	do(t, ctx, chromedp.KeyEvent(kb.Tab))
	require.Equal(t, "Vai al messaggio", eval[string](t, ctx, `document.activeElement.textContent`))
	do(t, ctx, enter())
	waitFor(t, ctx, `document.activeElement.id === 'dlg-input'`)
	write(t, ctx, "Buongiorno,\nvorrei rinnovare la carta d'identità")

	waitFor(t, ctx, `document.querySelector('.dlg-msg--out[data-delivery="sent"]')`)
	require.Equal(t, []string{"Buongiorno,\nvorrei rinnovare la carta d'identità"}, e.fake.citizenTexts())
	msgs := shownMessages(t, ctx)
	require.Len(t, msgs, 1, "the server's copy of our message does not show twice")
	require.Equal(t, "Tu", msgs[0].Who)
	require.Equal(t, "Buongiorno,\nvorrei rinnovare la carta d'identità", msgs[0].Text)
	require.Contains(t, msgs[0].Meta, "Inviato")
	require.Equal(t, "", eval[string](t, ctx, `document.getElementById('dlg-input').value`))
	waitFor(t, ctx, `document.getElementById('dlg-conv-status').textContent === 'In attesa di un operatore: sei 2° in coda'`)

	conv := e.fake.conversation()
	e.fake.operatorTyping(conv, "Chiara", true)
	waitFor(t, ctx, `document.getElementById('dlg-typing').textContent === 'Chiara sta scrivendo…'`)
	e.fake.operatorSays(conv, "Chiara", "Buongiorno! Trova tutto su https://www.comune.milano.it/servizi/carta-identita. "+
		`Non scriva qui <img src=x onerror="document.title='hacked'"> i suoi documenti.`)
	waitFor(t, ctx, `document.querySelector('.dlg-msg--in')`)
	require.Equal(t, "", eval[string](t, ctx, `document.getElementById('dlg-typing').textContent`), "a message ends the typing")
	require.Contains(t, eval[string](t, ctx, `document.getElementById('dlg-conv-status').textContent`), "Un operatore")

	t.Run("the operator's message has their name, a safe link and no HTML", func(t *testing.T) {
		in := eval[message](t, ctx, `(`+readLog+`).find(m => m.author === 'operator')`)
		require.Equal(t, "Chiara · Operatore", in.Who)
		require.Contains(t, in.Text, `<img src=x onerror="document.title='hacked'">`)
		require.Regexp(t, `^\d\d:\d\d$`, in.Meta)
		link := eval[map[string]string](t, ctx, `(() => { const a = document.querySelector('.dlg-msg--in a');
			return {href: a.href, target: a.target, rel: a.rel, text: a.firstChild.textContent}; })()`)
		require.Equal(t, map[string]string{
			"href": "https://www.comune.milano.it/servizi/carta-identita", "target": "_blank",
			"rel": "noopener noreferrer nofollow", "text": "https://www.comune.milano.it/servizi/carta-identita",
		}, link)
		require.Equal(t, 0, eval[int](t, ctx, `document.querySelectorAll('#dlg-log img').length`))
		require.NotEqual(t, "hacked", eval[string](t, ctx, `document.title`))
	})

	// The citizen has received and seen everything.
	last := e.fake.get(func(*fakeChat) any { return conv.msgs[len(conv.msgs)-1].Seq }).(int64)
	require.Eventually(t, func() bool {
		return e.fake.get(func(f *fakeChat) any { return f.acked == last && f.read == last }).(bool)
	}, 5*time.Second, 20*time.Millisecond)
	require.Positive(t, e.fake.get(func(f *fakeChat) any { return f.typings }).(int), "the citizen's typing is passed on")
	screenshot(t, ctx, "chat-desktop-it.png")

	t.Run("a reload shows the conversation again, each message once", func(t *testing.T) {
		do(t, ctx, chromedp.Reload())
		waitFor(t, ctx, connected)
		hello := e.fake.lastHello()
		require.Equal(t, conv.visitor.token, hello.Visitor, "the token is kept in localStorage")
		require.Equal(t, conv.id, *hello.ConversationID)
		require.Equal(t, int64(0), hello.LastSeq, "a fresh page asks for the whole conversation")
		waitFor(t, ctx, `document.querySelectorAll('#dlg-log .dlg-msg').length === 2`)
		msgs := shownMessages(t, ctx)
		require.Equal(t, []string{"citizen", "operator"}, []string{msgs[0].Author, msgs[1].Author})
		require.Equal(t, "Tu", msgs[0].Who)
		require.Contains(t, msgs[0].Meta, "Inviato")
		require.Equal(t, "1", eval[string](t, ctx, `String(Object.keys(localStorage).filter(k => k === 'dialogo:`+e.tenant.Slug+`:visitor').length)`))
	})

	t.Run("after a lost connection only the missed messages come again", func(t *testing.T) {
		shown := shownMessages(t, ctx)
		e.fake.set(func(f *fakeChat) { f.down = true })
		e.fake.dropConnections()
		waitFor(t, ctx, `document.getElementById('dlg-connection').textContent === 'Connessione persa, riprovo…'`)
		e.fake.operatorSays(conv, "Chiara", "Mentre era via: le serve una foto tessera.")
		e.fake.set(func(f *fakeChat) { f.down = false })
		waitFor(t, ctx, `document.getElementById('dlg-connection').textContent === 'Connessione ripristinata'`)
		waitFor(t, ctx, `document.querySelectorAll('#dlg-log .dlg-msg').length === 3`)
		hello := e.fake.lastHello()
		require.Equal(t, shown[len(shown)-1].Seq, fmt.Sprint(hello.LastSeq), "hello asks for what came after the last message shown")
		msgs := shownMessages(t, ctx)
		require.Equal(t, "Mentre era via: le serve una foto tessera.", msgs[2].Text)
		// The banner goes once the connection is back for a while.
		waitFor(t, ctx, `document.getElementById('dlg-connection').textContent === ''`)
	})

	errs.Check(t)
}

func TestNoMessageIsLostWhenTheConnectionDrops(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := browsertest.New(t)
	openChat(t, ctx, e.chatURL("lang=it"))

	t.Run("a message stored but not acknowledged is sent again, and shown once", func(t *testing.T) {
		e.fake.set(func(f *fakeChat) { f.dropBeforeAck = 1 })
		do(t, ctx, chromedp.Focus(chromedp.ID("dlg-input")))
		write(t, ctx, "Primo messaggio")
		waitFor(t, ctx, `document.querySelector('.dlg-msg--out[data-delivery="sent"]')`)
		// The replay after the reconnection may show it stored before the
		// resent copy reaches the server.
		var received []string
		require.Eventually(t, func() bool {
			received = e.fake.get(func(f *fakeChat) any { return append([]string(nil), f.received...) }).([]string)
			return len(received) == 2
		}, 5*time.Second, 20*time.Millisecond, "the widget resent it")
		require.Equal(t, received[0], received[1], "with the same client_id")
		require.Equal(t, []string{"Primo messaggio"}, e.fake.citizenTexts())
		require.Len(t, shownMessages(t, ctx), 1)
	})

	t.Run("a message written offline survives a reload and goes when the server is back", func(t *testing.T) {
		e.fake.set(func(f *fakeChat) { f.down = true })
		e.fake.dropConnections()
		waitFor(t, ctx, `document.getElementById('dlg-connection').textContent === 'Connessione persa, riprovo…'`)
		do(t, ctx, chromedp.Focus(chromedp.ID("dlg-input")))
		write(t, ctx, "Scritto senza connessione")
		waitFor(t, ctx, `document.querySelector('.dlg-msg--out[data-delivery="waiting"]')`)
		require.Contains(t, shownMessages(t, ctx)[1].Meta, "In attesa di inviare")
		require.Contains(t, eval[string](t, ctx, `localStorage.getItem('dialogo:`+e.tenant.Slug+`:outbox')`), "Scritto senza connessione")

		do(t, ctx, chromedp.Reload())
		waitFor(t, ctx, `document.querySelector('.dlg-msg--out[data-delivery="waiting"]')`)
		screenshot(t, ctx, "chat-offline-desktop-it.png")
		e.fake.set(func(f *fakeChat) { f.down = false })
		waitFor(t, ctx, `document.querySelectorAll('.dlg-msg--out[data-delivery="sent"]').length === 2`)
		require.Equal(t, []string{"Primo messaggio", "Scritto senza connessione"}, e.fake.citizenTexts())
		msgs := shownMessages(t, ctx)
		require.Len(t, msgs, 2)
		require.Equal(t, "Primo messaggio", msgs[0].Text, "the replayed history comes before the message that waited")
		require.Equal(t, "Scritto senza connessione", msgs[1].Text)
		require.Equal(t, "null", eval[string](t, ctx, `String(localStorage.getItem('dialogo:`+e.tenant.Slug+`:outbox'))`))
	})
}

func TestRateLimitedMessageIsSentLater(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := browsertest.New(t)
	openChat(t, ctx, e.chatURL("lang=it"))
	e.fake.set(func(f *fakeChat) { f.rateLimit = 1 })

	do(t, ctx, chromedp.Focus(chromedp.ID("dlg-input")))
	write(t, ctx, "Ho fretta")
	waitFor(t, ctx, `document.getElementById('dlg-alert').textContent.includes('troppo velocemente')`)
	require.Contains(t, shownMessages(t, ctx)[0].Meta, "In attesa di inviare")
	require.Empty(t, e.fake.citizenTexts())

	waitFor(t, ctx, `document.querySelector('.dlg-msg--out[data-delivery="sent"]')`)
	require.Equal(t, []string{"Ho fretta"}, e.fake.citizenTexts())
	require.Equal(t, "", eval[string](t, ctx, `document.getElementById('dlg-alert').textContent`), "the alert goes when the message does")
}

// A 1×1 PNG.
const pixelPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="

func TestAttachments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := browsertest.New(t)
	openChat(t, ctx, e.chatURL("lang=it"))

	dir := t.TempDir()
	png, _ := base64.StdEncoding.DecodeString(pixelPNG)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ricevuta.png"), png, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "appunti.txt"), []byte("non un'immagine"), 0o644))

	t.Run("a file that is not an image or a PDF is refused with the server's reason", func(t *testing.T) {
		do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("dlg-file"), []string{filepath.Join(dir, "appunti.txt")}))
		waitFor(t, ctx, `document.getElementById('dlg-alert').textContent === 'Puoi allegare solo immagini (PNG, JPEG, GIF, WebP) o documenti PDF.'`)
		require.Equal(t, 0, eval[int](t, ctx, `document.querySelectorAll('.dlg-chip').length`))
	})

	t.Run("an image goes with the next message", func(t *testing.T) {
		do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("dlg-file"), []string{filepath.Join(dir, "ricevuta.png")}))
		waitFor(t, ctx, `document.querySelector('.dlg-chip')`)
		require.Equal(t, "", eval[string](t, ctx, `document.getElementById('dlg-alert').textContent`))
		require.Equal(t, "Rimuovi ricevuta.png", eval[string](t, ctx, `document.querySelector('.dlg-chip button').getAttribute('aria-label')`))
		require.Equal(t, "ricevuta.png allegato", eval[string](t, ctx, `document.getElementById('dlg-announce').textContent`))
		screenshot(t, ctx, "chat-attachment-desktop-it.png")

		do(t, ctx, chromedp.Focus(chromedp.ID("dlg-input")))
		write(t, ctx, "Ecco la ricevuta")
		waitFor(t, ctx, `document.querySelector('.dlg-msg--out[data-delivery="sent"]')`)
		require.Equal(t, 0, eval[int](t, ctx, `document.querySelectorAll('.dlg-chip').length`))
		conv := e.fake.conversation()
		atts := e.fake.get(func(*fakeChat) any { return conv.msgs[0].Attachments }).([]fakeAttachment)
		require.Len(t, atts, 1)
		require.Equal(t, "ricevuta.png", atts[0].Name)
		require.Equal(t, "image/png", atts[0].ContentType)
		require.Contains(t, eval[string](t, ctx, `document.querySelector('.dlg-msg--out .dlg-files-list').textContent`), "ricevuta.png")
	})

	t.Run("attachments in messages are links, and images show", func(t *testing.T) {
		conv := e.fake.conversation()
		e.fake.set(func(f *fakeChat) {
			var receipt fakeAttachment
			for _, file := range f.files {
				receipt = file.att
			}
			m := conv.add("operator", "Chiara", "Le mando il modulo, e la sua ricevuta.", []fakeAttachment{
				{Name: "modulo.pdf", ContentType: "application/pdf", Size: 120000, URL: "/chat/" + e.tenant.Slug + "/attachments/nessuno"},
				receipt,
			})
			for _, c := range conv.visitor.connList() {
				go c.send(m)
			}
		})
		waitFor(t, ctx, `document.querySelector('.dlg-msg--in a.dlg-file')`)
		link := eval[map[string]string](t, ctx, `(() => { const a = document.querySelector('.dlg-msg--in a.dlg-file'), u = new URL(a.href);
			return {path: u.pathname, visitor: u.searchParams.get('visitor'), text: a.textContent}; })()`)
		require.Equal(t, "/chat/"+e.tenant.Slug+"/attachments/nessuno", link["path"])
		require.Equal(t, conv.visitor.token, link["visitor"], "a link cannot send the Authorization header")
		require.Contains(t, link["text"], "modulo.pdf (117,2 kB)")
		// The image loads (the fake checks the visitor) and is shown.
		waitFor(t, ctx, `(() => { const img = document.querySelector('.dlg-msg--in img'); return img && img.complete && img.naturalWidth === 1; })()`)
		do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		screenshot(t, ctx, "chat-attachments-phone-it.png")
	})
}

func TestLoginWithSPIDOrCIE(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLogin)
	ctx := browsertest.New(t)
	errs := browsertest.WatchErrors(ctx, t)
	openChat(t, ctx, e.chatURL("lang=it"))

	visitor := e.fake.get(func(f *fakeChat) any {
		for token := range f.visitors {
			return token
		}
		return ""
	}).(string)
	waitFor(t, ctx, `!document.getElementById('dlg-login').hidden`)
	href := eval[string](t, ctx, `document.getElementById('dlg-login').getAttribute('href')`)
	require.Equal(t, "/chat/"+e.tenant.Slug+"/login?visitor="+visitor, href)

	do(t, ctx, chromedp.Focus(chromedp.ID("dlg-login")), enter())
	waitFor(t, ctx, `document.getElementById('dlg-verified') && !document.getElementById('dlg-verified').hidden`)
	require.Equal(t, "Identità verificata: Mario Rossi", eval[string](t, ctx, `document.getElementById('dlg-verified').textContent.trim()`))
	require.True(t, eval[bool](t, ctx, `document.getElementById('dlg-login').hidden`))
	require.Equal(t, "Accesso eseguito con SPID/CIE.", eval[string](t, ctx, `document.getElementById('dlg-announce').textContent`))
	require.Equal(t, "", eval[string](t, ctx, `location.hash`), "the outcome leaves the address")
	require.Equal(t, "it", eval[string](t, ctx, `document.documentElement.lang`), "the language chosen before the login stays")
	screenshot(t, ctx, "chat-verified-desktop-it.png")
	errs.Check(t)
}

func TestLoginOnASharedComputerGivesANewVisitor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLogin)
	ctx := browsertest.New(t)
	openChat(t, ctx, e.chatURL("lang=it"))
	do(t, ctx, chromedp.Focus(chromedp.ID("dlg-input")))
	write(t, ctx, "Il messaggio di chi c'era prima")
	waitFor(t, ctx, `document.querySelector('.dlg-msg--out[data-delivery="sent"]')`)
	before := e.fake.lastHello()

	// The browser's visitor was verified as someone else: the login gives a
	// new token, in the fragment of the address it comes back to.
	e.fake.set(func(f *fakeChat) { f.loginAnew = true })
	do(t, ctx, chromedp.Focus(chromedp.ID("dlg-login")), enter())
	waitFor(t, ctx, `document.getElementById('dlg-verified') && !document.getElementById('dlg-verified').hidden`)
	hello := e.fake.lastHello()
	require.NotEmpty(t, hello.Visitor)
	require.NotEqual(t, before.Visitor, hello.Visitor)
	require.Equal(t, hello.Visitor, eval[string](t, ctx, `localStorage.getItem('dialogo:`+e.tenant.Slug+`:visitor')`))
	require.Equal(t, "", eval[string](t, ctx, `location.hash`), "the token does not stay in the address bar")
	require.Empty(t, shownMessages(t, ctx), "nothing of the other person's conversation")
}

func TestLoginThatFailsSaysSo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLogin)
	ctx := browsertest.New(t)
	openChat(t, ctx, e.chatURL("lang=it"))
	e.fake.set(func(f *fakeChat) { f.loginOutcome = "error" })
	do(t, ctx, chromedp.Focus(chromedp.ID("dlg-login")), enter())
	waitFor(t, ctx, `document.getElementById('dlg-alert')?.textContent === "Non è stato possibile completare l'accesso con SPID/CIE. Riprova più tardi."`)
	waitFor(t, ctx, connected)
	require.False(t, eval[bool](t, ctx, `document.getElementById('dlg-login').hidden`), "the citizen may try again")
}

// hostPage is a municipal website with the embed snippet.
const hostPage = `<!doctype html>
<html lang="%s"><head><meta charset="utf-8"><title>Comune di Milano – Servizi</title><link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;margin:2rem;color:#1a1a1a} button{background:red!important}</style></head>
<body><header><p>Comune di Milano</p></header>
<main><h1>Carta d'identità elettronica</h1><p>Come richiederla, i documenti da portare, i costi.</p>
<p><a href="#costi">I costi</a></p></main>
<script src="%s/chat/%s/widget.js" data-lang="%s" data-identity-user="42" data-identity-hash="%s" data-identity-name="Mario Rossi" defer></script>
</body></html>`

// launcher is an expression for the button of the embed script.
const launcher = `document.getElementById('dialogo-chat').shadowRoot.querySelector('.launcher')`

func TestEmbedOnAMunicipalWebsite(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"it", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			// Another origin: the site of the Comune.
			site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, hostPage, lang, e.url, e.tenant.Slug, lang, e.fake.sign("42"))
			}))
			t.Cleanup(site.Close)

			ctx := browsertest.New(t)
			errs := browsertest.WatchErrors(ctx, t)
			do(t, ctx, chromedp.Navigate(site.URL))
			waitFor(t, ctx, launcher)
			want := map[string]string{"it": "Hai bisogno di aiuto?", "en": "Need help?"}[lang]
			require.Equal(t, want, eval[string](t, ctx, launcher+`.textContent`))
			require.Equal(t, "false", eval[string](t, ctx, launcher+`.getAttribute('aria-expanded')`))
			require.Empty(t, e.fake.get(func(f *fakeChat) any { return f.hellos }), "no connection before the citizen asks")

			// Keyboard only: Tab to the launcher, Enter opens the chat and
			// puts the focus in its message box.
			do(t, ctx, chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab))
			require.True(t, eval[bool](t, ctx, `document.getElementById('dialogo-chat').shadowRoot.activeElement === `+launcher))
			do(t, ctx, enter())
			require.Equal(t, "true", eval[string](t, ctx, launcher+`.getAttribute('aria-expanded')`))
			waitFor(t, ctx, `document.getElementById('dialogo-chat').shadowRoot.activeElement?.tagName === 'IFRAME'`)
			require.Eventually(t, func() bool { return len(e.fake.get(func(f *fakeChat) any { return f.hellos }).([]fakeHello)) > 0 },
				10*time.Second, 20*time.Millisecond)

			hello := e.fake.lastHello()
			require.Equal(t, lang, hello.Lang)
			require.NotNil(t, hello.Identity, "the signed identity reaches the chat")
			require.Equal(t, "42", hello.Identity.UserID)
			require.Equal(t, e.fake.sign("42"), hello.Identity.Hash)
			require.Equal(t, "Mario Rossi", hello.Identity.Name)
			src := eval[string](t, ctx, `document.getElementById('dialogo-chat').shadowRoot.querySelector('iframe').src`)
			require.True(t, strings.HasPrefix(src, e.chatURL("embed=1&lang="+lang)+"#"), src)

			frame, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.JSPath(`document.getElementById('dialogo-chat').shadowRoot.querySelector('iframe')`)))
			require.NoError(t, err)
			require.Len(t, frame, 1)
			inFrame := chromedp.WithPollingInFrame(frame[0])
			waitFor(t, ctx, `document.activeElement && document.activeElement.id === 'dlg-input'`, inFrame)
			waitFor(t, ctx, `!document.getElementById('dlg-verified').hidden`, inFrame)

			write(t, ctx, "Buongiorno dal sito del Comune")
			require.Eventually(t, func() bool { return len(e.fake.citizenTexts()) == 1 }, 10*time.Second, 20*time.Millisecond)
			require.Equal(t, []string{"Buongiorno dal sito del Comune"}, e.fake.citizenTexts())
			conv := e.fake.conversation()
			e.fake.operatorSays(conv, "Chiara", map[string]string{"it": "Buongiorno Mario, come posso aiutarla?", "en": "Good morning Mario, how can I help?"}[lang])
			waitFor(t, ctx, `document.querySelector('.dlg-msg--in')`, inFrame)

			browsertest.Axe(ctx, t)
			screenshot(t, ctx, "embed-open-desktop-"+lang+".png")
			do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
			screenshot(t, ctx, "embed-open-phone-"+lang+".png")
			do(t, ctx, chromedp.EmulateViewport(1280, 800))

			// Esc in the chat closes it and gives the focus back to the launcher.
			do(t, ctx, chromedp.KeyEvent(kb.Escape))
			waitFor(t, ctx, launcher+`.getAttribute('aria-expanded') === 'false'`)
			require.True(t, eval[bool](t, ctx, `document.getElementById('dialogo-chat').shadowRoot.getElementById('dialogo-chat-panel').hidden`))
			require.True(t, eval[bool](t, ctx, `document.getElementById('dialogo-chat').shadowRoot.activeElement === `+launcher))

			// What comes while the chat is closed is counted on the launcher.
			e.fake.operatorSays(conv, "Chiara", "…")
			waitFor(t, ctx, launcher+`.querySelector('.badge').textContent === '1' && !`+launcher+`.querySelector('.badge').hidden`)
			wantUnread := map[string]string{"it": "(1 da leggere)", "en": "(1 unread)"}[lang]
			require.Contains(t, eval[string](t, ctx, launcher+`.textContent`), wantUnread)
			screenshot(t, ctx, "embed-closed-unread-desktop-"+lang+".png")

			do(t, ctx, enter())
			waitFor(t, ctx, `document.activeElement && document.activeElement.id === 'dlg-input'`, inFrame)
			waitFor(t, ctx, launcher+`.querySelector('.badge').hidden`)
			errs.Check(t)
		})
	}
}

func TestAccessibility(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLogin)
	b := browsertest.Start(t)
	for _, page := range []struct{ name, query string }{
		{"chat-it", "lang=it"},
		{"chat-en", "lang=en"},
		{"embed-it", "embed=1&lang=it"},
		{"embed-en", "embed=1&lang=en"},
	} {
		t.Run(page.name, func(t *testing.T) {
			ctx := b.NewUser(t)
			errs := browsertest.WatchErrors(ctx, t)
			openChat(t, ctx, e.chatURL(page.query))
			browsertest.Axe(ctx, t) // empty

			// With a conversation: both sides, a link, an attachment, the
			// queue, the typing operator.
			do(t, ctx, chromedp.Focus(chromedp.ID("dlg-input")))
			write(t, ctx, map[string]string{"it": "Buongiorno, quando apre l'anagrafe?", "en": "Good morning, when does the registry office open?"}[page.query[len(page.query)-2:]])
			waitFor(t, ctx, `document.querySelector('.dlg-msg--out[data-delivery="sent"]')`)
			var conv *fakeConv
			require.Eventually(t, func() bool {
				return e.fake.get(func(f *fakeChat) any {
					for _, c := range f.convs {
						if len(c.msgs) > 0 && c.msgs[len(c.msgs)-1].Author == "citizen" && c.visitor.conns != nil && len(c.visitor.conns) > 0 {
							conv = c
						}
					}
					return conv != nil
				}).(bool)
			}, 5*time.Second, 20*time.Millisecond)
			e.fake.operatorSays(conv, "Chiara", "L'anagrafe apre alle 8:30. Gli orari sono su https://www.comune.milano.it/anagrafe")
			waitFor(t, ctx, `document.querySelector('.dlg-msg--in')`)
			e.fake.operatorTyping(conv, "Chiara", true)
			waitFor(t, ctx, `document.getElementById('dlg-typing').textContent !== ''`)
			browsertest.Axe(ctx, t)
			screenshot(t, ctx, page.name+"-desktop.png")

			do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
			browsertest.Axe(ctx, t)
			screenshot(t, ctx, page.name+"-phone.png")
			errs.Check(t)
		})
	}

	t.Run("not found", func(t *testing.T) {
		ctx := b.NewUser(t)
		do(t, ctx, chromedp.Navigate(e.url+"/chat/nessun-comune"))
		browsertest.Axe(ctx, t)
		screenshot(t, ctx, "not-found-desktop.png")
	})
}

func TestLoginFromTheEmbedOpensAPopupAndTheChatComesBackVerified(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLogin)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="it"><head><meta charset="utf-8"><title>Comune</title><link rel="icon" href="data:,"></head>
<body><main><h1>Servizi</h1></main><script src="%s/chat/%s/widget.js" defer></script></body></html>`, e.url, e.tenant.Slug)
	}))
	t.Cleanup(site.Close)

	ctx := browsertest.New(t)
	do(t, ctx, chromedp.Navigate(site.URL))
	waitFor(t, ctx, launcher)
	do(t, ctx, chromedp.Evaluate[chromedp.Void](launcher+`.click()`))
	waitFor(t, ctx, `document.getElementById('dialogo-chat').shadowRoot.activeElement?.tagName === 'IFRAME'`)
	frame, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.JSPath(`document.getElementById('dialogo-chat').shadowRoot.querySelector('iframe')`)))
	require.NoError(t, err)
	inFrame := chromedp.WithPollingInFrame(frame[0])
	waitFor(t, ctx, `!document.getElementById('dlg-login').hidden`, inFrame)

	// Identity providers refuse to be framed: the login opens a popup, which
	// comes back to Dialogo's origin, where the frame reads the outcome.
	targets := func() int {
		list, err := chromedp.Targets(ctx)
		require.NoError(t, err)
		n := 0
		for _, tg := range list {
			if tg.Type == "page" {
				n++
			}
		}
		return n
	}
	pages := targets()
	waitFor(t, ctx, `(document.getElementById('dlg-login').click(), true)`, inFrame)
	waitFor(t, ctx, `!document.getElementById('dlg-verified').hidden && document.getElementById('dlg-login').hidden`, inFrame)
	require.Eventually(t, func() bool { return targets() == pages }, 5*time.Second, 50*time.Millisecond, "the frame closed the popup")
	require.Equal(t, 1, e.fake.get(func(f *fakeChat) any { return len(f.visitors) }), "the popup did not start a chat of its own")
	waitFor(t, ctx, `document.getElementById('dlg-verified').textContent.trim() === 'Identità verificata: Mario Rossi'`, inFrame)
	// A reconnection on purpose is not news: no "lost" or "restored" banner.
	waitFor(t, ctx, `document.getElementById('dlg-connection').textContent === ''`, inFrame, chromedp.WithPollingTimeout(100*time.Millisecond))
}
