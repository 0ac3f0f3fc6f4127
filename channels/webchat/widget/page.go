package widget

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/knowledge"
	"github.com/dialogo-pa/dialogo/web/i18n"
	"github.com/dialogo-pa/dialogo/web/static"
)

//go:embed templates
var templateFiles embed.FS

var templates = template.Must(template.ParseFS(templateFiles, "templates/*.html"))

// The pages' content security policy: everything from Dialogo itself, no
// inline script (the client reads its configuration from a JSON data block),
// and the images and the icon font that Bootstrap Italia's stylesheet carries
// as data: URIs. Only the embed page may be framed by other sites.
const (
	cspBase       = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
	cspStandalone = cspBase + "frame-ancestors 'self'"
	cspEmbed      = cspBase + "frame-ancestors *"
)

// pageView is what the chat page, the source page and the error page show.
type pageView struct {
	Lang      string
	Tenant    crm.Tenant // zero on an error page that knows no ente
	Embed     bool
	Login     bool
	Assistant bool // the ente's virtual assistant answers new conversations
	Languages []langLink
	Assets    pageAssets
	// Client is the chat client's configuration, read by chat.js from a JSON
	// data block.
	Client *clientConfig
	// Status is the HTTP status of an error page, and ErrorText the key of
	// its explanation.
	Status    int
	ErrorText string
	// Source is what a source page shows.
	Source *sourceView
	// CacheControl is the page's Cache-Control header; empty means no-cache.
	CacheControl string
}

// T returns the text of key in the page's language.
func (v pageView) T(key string, args ...any) string { return texts.T(v.Lang, key, args...) }

type langLink struct {
	Lang, Name, Label, URL string
	Current                bool
}

type pageAssets struct {
	BootstrapItalia, Dialogo, Fonts, Chat, Script, Sprites string
}

// clientConfig is read by chat.js. Its texts are the catalog's "js." keys,
// without the prefix, in the page's language.
type clientConfig struct {
	Ente         string            `json:"ente"`
	Name         string            `json:"name"`
	Lang         string            `json:"lang"`
	Embed        bool              `json:"embed"`
	Login        bool              `json:"login"`
	Assistant    bool              `json:"assistant"`   // the ente's assistant answers new conversations
	Socket       string            `json:"socket"`      // path of the websocket
	Attachments  string            `json:"attachments"` // upload path
	LoginURL     string            `json:"login_url"`   // without the visitor token
	Sprites      string            `json:"sprites"`
	BIVersion    string            `json:"bootstrap_italia_version"`
	Texts        map[string]string `json:"texts"`
	AcceptedFile string            `json:"accept"`
}

// acceptedFiles is what the file picker offers; the server decides by content.
const acceptedFiles = "image/png,image/jpeg,image/gif,image/webp,application/pdf"

func (w *Widget) pageAssets() pageAssets {
	return pageAssets{
		BootstrapItalia: static.URL("vendor/bootstrap-italia/css/bootstrap-italia.min.css"),
		Dialogo:         static.URL("app/dialogo.css"),
		Sprites:         static.URL("vendor/bootstrap-italia/svg/sprites.svg"),
		Fonts:           w.assets.url(fontsCSS),
		Chat:            w.assets.url("chat.css"),
		Script:          w.assets.url("chat.js"),
	}
}

// chatPage serves GET /chat/{ente}.
func (w *Widget) chatPage(rw http.ResponseWriter, r *http.Request) error {
	lang := i18n.Lang(r)
	tenant, err := w.store.TenantBySlug(r.Context(), r.PathValue("ente"))
	if err != nil {
		return err
	}
	assistant, err := w.store.AssistantSettings(r.Context(), tenant.ID)
	if err != nil {
		return err
	}
	embed := r.URL.Query().Get("embed") == "1"
	base := "/chat/" + url.PathEscape(tenant.Slug)
	assets := w.pageAssets()
	v := pageView{
		Lang:      lang,
		Tenant:    tenant,
		Embed:     embed,
		Login:     w.loginEnabled,
		Assistant: assistant.Enabled,
		Languages: languages(lang, embed),
		Assets:    assets,
		Client: &clientConfig{
			Ente:         tenant.Slug,
			Name:         tenant.Name,
			Lang:         lang,
			Embed:        embed,
			Login:        w.loginEnabled,
			Assistant:    assistant.Enabled,
			Socket:       base + "/ws",
			Attachments:  base + "/attachments",
			LoginURL:     base + "/login",
			Sprites:      assets.Sprites,
			BIVersion:    static.BootstrapItaliaVersion(),
			Texts:        texts.client(lang),
			AcceptedFile: acceptedFiles,
		},
	}
	if !embed {
		// In a frame the cookie would be a third-party one: the embed page
		// takes its language from the address only.
		i18n.Remember(rw, r, w.secureCookies)
	}
	return w.render(rw, http.StatusOK, "chat.html", v)
}

// languages returns the language switch: the same page in each language.
func languages(current string, embed bool) []langLink {
	out := make([]langLink, 0, len(i18n.Languages))
	for _, l := range i18n.Languages {
		q := url.Values{"lang": {l}}
		if embed {
			q.Set("embed", "1")
		}
		out = append(out, langLink{
			Lang:    l,
			Name:    texts.T(l, "lang.short"),
			Label:   texts.T(l, "lang.name"),
			URL:     "?" + q.Encode(),
			Current: l == current,
		})
	}
	return out
}

// errorPage renders err as a page in the request's language; only 500s are
// logged, since a mistyped ente is not news.
func (w *Widget) errorPage(rw http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status >= 500 {
		w.log.ErrorContext(r.Context(), "web chat page", "path", r.URL.Path, "error", err)
	}
	lang, embed := i18n.Lang(r), r.URL.Query().Get("embed") == "1"
	text := "error.500.text"
	switch {
	case errors.Is(err, knowledge.ErrNotFound):
		text = "error.404.source"
	case status == http.StatusNotFound:
		text = "error.404.text"
	}
	v := pageView{
		Lang:      lang,
		Status:    status,
		ErrorText: text,
		Assets:    w.pageAssets(),
		Embed:     embed,
		Languages: languages(lang, embed),
	}
	if rerr := w.render(rw, status, "error.html", v); rerr != nil {
		w.log.ErrorContext(r.Context(), "rendering the error page", "error", rerr)
		http.Error(rw, http.StatusText(status), status)
	}
}

// render writes a page with its security headers. It renders into a buffer
// first, so that a template error becomes an error page and not half a page.
func (w *Widget) render(rw http.ResponseWriter, status int, name string, v pageView) error {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, v); err != nil {
		return err
	}
	h := rw.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if v.CacheControl != "" {
		h.Set("Cache-Control", v.CacheControl)
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("Content-Language", v.Lang)
	h.Set("Vary", "Accept-Language, Cookie")
	if v.Embed {
		h.Set("Content-Security-Policy", cspEmbed)
		// frame-ancestors is what browsers obey; an X-Frame-Options from the
		// server's defaults would contradict it.
		h.Del("X-Frame-Options")
	} else {
		h.Set("Content-Security-Policy", cspStandalone)
		h.Set("X-Frame-Options", "SAMEORIGIN")
	}
	rw.WriteHeader(status)
	_, _ = rw.Write(buf.Bytes()) // an error here is a client that went away
	return nil
}
