package widget_test

import (
	"compress/gzip"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var r io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(res.Body)
		require.NoError(t, err)
		r = zr
	}
	body, err := io.ReadAll(r)
	require.NoError(t, err)
	return res, string(body)
}

func TestUnknownEnteIsANotFoundPageInItalian(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	res, body := get(t, e.url+"/chat/nessun-comune")
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	require.Contains(t, body, `<html lang="it">`)
	require.Contains(t, body, "Pagina non trovata")
	require.Contains(t, res.Header.Get("Content-Security-Policy"), "frame-ancestors 'self'")

	res, body = get(t, e.url+"/chat/nessun-comune?lang=en")
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	require.Contains(t, body, "Page not found")

	res, _ = get(t, e.url+"/chat/nessun-comune/widget.js")
	require.Equal(t, http.StatusNotFound, res.StatusCode)
}

// scriptTag matches every script element's start tag.
var scriptTag = regexp.MustCompile(`<script[^>]*>`)

func TestChatPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	res, body := get(t, e.chatURL(""))
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))

	t.Run("is Italian first, with the ente's name and Bootstrap Italia's header", func(t *testing.T) {
		require.Contains(t, body, `<html lang="it">`)
		require.Contains(t, body, "<title>Assistenza – Comune di Milano</title>")
		require.Contains(t, body, `<div class="it-brand-title">Comune di Milano</div>`)
		require.Contains(t, body, `hreflang="en"`)
	})
	t.Run("has an accessible log and a labelled message box", func(t *testing.T) {
		require.Contains(t, body, `role="log" aria-live="polite"`)
		require.Contains(t, body, `<label for="dlg-input" class="visually-hidden">Il tuo messaggio</label>`)
		require.Contains(t, body, `id="dlg-connection" class="dlg-connection" role="status"`)
	})
	t.Run("allows only its own files and no inline script", func(t *testing.T) {
		csp := res.Header.Get("Content-Security-Policy")
		require.Contains(t, csp, "script-src 'self';")
		require.Contains(t, csp, "frame-ancestors 'self'")
		require.NotContains(t, csp, "unsafe")
		require.Equal(t, "SAMEORIGIN", res.Header.Get("X-Frame-Options"))
		for _, tag := range scriptTag.FindAllString(body, -1) {
			if !strings.Contains(tag, ` src="`) {
				require.Contains(t, tag, `type="application/json"`, "an inline script: %s", tag)
			}
		}
	})
	t.Run("gives the client its configuration", func(t *testing.T) {
		cfg := clientConfig(t, body)
		require.Equal(t, e.tenant.Slug, cfg.Ente)
		require.Equal(t, "it", cfg.Lang)
		require.False(t, cfg.Embed)
		require.Equal(t, "/chat/"+e.tenant.Slug+"/ws", cfg.Socket)
		require.Equal(t, "/chat/"+e.tenant.Slug+"/attachments", cfg.Attachments)
		require.Equal(t, "Connessione persa, riprovo…", cfg.Texts["lost"])
		require.NotEmpty(t, cfg.BIVersion)
	})
	t.Run("has no login button unless the login is configured", func(t *testing.T) {
		require.NotContains(t, body, "Accedi con SPID/CIE")
		require.False(t, clientConfig(t, body).Login)
	})
}

func TestChatPageInEnglish(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLogin)

	res, body := get(t, e.chatURL("lang=en"))
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, `<html lang="en">`)
	require.Contains(t, body, "Write to the Comune")
	require.Contains(t, body, "Log in with SPID/CIE")
	require.Equal(t, "Connection lost, retrying…", clientConfig(t, body).Texts["lost"])
	require.Equal(t, "en", clientConfig(t, body).Lang)
	require.Contains(t, res.Header.Values("Set-Cookie")[0], "dialogo_lang=en")

	// The choice is remembered, and the browser's language comes next.
	_, body = get(t, e.chatURL(""), "Cookie", "dialogo_lang=en")
	require.Contains(t, body, `<html lang="en">`)
	_, body = get(t, e.chatURL(""), "Accept-Language", "en-GB,en;q=0.9")
	require.Contains(t, body, `<html lang="en">`)
}

