// Package web is Dialogo's HTTP side: the staff JSON API under /api/v1
// (described by the OpenAPI document at /api/openapi.json), the health check and
// the Prometheus metrics, and the server that the other areas of the site (the
// console, the web chat) plug their routes into.
//
// Handlers return an error instead of writing one: a single adapter turns the
// error into an RFC 9457 problem-details response, and the mapping from the
// error kinds of crm (and the few of this package) to HTTP status codes lives in
// problem.go alone.
package web

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/web/static"
)

// Config is what the web server needs.
type Config struct {
	// Store is the CRM every handler works on.
	Store *crm.Store
	// Pool is pinged by GET /healthz, and holds the knowledge base that
	// DELETE /api/v1/knowledge/sources removes from.
	Pool *pgxpool.Pool
	// Logger receives the access log and the errors behind 500 responses;
	// nil means slog.Default().
	Logger *slog.Logger
	// Registry receives the HTTP metrics and is what GET /metrics exposes;
	// nil means a new registry of the server's own.
	Registry *prometheus.Registry
	// SecureCookies marks the session cookie Secure: set it whenever the
	// server is reached over HTTPS, which is always outside development.
	SecureCookies bool
	// Logins throttles failed sign-ins; share it with the console's login
	// form. Nil: one of the server's own.
	Logins *LoginLimiter
	// Areas are the other parts of the site (the console, the web chat), each
	// registering its routes on the server's mux, so that they share the request
	// ids, the access log, the metrics and the panic recovery.
	Areas []Area
}

// Area is a part of the site with routes of its own. Pages that serve HTML set
// their own Content-Security-Policy header, replacing the API's.
type Area interface {
	Register(mux *http.ServeMux)
}

// Server serves Dialogo over HTTP. It keeps no state that matters across
// instances: sessions live in the database, and the only in-memory state, the
// login limiter, is a per-instance safeguard.
type Server struct {
	store         *crm.Store
	pool          *pgxpool.Pool
	log           *slog.Logger
	registry      *prometheus.Registry
	secureCookies bool

	logins  *LoginLimiter
	metrics *httpMetrics
	handler http.Handler
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	s := &Server{
		store:         cfg.Store,
		pool:          cfg.Pool,
		log:           cfg.Logger,
		registry:      cfg.Registry,
		secureCookies: cfg.SecureCookies,
		logins:        cfg.Logins,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.logins == nil {
		s.logins = NewLoginLimiter()
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	s.metrics = newHTTPMetrics(s.registry)

	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.method+" "+rt.path, s.endpoint(rt))
	}
	// Anything else under /api/ gets a problem (404, or 405 with Allow) rather
	// than the mux's plain-text page.
	mux.Handle(apiFallbackPattern, s.apiFallback(mux))
	mux.Handle("GET "+static.Prefix, static.Handler())
	// The site's root is for staff: citizens arrive at /chat/{ente} from their
	// Comune's website.
	mux.Handle("GET /{$}", http.RedirectHandler("/console", http.StatusFound))
	for _, a := range cfg.Areas {
		a.Register(mux)
	}
	s.handler = s.observe(securityHeaders(s.recoverPanics(mux)))
	return s
}

// Handler returns the HTTP handler of the whole server.
func (s *Server) Handler() http.Handler { return s.handler }

// requestInfo travels in the request's context so that inner layers can tell
// the outer ones what they learnt.
type requestInfo struct {
	id string
}

type ctxKey int

const (
	requestInfoKey ctxKey = iota
	authKey
)

func requestInfoOf(r *http.Request) *requestInfo {
	if ri, ok := r.Context().Value(requestInfoKey).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush and Hijack keep streaming responses and websockets working through the
// recorder for code that asserts the interfaces instead of using
// http.ResponseController.
func (w *statusRecorder) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}

// observe gives each request an id (returned in X-Request-Id and quoted in
// problems and logs), and records the access log line and the metrics. It logs
// the route pattern, never the path or query (a search by codice fiscale puts
// personal data there), nor bodies or headers.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{id: newRequestID()}
		w.Header().Set("X-Request-Id", ri.id)
		rec := &statusRecorder{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey, ri))
		next.ServeHTTP(rec, r)

		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		// The mux sets Pattern on the request it was given, which is r.
		pattern := r.Pattern
		if pattern == "" {
			pattern = "unmatched"
		}
		elapsed := time.Since(start)
		s.metrics.observe(pattern, rec.status, elapsed)
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(r.Context(), level, "http request",
			slog.String("request_id", ri.id),
			slog.String("method", r.Method),
			slog.String("pattern", pattern),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", elapsed))
	})
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return hex.EncodeToString(b)
}

// securityHeaders sets the headers every response carries. The server only
// answers JSON and text, so the content security policy forbids everything.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panicking handler into a logged 500 problem, unless the
// response has already started, in which case the connection is dropped.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := w.(*statusRecorder)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // the sentinel is compared, never wrapped
				panic(v)
			}
			err := fmt.Errorf("panic: %v\n%s", v, debug.Stack())
			if rec != nil && rec.status != 0 {
				s.log.ErrorContext(r.Context(), "panic after the response started",
					"request_id", requestInfoOf(r).id, "error", err)
				panic(http.ErrAbortHandler)
			}
			s.writeProblem(w, r, err)
		}()
		next.ServeHTTP(w, r)
	})
}

// apiFallbackPattern catches the requests under /api/ that no route takes.
const apiFallbackPattern = "/api/"

// apiFallback answers 405 with an Allow header when the path exists with other
// methods, and 404 otherwise, both as problems.
func (s *Server) apiFallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, p := mux.Handler(probe); p != "" && p != apiFallbackPattern {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			s.writeProblem(w, r, &methodNotAllowedError{allow: allow})
			return
		}
		s.writeProblem(w, r, fmt.Errorf("%w: no API route %s", errNoRoute, r.URL.Path))
	})
}

// httpMetrics are the request counter and latency histogram, labelled by route
// pattern (never the raw path, which would make a series per id) and status.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dialogo_http_requests_total",
			Help: "HTTP requests served, by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dialogo_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "code"}),
	}
	m.requests = registerOrReuse(reg, m.requests)
	m.duration = registerOrReuse(reg, m.duration)
	return m
}

// registerOrReuse registers c, or returns the collector already registered
// under the same name: two servers may share one registry (tests, or a second
// listener in the same process).
func registerOrReuse[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(fmt.Sprintf("web: registering metrics: %v", err))
	}
	return c
}

func (m *httpMetrics) observe(pattern string, status int, d time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(pattern, code).Inc()
	m.duration.WithLabelValues(pattern, code).Observe(d.Seconds())
}
