package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/testdb"
)

// testPassword is every test staff member's password.
const testPassword = "una password lunga abbastanza"

// env is what an API test needs: a server on the package's test database, and
// the store behind it to build fixtures with.
type env struct {
	t        *testing.T
	store    *crm.Store
	pool     *pgxpool.Pool // the server's, for the knowledge base, which has no store
	server   *Server
	url      string
	registry *prometheus.Registry
}

type envOption func(*Config)

// newEnv starts a server of its own for the test. Tests share the database, so
// each makes its own tenants.
func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	pool := testdb.New(t)
	cfg := Config{
		Store:    crm.NewStore(pool),
		Pool:     pool,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registry: prometheus.NewRegistry(),
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := New(cfg)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return &env{t: t, store: cfg.Store, pool: cfg.Pool, server: s, url: ts.URL, registry: cfg.Registry}
}

// tenant is an ente made for one test, with one staff member per role and a team.
type tenant struct {
	crm.Tenant
	team  crm.Team
	staff map[crm.Role]crm.Staff
}

// newTenant makes an ente with a unique slug. Marker is put in the names of its
// team and staff, so that a test can look for it where it must not appear.
func (e *env) newTenant(marker string) tenant {
	t := e.t
	t.Helper()
	ctx := context.Background()
	slug := "t-" + randomHex(6)
	tn, err := e.store.EnsureTenant(ctx, slug, "Comune di prova "+marker, newCreditorFiscalCode(t))
	require.NoError(t, err)
	team, err := e.store.EnsureTeam(ctx, tn.ID, "urp", "URP "+marker)
	require.NoError(t, err)
	out := tenant{Tenant: tn, team: team, staff: map[crm.Role]crm.Staff{}}
	for _, role := range crm.Roles {
		st, err := e.store.EnsureStaff(ctx, tn.ID, crm.StaffInput{
			Email:    string(role) + "." + slug + "@example.org",
			Name:     "Staff " + string(role) + " " + marker,
			Roles:    []crm.Role{role},
			Password: testPassword,
		})
		require.NoError(t, err)
		require.NoError(t, e.store.AddTeamMember(ctx, tn.ID, team.ID, st.ID))
		out.staff[role] = st
	}
	return out
}

// citizenWrites ingests a message from a citizen, as a channel would.
func (e *env) citizenWrites(tn tenant, from crm.IdentityClaim, text string) crm.IngestResult {
	e.t.Helper()
	ch := crm.ChannelWebchat
	switch from.Kind {
	case crm.IdentityEmail:
		ch = crm.ChannelEmail
	case crm.IdentityTelegram:
		ch = crm.ChannelTelegram
	}
	res, err := e.store.Ingest(context.Background(), tn.ID, crm.InboundMessage{
		Channel: ch, ExternalID: "ext-" + randomHex(8), From: from, Text: text, TeamID: tn.team.ID,
	})
	require.NoError(e.t, err)
	return res
}

// visitor is a web-chat visitor claim with a display name.
func visitor(name string) crm.IdentityClaim {
	return crm.IdentityClaim{Kind: crm.IdentityWebchat, ExternalID: "visitor-" + randomHex(8), DisplayName: name}
}

// client is an API client that checks every response against the OpenAPI
// document: its status must be documented for the operation, and its body must
// match the documented schema.
type client struct {
	t      *testing.T
	env    *env
	http   *http.Client
	csrf   string // sent as X-CSRF-Token on unsafe requests
	bearer string
}

func (e *env) anonymous() *client {
	jar, err := cookiejar.New(nil)
	require.NoError(e.t, err)
	return &client{t: e.t, env: e, http: &http.Client{Jar: jar}}
}

// login signs in through the API.
func (e *env) login(st crm.Staff) *client {
	e.t.Helper()
	c := e.anonymous()
	res := c.do("POST", "/api/v1/session", map[string]any{"email": st.Email, "password": testPassword})
	require.Equal(e.t, http.StatusCreated, res.status, res.text())
	var s sessionResponse
	res.decode(&s)
	require.NotEmpty(e.t, s.CSRFToken)
	c.csrf = s.CSRFToken
	return c
}

