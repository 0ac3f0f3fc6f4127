package widget_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/channels/webchat/widget"
	"github.com/dialogo-pa/dialogo/internal/browsertest"
	"github.com/dialogo-pa/dialogo/knowledge"
)

func TestSourcePageAccessibility(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ingest(t, e.tenant.ID, knowledge.Source{Name: cieName, Format: knowledge.Markdown, Body: cieSource}, time.Time{})
	b := browsertest.Start(t)
	page := e.url + widget.SourcePath(e.tenant.Slug, cieName)

	for _, lang := range []string{"it", "en"} {
		t.Run(lang, func(t *testing.T) {
			ctx := b.NewUser(t)
			errs := browsertest.WatchErrors(ctx, t)
			do(t, ctx, chromedp.Navigate(page+"?lang="+lang))
			waitFor(t, ctx, `document.getElementById('dlg-source-title')`)
			require.Equal(t, "Carta d'identità elettronica", eval[string](t, ctx, `document.getElementById('dlg-source-title').textContent`))
			require.Equal(t, []string{"Cosa serve", "Come fare", "Quanto costa"},
				eval[[]string](t, ctx, `[...document.querySelectorAll('article h2, article h3')].map(h => h.textContent)`))
			require.Equal(t, 0, eval[int](t, ctx, `document.querySelectorAll('article script, article b').length`),
				"the text that looks like HTML is text")
			browsertest.Axe(ctx, t)
			screenshot(t, ctx, "source-"+lang+"-desktop.png")

			// Keyboard only: the skip link comes first.
			do(t, ctx, chromedp.KeyEvent(kb.Tab))
			require.Equal(t, map[string]string{"it": "Vai al contenuto", "en": "Skip to the content"}[lang],
				eval[string](t, ctx, `document.activeElement.textContent`))

			do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
			browsertest.Axe(ctx, t)
			require.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), 390, "no sideways scrolling on a phone")
			screenshot(t, ctx, "source-"+lang+"-phone.png")
			errs.Check(t)
		})
	}

	t.Run("not found", func(t *testing.T) {
		ctx := b.NewUser(t)
		do(t, ctx, chromedp.Navigate(e.url+widget.SourcePath(e.tenant.Slug, "nessuna.md")))
		waitFor(t, ctx, `document.querySelector('h1')`)
		browsertest.Axe(ctx, t)
	})
}
