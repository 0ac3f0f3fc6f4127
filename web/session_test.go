package web

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func sessionCookieOf(t *testing.T, r *response) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", sessionCookie, r.header.Values("Set-Cookie"))
	return nil
}

func TestLoginSetsAProtectedCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("login")
	op := tn.staff[crm.RoleOperator]

	res := e.anonymous().do("POST", "/api/v1/session", map[string]any{"email": op.Email, "password": testPassword})
	require.Equal(t, http.StatusCreated, res.status, res.text())
	var s sessionResponse
	res.decode(&s)
	require.Equal(t, op.ID, s.Staff.ID)
	require.NotEmpty(t, s.CSRFToken)
	require.Equal(t, "no-store", res.header.Get("Cache-Control"))

	c := sessionCookieOf(t, res)
	require.True(t, c.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, c.SameSite)
	require.False(t, c.Secure, "Secure only when configured")
	require.Equal(t, "/", c.Path)
	require.NotContains(t, res.text(), c.Value, "the session token is only in the cookie")
}

func TestSecureCookiesWhenConfigured(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.SecureCookies = true })
	tn := e.newTenant("secure")
	res := e.anonymous().do("POST", "/api/v1/session",
		map[string]any{"email": tn.staff[crm.RoleOperator].Email, "password": testPassword})
	require.Equal(t, http.StatusCreated, res.status)
	require.True(t, sessionCookieOf(t, res).Secure)
}

func TestMeWithSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("me")
	c := e.login(tn.staff[crm.RoleSupervisor])

	res := c.do("GET", "/api/v1/me", nil)
	require.Equal(t, http.StatusOK, res.status)
	var me meResponse
	res.decode(&me)
	require.Equal(t, crm.ActorStaff, me.Kind)
	require.Equal(t, tn.ID, me.Tenant.ID)
	require.Equal(t, []crm.Role{crm.RoleSupervisor}, me.Roles)
	require.NotNil(t, me.Staff)
	require.Equal(t, c.csrf, me.CSRFToken)
}

func TestCookieRequestsNeedTheCSRFToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("csrf")
	c := e.login(tn.staff[crm.RoleOperator])
	conv := e.citizenWrites(tn, visitor("Carla Neri"), "Buongiorno")
	reply := map[string]any{"text": "Salve"}
	path := "/api/v1/conversations/" + id(conv.Message.ConversationID) + "/messages"

	token := c.csrf
	c.csrf = ""
	p := c.do("POST", path, reply).requireProblem(http.StatusForbidden, "")
	require.Contains(t, p.Detail, csrfHeader)

	c.csrf = "not-the-token"
	c.do("POST", path, reply).requireProblem(http.StatusForbidden, "")

	// Safe methods need no token.
	require.Equal(t, http.StatusOK, c.do("GET", "/api/v1/conversations/"+id(conv.Message.ConversationID), nil).status)

	c.csrf = token
	require.Equal(t, http.StatusCreated, c.do("POST", path, reply).status)
}

func TestLogoutEndsTheSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("logout")
	c := e.login(tn.staff[crm.RoleOperator])

	token := c.csrf
	c.csrf = ""
	c.do("DELETE", "/api/v1/session", nil).requireProblem(http.StatusForbidden, "")
	c.csrf = token

	res := c.do("DELETE", "/api/v1/session", nil)
	require.Equal(t, http.StatusNoContent, res.status)
	require.Less(t, sessionCookieOf(t, res).MaxAge, 0, "the cookie is cleared")
	c.do("GET", "/api/v1/me", nil).requireProblem(http.StatusUnauthorized, "")
}

func TestLogoutKeepsTheOldCookieDead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("replay")
	c := e.login(tn.staff[crm.RoleOperator])
	u := c.http.Jar.Cookies(mustURL(t, e.url))
	require.Len(t, u, 1)
	stolen := u[0].Value

	require.Equal(t, http.StatusNoContent, c.do("DELETE", "/api/v1/session", nil).status)

	replay := e.anonymous()
	replay.http.Jar.SetCookies(mustURL(t, e.url), []*http.Cookie{{Name: sessionCookie, Value: stolen}})
	replay.do("GET", "/api/v1/me", nil).requireProblem(http.StatusUnauthorized, "")
}

func TestLoginRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("refusals")
	op := tn.staff[crm.RoleOperator]

	wrong := e.anonymous().do("POST", "/api/v1/session", map[string]any{"email": op.Email, "password": "not the password"})
	wrong.requireProblem(http.StatusUnauthorized, "")
	unknown := e.anonymous().do("POST", "/api/v1/session", map[string]any{"email": "nobody-" + randomHex(4) + "@example.org", "password": "not the password"})
	unknown.requireProblem(http.StatusUnauthorized, "")
	var p1, p2 problem
	wrong.decode(&p1)
	unknown.decode(&p2)
	require.Equal(t, p1.Detail, p2.Detail, "the answer must not tell which accounts exist")

	e.anonymous().do("POST", "/api/v1/session", map[string]any{"email": op.Email}).requireProblem(http.StatusUnprocessableEntity, "password")
	e.anonymous().do("POST", "/api/v1/session", map[string]any{"email": op.Email, "password": testPassword, "remember": true}).
		requireProblem(http.StatusBadRequest, "remember")
}

func TestLoginIsThrottledAfterRepeatedFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("throttle")
	op := tn.staff[crm.RoleOperator]
	other := tn.staff[crm.RoleSupervisor]
	c := e.anonymous()
	for range loginMaxFailures {
		c.do("POST", "/api/v1/session", map[string]any{"email": op.Email, "password": "guess guess"}).
			requireProblem(http.StatusUnauthorized, "")
	}
	// Even the right password is refused until the window ends.
	res := c.do("POST", "/api/v1/session", map[string]any{"email": op.Email, "password": testPassword})
	res.requireProblem(http.StatusTooManyRequests, "")
	wait, err := strconv.Atoi(res.header.Get("Retry-After"))
	require.NoError(t, err)
	require.Positive(t, wait)
	require.LessOrEqual(t, wait, int(loginWindow.Seconds()))

	// Other accounts are not locked out.
	require.Equal(t, http.StatusCreated,
		c.do("POST", "/api/v1/session", map[string]any{"email": other.Email, "password": testPassword}).status)
}

func TestLoginLimiterWindow(t *testing.T) {
	t.Parallel()
	l := newLoginLimiter(3, time.Minute)
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range 3 {
		require.Zero(t, l.retryAfter("k", t0.Add(time.Duration(i)*time.Second)))
		l.fail("k", t0.Add(time.Duration(i)*time.Second))
	}
	require.Equal(t, 50*time.Second, l.retryAfter("k", t0.Add(10*time.Second)))
	require.Zero(t, l.retryAfter("other", t0.Add(10*time.Second)))
	require.Zero(t, l.retryAfter("k", t0.Add(time.Minute)), "the window has ended")

	l.fail("k", t0)
	l.succeed("k")
	require.Zero(t, l.retryAfter("k", t0))
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("token")
	admin := e.login(tn.staff[crm.RoleAdmin])

	res := admin.do("POST", "/api/v1/tokens", map[string]any{"name": "Protocollo informatico", "roles": []string{"operator"}})
	require.Equal(t, http.StatusCreated, res.status, res.text())
	var created tokenResponse
	res.decode(&created)
	require.NotEmpty(t, created.Secret)
	require.Equal(t, []crm.Role{crm.RoleOperator}, created.Token.Roles)

	api := e.withToken(created.Secret)
	res = api.do("GET", "/api/v1/me", nil)
	require.Equal(t, http.StatusOK, res.status)
	var me meResponse
	res.decode(&me)
	require.Equal(t, crm.ActorToken, me.Kind)
	require.Equal(t, created.Token.ID, me.ID)
	require.Equal(t, tn.ID, me.Tenant.ID)
	require.Nil(t, me.Staff)
	require.Empty(t, me.CSRFToken)

	// A token needs no CSRF token, but keeps to its roles.
	conv := e.citizenWrites(tn, visitor("Dario Fo"), "Salve")
	require.Equal(t, http.StatusCreated, api.do("POST", "/api/v1/conversations/"+id(conv.Message.ConversationID)+"/messages",
		map[string]any{"text": "Risposta automatica del protocollo"}).status)
	api.do("POST", "/api/v1/tokens", map[string]any{"name": "x", "roles": []string{"admin"}}).requireProblem(http.StatusForbidden, "")
	api.do("GET", "/api/v1/audit", nil).requireProblem(http.StatusForbidden, "")

	// Tokens are for admins to make.
	e.login(tn.staff[crm.RoleSupervisor]).do("POST", "/api/v1/tokens", map[string]any{"name": "x", "roles": []string{"operator"}}).
		requireProblem(http.StatusForbidden, "")
	admin.do("POST", "/api/v1/tokens", map[string]any{"name": "x", "roles": []string{"root"}}).
		requireProblem(http.StatusUnprocessableEntity, "roles")
}

func TestBadCredentialsAreUnauthorized(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.withToken("dlg_not-a-real-token").do("GET", "/api/v1/me", nil)
	res.requireProblem(http.StatusUnauthorized, "")
	require.Contains(t, res.header.Get("WWW-Authenticate"), "Bearer")

	c := e.anonymous()
	c.do("GET", "/api/v1/contacts", nil).requireProblem(http.StatusUnauthorized, "")

	e.anonymous().send("GET", "/api/v1/me", "", nil, "Authorization", "Basic dXNlcjpwYXNz").
		requireProblem(http.StatusUnauthorized, "")
}
