package static_test

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/internal/browsertest"
	"github.com/dialogo-pa/dialogo/web/static"
)

// samplePage is laid out as Dialogo's pages will be: Bootstrap Italia's
// stylesheet and ours, then at the end of the body its script bundle and the
// call that loads its fonts from FontsURL.
var samplePage = template.Must(template.New("sample").Funcs(template.FuncMap{"static": static.URL}).Parse(`<!doctype html>
<html lang="it">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Assistenza – Comune di Milano</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{static "vendor/bootstrap-italia/css/bootstrap-italia.min.css"}}">
<link rel="stylesheet" href="{{static "app/dialogo.css"}}">
</head>
<body>
<header class="it-header-wrapper">
  <div class="it-header-center-wrapper">
    <div class="container">
      <div class="it-header-center-content-wrapper">
        <div class="it-brand-wrapper">
          <a href="/">
            <svg class="icon" aria-hidden="true"><use href="{{static "vendor/bootstrap-italia/svg/sprites.svg"}}#it-pa"></use></svg>
            <div class="it-brand-text">
              <div class="it-brand-title">Comune di Milano</div>
              <div class="it-brand-tagline">Assistenza ai cittadini</div>
            </div>
          </a>
        </div>
      </div>
    </div>
  </div>
</header>
<main class="container my-5">
  <h1>Come possiamo aiutarti?</h1>
  <p class="lead">Scrivi all'assistente virtuale del Comune: ti risponde subito, e se serve ti passa un operatore.</p>
  <div class="dlg-log border rounded mb-3" role="log" aria-live="polite" aria-label="Conversazione">
    <p class="dlg-msg dlg-msg--in">Buongiorno! Sono l'assistente del Comune di Milano.</p>
    <p class="dlg-msg dlg-msg--out">Come rinnovo la carta d'identità?</p>
  </div>
  <button type="button" class="btn btn-primary">
    <svg class="icon icon-white" aria-hidden="true"><use href="{{static "vendor/bootstrap-italia/svg/sprites.svg"}}#it-comment"></use></svg>
    Scrivi all'assistente
  </button>
</main>
<script>window.BOOTSTRAP_ITALIA_VERSION = {{.Version}}; window.__PUBLIC_PATH__ = {{.Fonts}};</script>
<script src="{{static "vendor/bootstrap-italia/js/bootstrap-italia.bundle.min.js"}}"></script>
<script>bootstrap.loadFonts()</script>
</body>
</html>`))

func TestBootstrapItaliaPageInChromium(t *testing.T) {
	requireVendor(t)
	mux := http.NewServeMux()
	mux.Handle("GET "+static.Prefix, static.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		err := samplePage.Execute(w, struct{ Version, Fonts string }{static.BootstrapItaliaVersion(), static.FontsURL()})
		require.NoError(t, err)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx := browsertest.New(t)
	errs := browsertest.WatchErrors(ctx, t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL)))

	// Wait for the fonts that the page uses, then list what was loaded.
	type loaded struct {
		Version   string   `json:"version"`
		Fonts     []string `json:"fonts"`     // font faces in the "loaded" state
		Requested []string `json:"requested"` // font files fetched, with their status
		BodyFont  string   `json:"bodyFont"`
		ButtonBg  string   `json:"buttonBg"`
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[loaded](`(async () => {
		await document.fonts.ready;
		return {
			version: window.BOOTSTRAP_ITALIA_VERSION,
			fonts: [...document.fonts].filter(f => f.status === "loaded").map(f => f.family + " " + f.weight),
			requested: performance.getEntriesByType("resource")
				.filter(e => /\.woff2?$/.test(e.name))
				.map(e => new URL(e.name).pathname + " " + e.responseStatus),
			bodyFont: getComputedStyle(document.body).fontFamily,
			buttonBg: getComputedStyle(document.querySelector(".btn-primary")).backgroundColor,
		};
	})()`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)

	require.Equal(t, static.BootstrapItaliaVersion(), got.Version)
	require.True(t, strings.HasPrefix(got.BodyFont, `"Titillium Web"`), got.BodyFont)
	require.Contains(t, got.Fonts, "Titillium Web 400")
	require.Contains(t, got.Fonts, "Titillium Web 600") // the headings
	require.NotEmpty(t, got.Requested)
	for _, r := range got.Requested {
		require.True(t, strings.HasPrefix(r, static.FontsURL()+"/"), r)
		require.True(t, strings.HasSuffix(r, ".woff2 200"), r)
	}
	require.Equal(t, "rgb(0, 102, 204)", got.ButtonBg) // Bootstrap Italia's primary blue

	errs.Check(t)
	browsertest.Axe(ctx, t)

	if dir := os.Getenv("DIALOGO_SCREENSHOTS"); dir != "" {
		browsertest.Screenshot(ctx, t, filepath.Join(dir, "bootstrap-italia-sample.png"))
	}
}
