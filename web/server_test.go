package web

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/testdb"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.anonymous().do("GET", "/healthz", nil)
	require.Equal(t, http.StatusOK, res.status)
	require.JSONEq(t, `{"status":"ok"}`, res.text())
}

func TestHealthzWithAClosedPool(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(t.Context(), testdb.URL(t))
	require.NoError(t, err)
	pool.Close()
	e := newEnv(t, func(c *Config) { c.Pool = pool })

	res := e.anonymous().do("GET", "/healthz", nil)
	require.Equal(t, http.StatusServiceUnavailable, res.status)
	var h healthResponse
	res.decode(&h)
	require.Equal(t, "unavailable", h.Status)
	require.Equal(t, "database: connection pool closed", h.Reason)
}

func TestMetricsCountRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.anonymous()
	for range 3 {
		require.Equal(t, http.StatusOK, c.do("GET", "/healthz", nil).status)
	}
	c.do("GET", "/api/v1/contacts/7", nil).requireProblem(http.StatusUnauthorized, "")

	res := c.do("GET", "/metrics", nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, res.text(), `dialogo_http_requests_total{code="200",route="GET /healthz"} 3`)
	require.Contains(t, res.text(), `dialogo_http_requests_total{code="401",route="GET /api/v1/contacts/{contact_id}"} 1`,
		"labelled by the route pattern, not the path")
	require.Contains(t, res.text(), `dialogo_http_request_duration_seconds_count{code="200",route="GET /healthz"} 3`)
}

func TestServersCanShareARegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	New(Config{Registry: reg})
	require.NotPanics(t, func() { New(Config{Registry: reg}) })
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/healthz", "/api/v1/me", "/api/v1/nowhere"} {
		res := e.anonymous().do("GET", path, nil)
		require.Equal(t, "nosniff", res.header.Get("X-Content-Type-Options"), path)
		require.Equal(t, "DENY", res.header.Get("X-Frame-Options"), path)
		require.Equal(t, "no-referrer", res.header.Get("Referrer-Policy"), path)
		require.Contains(t, res.header.Get("Content-Security-Policy"), "default-src 'none'", path)
		require.Len(t, res.header.Get("X-Request-Id"), 16, path)
	}
}

func TestPanicsBecomeProblems(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewJSONHandler(&logs, nil)), metrics: newHTTPMetrics(prometheus.NewRegistry())}
	h := s.observe(s.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret database password in a panic")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/boom", nil))

	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var p problem
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	require.Equal(t, "urn:dialogo:problem:internal", p.Type)
	require.NotContains(t, rec.Body.String(), "secret", "the real error is not shown")
	require.Contains(t, p.Detail, p.RequestID)
	require.Contains(t, logs.String(), "secret database password in a panic", "but it is logged")
	loadSpec().validate(t, "/components/schemas/Problem", rec.Body.Bytes())
}

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAccessLogKeepsSecretsOut(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	e := newEnv(t, func(c *Config) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	tn := e.newTenant("logs")
	c := e.login(tn.staff[crm.RoleOperator])
	cf := newCodiceFiscale(t)
	require.Equal(t, http.StatusOK, c.do("GET", "/api/v1/contacts?codice_fiscale="+cf, nil).status)
	cookie := c.http.Jar.Cookies(mustURL(t, e.url))[0].Value

	out := logs.String()
	var lines int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		if rec["msg"] == "http request" {
			lines++
			for _, k := range []string{"method", "pattern", "status", "duration", "request_id"} {
				require.Contains(t, rec, k)
			}
		}
	}
	require.Equal(t, 2, lines)
	require.Contains(t, out, `"pattern":"GET /api/v1/contacts"`)
	for _, secret := range []string{testPassword, cookie, c.csrf, cf} {
		require.NotContains(t, out, secret)
	}
}