// withToken is a client that authenticates with an API token.
func (e *env) withToken(secret string) *client {
	c := e.anonymous()
	c.bearer = secret
	return c
}

type response struct {
	t      *testing.T
	status int
	header http.Header
	body   []byte
}

func (r *response) text() string { return string(r.body) }

func (r *response) decode(v any) {
	r.t.Helper()
	require.NoError(r.t, json.Unmarshal(r.body, v), r.text())
}

// requireProblem checks that r is a problem with this status and, unless
// field is empty, this offending field.
func (r *response) requireProblem(status int, field string) problem {
	r.t.Helper()
	require.Equal(r.t, status, r.status, r.text())
	mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type"))
	require.Equal(r.t, "application/problem+json", mt)
	var p problem
	r.decode(&p)
	require.Equal(r.t, status, p.Status)
	require.NotEmpty(r.t, p.Detail)
	if field != "" {
		require.Equal(r.t, field, p.Field, r.text())
		require.Len(r.t, p.Errors, 1)
		require.Equal(r.t, field, p.Errors[0].Field)
		require.NotEmpty(r.t, p.Errors[0].Reason)
	}
	return p
}

// do sends a request with a JSON body (nil: none; []byte or string: as is).
func (c *client) do(method, path string, body any) *response {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var err error
		raw, err = json.Marshal(b)
		require.NoError(c.t, err)
	}
	ct := ""
	if body != nil {
		ct = "application/json"
	}
	return c.send(method, path, ct, raw)
}

// send sends a request with a body of the given content type, and extra
// headers given as name, value pairs.
func (c *client) send(method, path, contentType string, body []byte, headers ...string) *response {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.env.url+path, rd)
	require.NoError(c.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.csrf != "" && !safeMethod(method) {
		req.Header.Set(csrfHeader, c.csrf)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	r := &response{t: c.t, status: res.StatusCode, header: res.Header, body: data}
	spec := loadSpec()
	spec.checkResponse(c.t, req, r)
	if r.status < 300 && body != nil && strings.HasPrefix(contentType, "application/json") {
		// What the server accepted, the document must accept too.
		spec.checkRequest(c.t, req, body)
	}
	return r
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// id formats an id for a path.
func id(n int64) string { return fmt.Sprint(n) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomDigits(n int) string {
	var sb strings.Builder
	for range n {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		sb.WriteByte(byte('0' + d.Int64()))
	}
	return sb.String()
}

// newCreditorFiscalCode returns a random valid fiscal code of an ente: ten
// digits and the partita IVA check digit.
func newCreditorFiscalCode(t *testing.T) string {
	first := randomDigits(10)
	sum := 0
	for i := range 10 {
		d := int(first[i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	code := first + fmt.Sprint((10-sum%10)%10)
	require.NoError(t, crm.ValidateCreditorFiscalCode(code))
	return code
}

// newCodiceFiscale returns a random valid codice fiscale in canonical form.
func newCodiceFiscale(t *testing.T) string {
	letter := func() byte {
		n, _ := rand.Int(rand.Reader, big.NewInt(26))
		return byte('A' + n.Int64())
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(12))
	day, _ := rand.Int(rand.Reader, big.NewInt(28))
	b := []byte{letter(), letter(), letter(), letter(), letter(), letter()}
	b = append(b, randomDigits(2)...)
	b = append(b, "ABCDEHLMPRST"[n.Int64()])
	b = append(b, fmt.Sprintf("%02d", day.Int64()+1)...)
	b = append(b, letter())
	b = append(b, randomDigits(3)...)
	cf := string(b) + string(crm.CodiceFiscaleCheckChar(string(b)))
	canonical, err := crm.NormalizeCodiceFiscale(cf)
	require.NoError(t, err)
	require.Equal(t, cf, canonical)
	return cf
}
