// Package console is the staff's operator console at /console: the inbox of
// conversations with its queues, the conversation with the citizen's history
// across every channel and the citizen panel (identities, consents, the
// fascicolo), the supervisor's view of queues and operators, and the
// knowledge section: the sources of the assistant's knowledge base, which
// knowledge editors upload, fetch by URL and remove, and the assistant's
// recent answers with the passages it retrieved for each.
//
// Pages are rendered on the server with html/template, in Italian or English,
// and every action is an ordinary form POST with a CSRF token that answers
// with a redirect, so that the console works without JavaScript. A small
// script, web/static/app/console.js, enhances it: it keeps a websocket open
// on GET /console/ws, through which the console learns of every change in the
// ente (new messages, assignments, typing, presence) from crm.Hub, and then
// fetches the fragments of the page that changed; it also posts the forms with
// fetch and sends the operator's typing.
//
// The console uses the API's session cookie (dialogo_session), so one login
// serves both.
package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/knowledge"
	"github.com/dialogo-pa/dialogo/web"
	"github.com/dialogo-pa/dialogo/web/i18n"
)

// Config is what the console needs.
type Config struct {
	// Store is the CRM the console works on.
	Store *crm.Store
	// Hub feeds the consoles' websockets with the events of every instance;
	// it must be running (crm.Hub.Run).
	Hub *crm.Hub
	// Logger receives the errors behind 500 pages and the websocket's
	// troubles; nil means slog.Default().
	Logger *slog.Logger
	// SecureCookies marks the cookies Secure: set it whenever the console is
	// reached over HTTPS, which is always outside development.
	SecureCookies bool
	// Logins throttles failed sign-ins; pass the API's (web.Config.Logins) so
	// that the two forms share one budget. Nil: one of the console's own.
	Logins *web.LoginLimiter
	// Pool is the database of the knowledge base, which the knowledge
	// section lists and changes. Nil: the section says it is not available.
	Pool *pgxpool.Pool
	// Embedder embeds the documents that knowledge editors upload or list by
	// URL: it must be the one the assistant searches with. Nil: the section
	// lists the sources and removes them, but adds none.
	Embedder knowledge.Embedder
	// KnowledgeClient fetches the pages of the URLs that knowledge editors
	// list. Nil: a client that reaches public addresses only, so that a URL
	// cannot make the server call its own network (loopback, private and
	// link-local addresses), and uses no proxy; pass one of your own where
	// the ente's pages are on its intranet or behind a proxy.
	KnowledgeClient *http.Client
}

// Console serves the operator console. It implements web.Area.
type Console struct {
	store  *crm.Store
	hub    *crm.Hub
	log    *slog.Logger
	secure bool

	pages  *pages
	logins *web.LoginLimiter

	pool     *pgxpool.Pool
	embedder knowledge.Embedder
	fetcher  *http.Client
}

