package browsertest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/internal/browsertest"
)

// pages serves each page of the map at its key.
func pages(t *testing.T, m map[string]string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for path, body := range m {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, body)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// page wraps a body in a complete document; the icon keeps Chromium from
// asking for /favicon.ico.
func page(title, body string) string {
	return `<!doctype html><html lang="it"><head><meta charset="utf-8"><title>` + title +
		`</title><link rel="icon" href="data:,"></head><body>` + body + `</body></html>`
}

const accessible = `<header><p>Comune di Milano</p></header>
<main><h1>Assistenza</h1>
<p style="color:#1a1a1a;background:#fff">Scrivi il tuo messaggio.</p>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="Logo del Comune" width="10" height="10">
<label for="m">Messaggio</label> <input id="m" type="text">
<button type="button">Invia</button></main>`

const inaccessible = `<main><h1>Assistenza</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="10" height="10">
<p style="color:#bbb;background:#fff">Testo poco leggibile</p></main>`

func TestAxePassesAnAccessiblePage(t *testing.T) {
	t.Parallel()
	srv := pages(t, map[string]string{"/": page("Assistenza", accessible)})
	ctx := browsertest.New(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL)))

	require.Empty(t, browsertest.AxeViolations(ctx, t))
	browsertest.Axe(ctx, t)
}

func TestAxeFindsViolations(t *testing.T) {
	t.Parallel()
	srv := pages(t, map[string]string{"/": page("Assistenza", inaccessible)})
	ctx := browsertest.New(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL)))

	violations := browsertest.AxeViolations(ctx, t)
	var ids []string
	for _, v := range violations {
		ids = append(ids, v.ID)
	}
	require.Contains(t, ids, "image-alt")
	require.Contains(t, ids, "color-contrast")

	t.Run("Axe fails the test, naming each violation and its elements", func(t *testing.T) {
		rec := &recorder{TB: t}
		browsertest.Axe(ctx, rec)
		require.True(t, rec.failed)
		msg := strings.Join(rec.messages, "\n")
		require.Contains(t, msg, "image-alt (critical): Images must have alternative text")
		require.Contains(t, msg, "color-contrast (serious)")
		require.Contains(t, msg, "[img]")
		require.Contains(t, msg, "Testo poco leggibile")
	})
}

func TestUsersDoNotShareCookiesOrStorage(t *testing.T) {
	t.Parallel()
	srv := pages(t, map[string]string{"/": page("Pagina", "<main><h1>Pagina</h1></main>")})
	b := browsertest.Start(t)
	alice, bob := b.NewUser(t), b.NewUser(t)

	require.NoError(t, chromedp.Do(alice, chromedp.Navigate(srv.URL),
		chromedp.Evaluate[chromedp.Void](`document.cookie = "who=alice"; localStorage.setItem("who", "alice")`)))
	require.NoError(t, chromedp.Do(bob, chromedp.Navigate(srv.URL)))

	cookie, err := chromedp.Run(bob, chromedp.Evaluate[string](`document.cookie`))
	require.NoError(t, err)
	require.Empty(t, cookie)
	stored, err := chromedp.Run(bob, chromedp.Evaluate[string](`String(localStorage.getItem("who"))`))
	require.NoError(t, err)
	require.Equal(t, "null", stored)

	cookie, err = chromedp.Run(alice, chromedp.Evaluate[string](`document.cookie`))
	require.NoError(t, err)
	require.Equal(t, "who=alice", cookie)
}

func TestFakeMediaGivesACameraAndAMicrophone(t *testing.T) {
	t.Parallel()
	srv := pages(t, map[string]string{"/": page("Video", "<main><h1>Video</h1></main>")})
	ctx := browsertest.New(t, browsertest.FakeMedia())
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL)))

	kinds, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(async () => {
		const s = await navigator.mediaDevices.getUserMedia({video: true, audio: true});
		const kinds = s.getTracks().map(t => t.kind).sort();
		s.getTracks().forEach(t => t.stop());
		return kinds;
	})()`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Equal(t, []string{"audio", "video"}, kinds)
}

func TestWatchErrors(t *testing.T) {
	t.Parallel()
	srv := pages(t, map[string]string{
		"/clean": page("Pulita", `<main><h1>Pulita</h1></main>`),
		"/broken": page("Rotta", `<main><h1>Rotta</h1><img src="/missing.png" alt="x">
			<script>console.error("qualcosa", 42); throw new Error("guasto")</script></main>`),
	})
	ctx := browsertest.New(t)

	errs := browsertest.WatchErrors(ctx, t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/clean")))
	require.Empty(t, errs.All())
	errs.Check(t)

	errs = browsertest.WatchErrors(ctx, t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/broken")))
	all := strings.Join(errs.All(), "\n")
	require.Contains(t, all, "HTTP 404 "+srv.URL+"/missing.png")
	require.Contains(t, all, "console.error: qualcosa 42")
	require.Contains(t, all, "Error: guasto")

	rec := &recorder{TB: t}
	errs.Check(rec)
	require.True(t, rec.failed)
}

func TestScreenshotWritesAPNG(t *testing.T) {
	t.Parallel()
	srv := pages(t, map[string]string{"/": page("Foto", "<main><h1>Foto</h1></main>")})
	ctx := browsertest.New(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL)))

	path := filepath.Join(t.TempDir(), "shots", "page.png")
	browsertest.Screenshot(ctx, t, path)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")))
}

func TestMissingChromium(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-chromium")
	t.Setenv("DIALOGO_CHROMIUM", missing)

	t.Run("is a skip on a developer's machine", func(t *testing.T) {
		t.Setenv("CI", "")
		rec := runRecorded(t, func(tb testing.TB) { browsertest.Start(tb) })
		require.True(t, rec.skipped)
		require.False(t, rec.failed)
		require.Contains(t, strings.Join(rec.messages, "\n"), "install Debian's chromium package")
	})
	t.Run("is a failure in CI", func(t *testing.T) {
		t.Setenv("CI", "true")
		rec := runRecorded(t, func(tb testing.TB) { browsertest.Start(tb) })
		require.True(t, rec.failed)
		require.False(t, rec.skipped)
	})
}

// recorder is a testing.TB that notes failures and skips instead of acting on
// them, for the tests of what the package does to a test.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	failed   bool
	skipped  bool
	messages []string
}

func (r *recorder) note(failed, skipped bool, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = r.failed || failed
	r.skipped = r.skipped || skipped
	r.messages = append(r.messages, fmt.Sprint(args...))
}

func (r *recorder) Helper()           {}
func (r *recorder) Error(args ...any) { r.note(true, false, args...) }
func (r *recorder) Errorf(format string, args ...any) {
	r.note(true, false, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatal(args ...any) { r.note(true, false, args...); runtime.Goexit() }
func (r *recorder) Fatalf(format string, args ...any) {
	r.note(true, false, fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (r *recorder) Skip(args ...any) { r.note(false, true, args...); runtime.Goexit() }
func (r *recorder) Skipf(format string, args ...any) {
	r.note(false, true, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

// runRecorded runs f with a recorder on its own goroutine, which Fatal and
// Skip end as they end a test's.
func runRecorded(t *testing.T, f func(testing.TB)) *recorder {
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(rec)
	}()
	<-done
	return rec
}
