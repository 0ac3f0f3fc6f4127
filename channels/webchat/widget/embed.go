package widget

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/dialogo-pa/dialogo/web/i18n"
)

// embedSource is the embed script; embedScript fills in the ente's settings.
//
//go:embed widget.js
var embedSource []byte

// configPlaceholder is the expression in widget.js that the ente's settings,
// as a JSON object, replace.
var configPlaceholder = []byte("/*@config*/ null")

// embedMaxAge is how long browsers may use the embed script before asking
// again: municipal sites include it at a fixed address, so a new release
// reaches them within this time (and the ETag makes asking cheap).
const embedMaxAge = "public, max-age=300"

// embedConfig is what widget.js knows about its ente.
type embedConfig struct {
	Ente  string                       `json:"ente"`
	Page  string                       `json:"page"` // path of the chat page
	Texts map[string]map[string]string `json:"texts"`
}

// embedScript serves GET /chat/{ente}/widget.js.
func (w *Widget) embedScript(rw http.ResponseWriter, r *http.Request) {
	tenant, err := w.store.TenantBySlug(r.Context(), r.PathValue("ente"))
	if err != nil {
		status := statusOf(err)
		if status >= 500 {
			w.log.ErrorContext(r.Context(), "web chat embed script", "error", err)
		}
		http.Error(rw, http.StatusText(status), status)
		return
	}
	cfg := embedConfig{
		Ente:  tenant.Slug,
		Page:  "/chat/" + url.PathEscape(tenant.Slug),
		Texts: map[string]map[string]string{},
	}
	for _, l := range i18n.Languages {
		cfg.Texts[l] = map[string]string{
			"launcher": texts.T(l, "embed.launcher"),
			"title":    texts.T(l, "embed.title", tenant.Name),
			"unread":   texts.T(l, "embed.unread"),
		}
	}
	js, err := json.Marshal(cfg) // escapes <, > and & too, so it is safe in a script
	if err != nil {
		w.log.ErrorContext(r.Context(), "web chat embed script", "error", err)
		http.Error(rw, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	body := bytes.Replace(embedSource, configPlaceholder, js, 1)
	sum := sha256.Sum256(body)

	h := rw.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", embedMaxAge)
	h.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	// Other sites load it: the server's same-origin default would make
	// browsers refuse it. Access-Control-Allow-Origin lets a site load it with
	// crossorigin="anonymous" to see its errors.
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("Access-Control-Allow-Origin", "*")
	http.ServeContent(rw, r, "", time.Time{}, bytes.NewReader(body))
}