// New returns the console. It panics if the templates do not parse, which is a
// bug caught by any test.
func New(cfg Config) *Console {
	c := &Console{
		store:  cfg.Store,
		hub:    cfg.Hub,
		log:    cfg.Logger,
		secure: cfg.SecureCookies,
		pages:  mustParsePages(),
		logins: cfg.Logins,

		pool:     cfg.Pool,
		embedder: cfg.Embedder,
		fetcher:  cfg.KnowledgeClient,
	}
	if c.fetcher == nil {
		c.fetcher = publicOnlyClient()
	}
	if c.logins == nil {
		c.logins = web.NewLoginLimiter()
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c
}

// access says who may use a route.
type access int

const (
	public     access = iota // anyone; the login page
	signedIn                 // any staff member with a session
	desk                     // operators and supervisors (and admins)
	supervisor               // supervisors (and admins)
	editor                   // knowledge editors (and admins)
	answers                  // knowledge editors and supervisors (and admins)
)

// handlerFunc is the shape of the console's handlers: they write a success,
// or return the error for serve to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request, rq *request) error

type route struct {
	pattern string
	access  access
	handle  handlerFunc
}

// routes is the console's route table.
func (c *Console) routes() []route {
	return []route{
		{"GET /console/login", public, c.loginPage},
		{"POST /console/login", public, c.login},
		{"POST /console/logout", signedIn, c.logout},
		{"GET /console/fonts.css", public, serveFontsCSS},

		{"GET /console", desk, c.inbox},
		{"GET /console/{$}", desk, redirectTo("/console")},
		{"GET /console/inbox/list", desk, c.inboxListFragment},
		{"GET /console/inbox/counts", desk, c.inboxCounts},
		{"POST /console/availability", desk, c.setAvailability},

		{"GET /console/conversations/{conversation_id}", desk, c.conversation},
		{"GET /console/conversations/{conversation_id}/messages", desk, c.conversationMessages},
		{"GET /console/conversations/{conversation_id}/summary", desk, c.conversationSummary},
		{"GET /console/conversations/{conversation_id}/deliveries", desk, c.conversationDeliveries},
		{"POST /console/conversations/{conversation_id}/reply", desk, c.reply},
		{"POST /console/conversations/{conversation_id}/take", desk, c.take},
		{"POST /console/conversations/{conversation_id}/transfer", desk, c.transfer},
		{"POST /console/conversations/{conversation_id}/tags", desk, c.setTags},
		{"POST /console/conversations/{conversation_id}/priority", desk, c.setPriority},
		{"POST /console/conversations/{conversation_id}/resolve", desk, c.resolve},
		{"POST /console/conversations/{conversation_id}/reopen", desk, c.reopen},
		{"POST /console/conversations/{conversation_id}/handback", desk, c.handBack},
		{"GET /console/conversations/{conversation_id}/fascicolo", desk, c.fascicolo},
		{"GET /console/attachments/{token}", desk, c.attachment},

		{"GET /console/supervisor", supervisor, c.supervisor},
		{"GET /console/supervisor/stats", supervisor, c.supervisorStats},

		{"GET /console/knowledge", editor, c.knowledgeSources},
		{"POST /console/knowledge/upload", editor, c.uploadSource},
		{"POST /console/knowledge/urls", editor, c.ingestURLs},
		{"POST /console/knowledge/remove", editor, c.removeSource},
		{"GET /console/knowledge/answers", answers, c.assistantAnswers},

		{"GET /console/ws", desk, c.websocket},
	}
}

// Register adds the console's routes to mux.
func (c *Console) Register(mux *http.ServeMux) {
	// Go's cross-origin protection refuses unsafe requests that a browser
	// marks as coming from another site, before the CSRF token is looked at.
	cop := http.NewCrossOriginProtection()
	for _, rt := range c.routes() {
		mux.Handle(rt.pattern, cop.Handler(c.serve(rt)))
	}
	mux.Handle("/console/", cop.Handler(c.serve(route{"", public, notFound})))
}

func notFound(http.ResponseWriter, *http.Request, *request) error {
	return fmt.Errorf("%w: no console page here", crm.ErrNotFound)
}

func redirectTo(path string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ *request) error {
		http.Redirect(w, r, path, http.StatusSeeOther)
		return nil
	}
}

// request is what the console knows about a request once serve has checked it.
type request struct {
	lang   string
	staff  crm.Staff // zero on public routes
	tenant crm.Tenant
	csrf   string // the session's CSRF token
	token  string // the session cookie's value
	// fetch is set for requests made by the console's script, which want
	// JSON or a fragment back rather than a redirect or a whole page.
	fetch bool
}

func (rq *request) actor() crm.Actor { return rq.staff.Actor() }

func (rq *request) signedIn() bool { return rq.staff.ID != 0 }

// isSupervisor tells whether the staff member may see the supervisor's view.
func (rq *request) isSupervisor() bool { return rq.staff.Actor().Has(crm.RoleSupervisor) }

// serve adapts a route to http.Handler: security headers, the session, the
// role, the CSRF token of unsafe requests, then the handler and its error.
func (c *Console) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w)
		rq := &request{lang: i18n.Lang(r), fetch: r.Header.Get(fetchHeader) != ""}
		if r.Method == http.MethodGet && r.URL.Query().Has("lang") {
			i18n.Remember(w, r, c.secure)
		}
		err := c.authorize(w, r, rt, rq)
		if err == nil {
			err = rt.handle(w, r, rq)
		}
		if err != nil {
			c.writeError(w, r, rq, err)
		}
	})
}

// fetchHeader marks the requests of console.js.
const fetchHeader = "X-Dialogo-Fetch"