func TestEmbedPageMayBeFramedByAnySite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	res, body := get(t, e.chatURL("embed=1&lang=it"))
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, res.Header.Get("Content-Security-Policy"), "frame-ancestors *")
	require.Empty(t, res.Header.Get("X-Frame-Options"))
	require.Empty(t, res.Header.Values("Set-Cookie"), "a framed page sets no cookie")
	require.NotContains(t, body, "it-header-wrapper", "no page chrome in the frame")
	require.Contains(t, body, `id="dlg-close"`)
	require.Contains(t, body, `href="?embed=1&amp;lang=en"`)
	require.True(t, clientConfig(t, body).Embed)
}

func TestEmbedScript(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	res, body := get(t, e.chatURL("")+"/widget.js")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/javascript; charset=utf-8", res.Header.Get("Content-Type"))
	require.Equal(t, "public, max-age=300", res.Header.Get("Cache-Control"))
	require.Equal(t, "cross-origin", res.Header.Get("Cross-Origin-Resource-Policy"), "other sites load it")
	etag := res.Header.Get("ETag")
	require.NotEmpty(t, etag)
	require.NotContains(t, body, "/*@config*/")
	require.Contains(t, body, `"ente":"`+e.tenant.Slug+`"`)
	require.Contains(t, body, `"page":"/chat/`+e.tenant.Slug+`"`)
	require.Contains(t, body, "Hai bisogno di aiuto?")
	require.Contains(t, body, "Need help?")

	res, _ = get(t, e.chatURL("")+"/widget.js", "If-None-Match", etag)
	require.Equal(t, http.StatusNotModified, res.StatusCode)
}

func TestAssetsAreServedUnderTheirHash(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, page := get(t, e.chatURL(""))
	src := regexp.MustCompile(`src="(/chat-assets/[0-9a-f]{16}/chat\.js)"`).FindStringSubmatch(page)
	require.NotNil(t, src, "the page loads chat.js from its hashed address")

	res, body := get(t, e.url+src[1], "Accept-Encoding", "gzip")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/javascript; charset=utf-8", res.Header.Get("Content-Type"))
	require.Equal(t, "public, max-age=31536000, immutable", res.Header.Get("Cache-Control"))
	require.Equal(t, "gzip", res.Header.Get("Content-Encoding"))
	require.Contains(t, body, "docs/chat-protocol.md")

	// A page of another release asks for another hash: it gets today's file.
	res, _ = get(t, e.url+"/chat-assets/0123456789abcdef/chat.js")
	require.Equal(t, http.StatusFound, res.StatusCode)
	require.Equal(t, src[1], res.Header.Get("Location"))

	res, _ = get(t, e.url+"/chat-assets/0123456789abcdef/nothing.js")
	require.Equal(t, http.StatusNotFound, res.StatusCode)

	fonts := regexp.MustCompile(`href="(/chat-assets/[0-9a-f]{16}/fonts\.css)"`).FindStringSubmatch(page)
	require.NotNil(t, fonts)
	res, body = get(t, e.url+fonts[1])
	require.Equal(t, "text/css; charset=utf-8", res.Header.Get("Content-Type"))
	require.Contains(t, body, `font-family:"Titillium Web"`)
	require.Contains(t, body, ".woff2")
}

// client is the configuration the page gives chat.js.
type client struct {
	Ente        string            `json:"ente"`
	Lang        string            `json:"lang"`
	Embed       bool              `json:"embed"`
	Login       bool              `json:"login"`
	Socket      string            `json:"socket"`
	Attachments string            `json:"attachments"`
	BIVersion   string            `json:"bootstrap_italia_version"`
	Texts       map[string]string `json:"texts"`
}

var configBlock = regexp.MustCompile(`(?s)<script type="application/json" id="dlg-config">(.*?)</script>`)

func clientConfig(t *testing.T, page string) client {
	t.Helper()
	m := configBlock.FindStringSubmatch(page)
	require.NotNil(t, m, "no configuration block")
	var c client
	require.NoError(t, json.Unmarshal([]byte(html.UnescapeString(m[1])), &c), m[1])
	return c
}
