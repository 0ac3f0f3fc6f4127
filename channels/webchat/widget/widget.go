// Package widget is the citizen's side of the web chat: the chat page that a
// Comune links to or frames, and the embed script that municipal websites
// include with one <script> tag. The page runs the chat client (assets/chat.js),
// which speaks docs/chat-protocol.md over the websocket that package webchat
// serves next to these routes:
//
//	GET /chat/{ente}            the chat page; ?embed=1 is the page the embed
//	                            script frames, without the page chrome
//	GET /chat/{ente}/widget.js  the embed script, at a stable address
//	GET /chat/{ente}/fonti/{name...}  a source of the knowledge base as the
//	                            virtual assistant reads it, for the sources
//	                            without an address of their own (SourcePath)
//	GET /chat-assets/{hash}/{name}  the page's own script and styles, under
//	                            content-hashed addresses cached for ever
//
// Bootstrap Italia itself comes from package static, which the server mounts
// at static.Prefix.
package widget

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/knowledge"
)

// Config is what the widget needs.
type Config struct {
	// Store finds the ente named in the address.
	Store *crm.Store
	// Pool is the database of the knowledge base, whose sources the source
	// pages show. Nil: the pool of Store.
	Pool *pgxpool.Pool
	// LoginEnabled shows "Accedi con SPID/CIE", which leads to
	// /chat/{ente}/login?visitor=<token> (served by package webchat).
	LoginEnabled bool
	// SecureCookies marks the language cookie Secure, as for the rest of the
	// site: set it whenever Dialogo is reached over HTTPS.
	SecureCookies bool
	// Logger receives the errors behind 500 pages; nil means slog.Default().
	Logger *slog.Logger
}

// Widget serves the chat page, the embed script and their assets. It
// implements web.Area.
type Widget struct {
	store         *crm.Store
	pool          *pgxpool.Pool
	loginEnabled  bool
	secureCookies bool
	log           *slog.Logger
	assets        *assetSet
}

// New builds the widget. It reads its embedded assets and Bootstrap Italia's
// font list from package static, so it panics if the binary was built without
// them, as any page would fail.
func New(cfg Config) *Widget {
	w := &Widget{
		store:         cfg.Store,
		pool:          cfg.Pool,
		loginEnabled:  cfg.LoginEnabled,
		secureCookies: cfg.SecureCookies,
		log:           cfg.Logger,
		assets:        loadAssets(),
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	if w.pool == nil && cfg.Store != nil {
		// A store made by crm.NewStore runs on a pool.
		w.pool, _ = cfg.Store.DB().(*pgxpool.Pool)
	}
	return w
}

// Register adds the widget's routes to mux.
func (w *Widget) Register(mux *http.ServeMux) {
	mux.Handle("GET /chat/{ente}", w.page(w.chatPage))
	mux.Handle("GET /chat/{ente}/widget.js", http.HandlerFunc(w.embedScript))
	mux.Handle("GET /chat/{ente}/fonti/{name...}", w.page(w.sourcePage))
	mux.Handle("GET "+assetPrefix+"{hash}/{name}", http.HandlerFunc(w.assets.serveHTTP))
}

// pageHandler is a handler of an HTML page that returns its error instead of
// writing it; page turns the error into an error page.
type pageHandler func(w http.ResponseWriter, r *http.Request) error

func (w *Widget) page(h pageHandler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if err := h(rw, r); err != nil {
			w.errorPage(rw, r, err)
		}
	})
}

// statusOf is the one mapping from errors to HTTP status codes in this
// package: an ente or a source of the knowledge base that does not exist is a
// 404, anything else is our fault.
func statusOf(err error) int {
	if errors.Is(err, crm.ErrNotFound) || errors.Is(err, knowledge.ErrNotFound) {
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}