// csrfField and csrfHeader carry the session's CSRF token in forms and in the
// script's requests.
const (
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// maxFormBytes bounds the body of a form POST: a reply of crm.MaxTextLen
// characters fits.
const maxFormBytes = 1 << 20

// authorize finds the session and checks the route's access and, for unsafe
// methods, the CSRF token.
func (c *Console) authorize(w http.ResponseWriter, r *http.Request, rt route, rq *request) error {
	if upload := rt.upload(); upload.limit > 0 && r.Method == http.MethodPost {
		// A form with a file: read after the session is checked.
		r.Body = http.MaxBytesReader(w, r.Body, upload.limit)
	} else if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			return fmt.Errorf("%w: the form cannot be read: %v", crm.ErrInvalid, err)
		}
	}
	if rt.access == public {
		// The login page still wants to know who is signed in already.
		if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
			if st, csrf, err := c.store.SessionStaff(r.Context(), ck.Value); err == nil {
				rq.staff, rq.csrf, rq.token = st, csrf, ck.Value
			}
		}
		return nil
	}
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return errSignedOut
	}
	st, csrf, err := c.store.SessionStaff(r.Context(), ck.Value)
	if errors.Is(err, crm.ErrNotFound) {
		return errSignedOut
	}
	if err != nil {
		return err
	}
	rq.staff, rq.csrf, rq.token = st, csrf, ck.Value
	if rq.tenant, err = c.store.Tenant(r.Context(), st.TenantID); err != nil {
		return err
	}
	switch rt.access {
	case desk:
		err = rq.actor().Require(crm.RoleOperator, crm.RoleSupervisor)
	case supervisor:
		err = rq.actor().Require(crm.RoleSupervisor)
	case editor:
		err = rq.actor().Require(crm.RoleKnowledgeEditor)
	case answers:
		err = rq.actor().Require(crm.RoleKnowledgeEditor, crm.RoleSupervisor)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errNoAccess, err)
	}
	// A file is read only once the session and the role are known.
	if upload := rt.upload(); upload.limit > 0 && r.Method == http.MethodPost {
		if err := parseUpload(r, rq.lang, upload); err != nil {
			return err
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !validCSRF(r, csrf) {
		return errBadCSRF
	}
	return nil
}

func validCSRF(r *http.Request, want string) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// The console's own error kinds; crm's kinds cover the rest.
var (
	errSignedOut = errors.New("not signed in")
	errBadCSRF   = fmt.Errorf("%w: the form's security token is missing or out of date", crm.ErrForbidden)
	errNoAccess  = errors.New("no access to this part of the console")
)

// actionError is the failure of a form POST that the operator can act on (a
// conversation already resolved, a colleague at their maximum): without
// JavaScript it is shown as a message on the page the form came back to.
type actionError struct {
	err     error
	message string // for the operator, in their language
	back    string // where to go back to
}

func (e *actionError) Error() string { return e.err.Error() }
func (e *actionError) Unwrap() error { return e.err }

// statusOf is the one place where error kinds become HTTP status codes.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errSignedOut):
		return http.StatusUnauthorized
	case errors.Is(err, crm.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, crm.ErrForbidden), errors.Is(err, errNoAccess):
		return http.StatusForbidden
	case errors.Is(err, crm.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, crm.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, errUnavailable):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// writeError renders an error: the script gets JSON, a form POST that failed
// for a reason the operator can fix goes back with a message, a signed-out
// browser goes to the login page, and anything else gets an error page.
func (c *Console) writeError(w http.ResponseWriter, r *http.Request, rq *request, err error) {
	status := statusOf(err)
	if status == http.StatusInternalServerError {
		c.log.ErrorContext(r.Context(), "console", "method", r.Method, "pattern", r.Pattern, "error", err)
	}
	var ae *actionError
	isAction := errors.As(err, &ae)
	message := c.errorMessage(rq.lang, err, status)
	if isAction && ae.message != "" {
		message = ae.message
	}
	switch {
	case rq.fetch || r.Pattern == "GET /console/ws":
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, status, map[string]string{"error": message})
	case status == http.StatusUnauthorized && r.Method == http.MethodGet:
		next := r.URL.Path
		if r.URL.RawQuery != "" {
			next += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, "/console/login?next="+url.QueryEscape(next), http.StatusSeeOther)
	case isAction && r.Method == http.MethodPost && status < 500 && status != http.StatusUnauthorized:
		c.setFlash(w, flashError, message)
		http.Redirect(w, r, ae.back, http.StatusSeeOther)
	default:
		c.renderError(w, r, rq, status, message)
	}
}

