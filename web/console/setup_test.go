package console_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/testdb"
	"github.com/dialogo-pa/dialogo/knowledge"
	"github.com/dialogo-pa/dialogo/web"
	"github.com/dialogo-pa/dialogo/web/console"
)

// testPassword is every test staff member's password.
const testPassword = "una password lunga abbastanza"

// comuneDiMilano is a valid creditor fiscal code for the tenants and avvisi.
const comuneDiMilano = "01199250158"

// env is what a console test needs: the whole web server (the API, the static
// files and the console, as serve.go builds it) on the package's test database, with a hub that
// listens to it, and an ente of the test's own with one staff member per role.
type env struct {
	t     *testing.T
	ctx   context.Context
	pool  *pgxpool.Pool
	store *crm.Store
	hub   *crm.Hub
	url   string

	tenant crm.Tenant
	team   crm.Team
	staff  map[crm.Role]crm.Staff
}

var shared struct {
	once sync.Once
	hub  *crm.Hub
}

// sharedHub is one hub for the package's tests, listening until the test
// binary exits; each test filters by its own ente.
func sharedHub(t *testing.T) *crm.Hub {
	t.Helper()
	pool := testdb.New(t)
	shared.once.Do(func() {
		shared.hub = crm.NewHub(pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
		go func() { _ = shared.hub.Run(context.Background()) }()
	})
	select {
	case <-shared.hub.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the hub did not start listening")
	}
	return shared.hub
}

func setup(t *testing.T) *env {
	t.Helper()
	return setupWith(t, func(cfg *console.Config) {
		// The tests' pages are served on loopback, which the console's own
		// client refuses to fetch.
		cfg.KnowledgeClient = &http.Client{Timeout: 10 * time.Second}
	})
}

// setupWith is setup with the console's configuration changed by configure.
func setupWith(t *testing.T, configure func(*console.Config)) *env {
	t.Helper()
	pool := testdb.New(t)
	store := crm.NewStore(pool)
	hub := sharedHub(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := console.Config{Store: store, Hub: hub, Logger: logger, Pool: pool, Embedder: knowledge.LocalEmbedder{}}
	configure(&cfg)
	cons := console.New(cfg)
	srv := web.New(web.Config{Store: store, Pool: pool, Logger: logger, Registry: prometheus.NewRegistry(),
		Areas: []web.Area{cons}})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	e := &env{t: t, ctx: t.Context(), pool: pool, store: store, hub: hub, url: ts.URL}
	e.tenant, e.team, e.staff = e.newTenant("")
	return e
}

// newTenant makes an ente with a team and a staff member per role.
func (e *env) newTenant(marker string) (crm.Tenant, crm.Team, map[crm.Role]crm.Staff) {
	t := e.t
	t.Helper()
	slug := "c-" + randomHex(6)
	tn, err := e.store.EnsureTenant(e.ctx, slug, "Comune di Prova"+marker, comuneDiMilano)
	require.NoError(t, err)
	team, err := e.store.EnsureTeam(e.ctx, tn.ID, "urp", "Ufficio Relazioni con il Pubblico")
	require.NoError(t, err)
	staff := map[crm.Role]crm.Staff{}
	names := map[crm.Role]string{crm.RoleOperator: "Olga Operatrice", crm.RoleSupervisor: "Sergio Supervisore",
		crm.RoleCommunication: "Carla Comunicazione", crm.RoleKnowledgeEditor: "Elena Redattrice", crm.RoleAdmin: "Aldo Amministratore"}
	for _, role := range crm.Roles {
		st, err := e.store.EnsureStaff(e.ctx, tn.ID, crm.StaffInput{
			Email: string(role) + "." + slug + "@example.org", Name: names[role], Roles: []crm.Role{role},
			Password: testPassword,
		})
		require.NoError(t, err)
		require.NoError(t, e.store.AddTeamMember(e.ctx, tn.ID, team.ID, st.ID))
		staff[role] = st
	}
	return tn, team, staff
}

func (e *env) operator() crm.Staff   { return e.staff[crm.RoleOperator] }
func (e *env) supervisor() crm.Staff { return e.staff[crm.RoleSupervisor] }

// newStaff adds a staff member to the test's ente and team.
func (e *env) newStaff(name string, roles ...crm.Role) crm.Staff {
	e.t.Helper()
	st, err := e.store.EnsureStaff(e.ctx, e.tenant.ID, crm.StaffInput{
		Email: "s-" + randomHex(5) + "." + e.tenant.Slug + "@example.org", Name: name, Roles: roles, Password: testPassword,
	})
	require.NoError(e.t, err)
	require.NoError(e.t, e.store.AddTeamMember(e.ctx, e.tenant.ID, e.team.ID, st.ID))
	return st
}

// citizenWrites ingests a web-chat message of a visitor, as the web chat would.
func (e *env) citizenWrites(from crm.IdentityClaim, text string) crm.IngestResult {
	e.t.Helper()
	return e.ingest(crm.InboundMessage{Channel: crm.ChannelWebchat, ExternalID: "m-" + randomHex(8), From: from, Text: text})
}

func (e *env) ingest(in crm.InboundMessage) crm.IngestResult {
	e.t.Helper()
	if in.TeamID == 0 {
		in.TeamID = e.team.ID
	}
	res, err := e.store.Ingest(e.ctx, e.tenant.ID, in)
	require.NoError(e.t, err)
	return res
}

func visitor(name string) crm.IdentityClaim {
	return crm.IdentityClaim{Kind: crm.IdentityWebchat, ExternalID: "visitor-" + randomHex(8), DisplayName: name}
}

// verifiedCitizen is the claim of a citizen who logged in with SPID.
func verifiedCitizen(cf, name string) crm.IdentityClaim {
	return crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale, ExternalID: cf, Verified: true, VerifiedBy: crm.VerifiedSPID,
		DisplayName: name}
}

// codiceFiscale returns the n-th of a family of valid codici fiscali.
func codiceFiscale(n int) string {
	first := fmt.Sprintf("BNCLCU85M41F%03d", n%1000)
	return first + string(crm.CodiceFiscaleCheckChar(first))
}

// importCitizen imports a fascicolo for the codice fiscale: a pratica with
// its timeline, an avviso due, an avviso overdue and an appointment.
func (e *env) importCitizen(cf, given, family string) {
	e.t.Helper()
	opened := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	_, err := e.store.ImportFascicolo(e.ctx, e.staff[crm.RoleAdmin].Actor(), []crm.FascicoloRecord{{
		CodiceFiscale: cf, GivenName: given, FamilyName: family,
		Pratiche: []crm.Pratica{{
			Reference: "PG-" + cf, Type: "residenza", Title: "Cambio di residenza", Office: "Anagrafe", OpenedAt: opened,
			Timeline: []crm.PraticaEvent{
				{Status: "presentata", OccurredAt: opened},
				{Status: "in istruttoria", Note: "Verifica della Polizia Locale", OccurredAt: opened.Add(72 * time.Hour)},
			},
		}},
		Avvisi: []crm.Avviso{
			{NoticeNumber: crm.NoticeNumberWithCheck("3", "01", fmt.Sprintf("%013d", 1000+len(cf))), CreditorFiscalCode: comuneDiMilano,
				Description: "TARI 2025, prima rata", AmountCents: 12850, DueDate: crm.Date{Time: today.AddDate(0, 0, 30)}},
			{NoticeNumber: crm.NoticeNumberWithCheck("3", "01", fmt.Sprintf("%013d", 2000+len(cf))), CreditorFiscalCode: comuneDiMilano,
				Description: "Mensa scolastica, ottobre", AmountCents: 123456, DueDate: crm.Date{Time: today.AddDate(0, 0, -10)}},
		},
		Appointments: []crm.Appointment{{
			Reference: "APP-" + cf, Service: "Carta d'identità elettronica", Location: "Via Larga 12", Mode: "in_person",
			StartsAt: today.AddDate(0, 0, 7).Add(9 * time.Hour), EndsAt: today.AddDate(0, 0, 7).Add(9*time.Hour + 20*time.Minute),
			Status: "booked",
		}},
	}})
	require.NoError(e.t, err)
}

func (e *env) conversation(id int64) crm.Conversation {
	e.t.Helper()
	c, err := e.store.Conversation(e.ctx, e.tenant.ID, id)
	require.NoError(e.t, err)
	return c
}

// client is a browser without JavaScript: a cookie jar, no redirects followed.
type client struct {
	t    *testing.T
	env  *env
	http *http.Client
	csrf string // the session's CSRF token, read from the last page
}

func (e *env) anonymous() *client {
	jar, err := cookiejar.New(nil)
	require.NoError(e.t, err)
	return &client{t: e.t, env: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// login signs in through the login form and opens the console.
func (e *env) login(st crm.Staff) *client {
	e.t.Helper()
	c := e.anonymous()
	page := c.get("/console/login")
	require.Equal(e.t, http.StatusOK, page.status, page.body)
	res := c.postForm("/console/login", url.Values{"csrf": {page.field("csrf")}, "email": {st.Email}, "password": {testPassword}})
	require.Equal(e.t, http.StatusSeeOther, res.status, res.body)
	c.get("/console") // reads the session's CSRF token, whatever the answer
	require.NotEmpty(e.t, c.csrf)
	return c
}

type response struct {
	t        *testing.T
	status   int
	header   http.Header
	body     string
	location string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// field returns the value of the first hidden field with this name.
func (r *response) field(name string) string {
	r.t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(r.body)
	require.NotNil(r.t, m, "no field %s in the page", name)
	return m[1]
}

func (c *client) do(req *http.Request) *response {
	c.t.Helper()
	res, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	r := &response{t: c.t, status: res.StatusCode, header: res.Header, body: string(b), location: res.Header.Get("Location")}
	if m := csrfRE.FindStringSubmatch(r.body); m != nil && strings.Contains(r.body, `action="/console/logout"`) {
		c.csrf = m[1]
	}
	return r
}

// postMultipart posts a form with one file, and the session's CSRF token.
func (c *client) postMultipart(path, field, filename string, content []byte, fields url.Values) *response {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if fields == nil {
		fields = url.Values{}
	}
	if !fields.Has("csrf") {
		fields.Set("csrf", c.csrf)
	}
	for k, vs := range fields {
		for _, v := range vs {
			require.NoError(c.t, mw.WriteField(k, v))
		}
	}
	if field != "" {
		fw, err := mw.CreateFormFile(field, filename)
		require.NoError(c.t, err)
		_, err = fw.Write(content)
		require.NoError(c.t, err)
	}
	require.NoError(c.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, c.env.url+path, &body)
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

func (c *client) get(path string, headers ...string) *response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.env.url+path, nil)
	require.NoError(c.t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// postForm posts a form as it is, without adding the CSRF token.
func (c *client) postForm(path string, form url.Values, headers ...string) *response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.env.url+path, strings.NewReader(form.Encode()))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// post posts a form of the console with the session's CSRF token.
func (c *client) post(path string, form url.Values) *response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", c.csrf)
	return c.postForm(path, form)
}

// follow gets the page a response redirects to.
func (c *client) follow(r *response) *response {
	c.t.Helper()
	require.Equal(c.t, http.StatusSeeOther, r.status, r.body)
	return c.get(r.location)
}

func (r *response) decode(v any) {
	r.t.Helper()
	require.NoError(r.t, json.Unmarshal([]byte(r.body), v), r.body)
}

func convPath(id int64, rest string) string {
	return "/console/conversations/" + fmt.Sprint(id) + rest
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