// errorMessage says what went wrong in the operator's language.
func (c *Console) errorMessage(lang string, err error, status int) string {
	switch {
	case errors.Is(err, errBadCSRF):
		return texts.T(lang, "error.csrf")
	case errors.Is(err, errNoAccess):
		return texts.T(lang, "error.no_access")
	case errors.Is(err, errKnowledgeOff):
		return texts.T(lang, "knowledge.unavailable")
	}
	var fe *crm.FieldError
	if errors.As(err, &fe) {
		return texts.T(lang, "error.invalid", fe.Field, fe.Reason)
	}
	switch status {
	case http.StatusUnauthorized:
		return texts.T(lang, "error.signed_out")
	case http.StatusNotFound:
		return texts.T(lang, "error.not_found")
	case http.StatusForbidden:
		return texts.T(lang, "error.forbidden")
	case http.StatusConflict:
		return texts.T(lang, "error.conflict")
	case http.StatusBadRequest:
		return texts.T(lang, "error.bad_request")
	}
	return texts.T(lang, "error.internal")
}

// setSecurityHeaders replaces the API's policy, which forbids everything, with
// one for pages: scripts, styles, fonts and images of our own origin only (no
// inline script or style; Bootstrap Italia's stylesheet embeds a font and
// images as data: URLs), the websocket of our own origin, forms posted only to
// ourselves, and never framed.
func setSecurityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self' data:; "+
		"img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// pathID reads a positive id from the path; anything else is not found, since
// no such page exists.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: %s %q", crm.ErrNotFound, name, r.PathValue(name))
	}
	return id, nil
}

// localPath returns p when it is a path of the console, and def otherwise, so
// that a return address from a form cannot send the browser elsewhere.
func localPath(p, def string) string {
	if (p == "/console" || strings.HasPrefix(p, "/console/") || strings.HasPrefix(p, "/console?")) &&
		!strings.Contains(p, "//") && !strings.Contains(p, `\`) {
		return p
	}
	return def
}

// Flash messages survive the redirect after a POST in a short-lived cookie.
const (
	flashCookie  = "dialogo_console_flash"
	flashSuccess = "success"
	flashError   = "danger"
)

type flash struct {
	Kind    string // success or danger, Bootstrap's alert colours
	Message string
}

func (c *Console) setFlash(w http.ResponseWriter, kind, message string) {
	v := base64.RawURLEncoding.EncodeToString([]byte(kind + "\x00" + message))
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: v, Path: "/console", MaxAge: 60,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
}

// takeFlash returns the flash message of the request, if any, and clears it.
func (c *Console) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/console", MaxAge: -1,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return nil
	}
	kind, msg, ok := strings.Cut(string(b), "\x00")
	if !ok || (kind != flashSuccess && kind != flashError) {
		return nil
	}
	return &flash{Kind: kind, Message: msg}
}

// done ends a successful POST: the script gets JSON, a browser without it is
// sent back with a message.
func (c *Console) done(w http.ResponseWriter, r *http.Request, rq *request, back, message string) error {
	if rq.fetch {
		writeJSON(w, http.StatusOK, map[string]string{"message": message})
		return nil
	}
	if message != "" {
		c.setFlash(w, flashSuccess, message)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// randomID returns an unguessable id of n random bytes, URL-safe.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// now is the console's clock.
func now() time.Time { return time.Now() }

// detached returns a context for work that must finish even though the
// request ended (the presence of a websocket that closed).
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

// errorView is the error page.
type errorView struct {
	layout
	Status  int
	Heading string
	Message string
}

func (c *Console) renderError(w http.ResponseWriter, r *http.Request, rq *request, status int, message string) {
	nav := ""
	switch {
	case rq.signedIn() && rq.actor().Has(crm.RoleOperator, crm.RoleSupervisor):
		nav = "inbox"
	case rq.signedIn() && rq.actor().Has(crm.RoleKnowledgeEditor):
		nav = "knowledge"
	}
	heading := texts.T(rq.lang, "error.heading")
	if key := "error.heading." + strconv.Itoa(status); texts[key] != nil {
		heading = texts.T(rq.lang, key)
	}
	v := errorView{layout: c.newLayout(w, r, rq, heading, nav, "error"), Status: status, Heading: heading, Message: message}
	if err := c.render(w, status, rq.lang, "error", "layout", v); err != nil {
		c.log.ErrorContext(r.Context(), "console: rendering the error page", "error", err)
		http.Error(w, message, status)
	}
}
