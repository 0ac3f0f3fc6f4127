package console_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestConsoleSendsSignedOutVisitorsToTheLoginPage(t *testing.T) {
	t.Parallel()
	e := setup(t)

	res := e.anonymous().get("/console?tab=unassigned")

	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, "/console/login?next="+url.QueryEscape("/console?tab=unassigned"), res.location)
}

func TestLoginPageIsAccessibleMarkupWithItsOwnPolicy(t *testing.T) {
	t.Parallel()
	e := setup(t)

	res := e.anonymous().get("/console/login")

	require.Equal(t, http.StatusOK, res.status)
	csp := res.header.Get("Content-Security-Policy")
	require.Contains(t, csp, "script-src 'self'")
	require.NotContains(t, csp, "unsafe-inline")
	require.Contains(t, res.body, `<html lang="it">`)
	require.Contains(t, res.body, `<label for="dlg-email"`)
	require.Contains(t, res.body, `<main id="main"`)
	require.NotContains(t, res.body, "<script>", "no inline script")
	require.NotContains(t, res.body, " style=", "no inline style")
}

func TestLoginWithAWrongPasswordSaysSo(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.anonymous()
	page := c.get("/console/login")

	res := c.postForm("/console/login", url.Values{"csrf": {page.field("csrf")}, "email": {e.operator().Email},
		"password": {"not the password"}})

	require.Equal(t, http.StatusUnauthorized, res.status)
	require.Contains(t, res.body, "Indirizzo e-mail o password non corretti.")
	require.Contains(t, res.body, `aria-invalid="true"`)
	require.Contains(t, res.body, `value="`+e.operator().Email+`"`, "the e-mail is kept")
	require.Empty(t, sessionCookies(c, e))
}

func TestLoginOpensASessionSharedWithTheAPI(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.anonymous()
	page := c.get("/console/login?next=" + url.QueryEscape("/console?tab=mine"))

	res := c.postForm("/console/login", url.Values{"csrf": {page.field("csrf")}, "next": {page.field("next")},
		"email": {strings.ToUpper(e.operator().Email)}, "password": {testPassword}})

	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	require.Equal(t, "/console?tab=mine", res.location)
	var session *http.Cookie
	for _, ck := range (&http.Response{Header: res.header}).Cookies() {
		if ck.Name == "dialogo_session" {
			session = ck
		}
	}
	require.NotNil(t, session)
	require.True(t, session.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, session.SameSite)
	require.Equal(t, "/", session.Path)
	inbox := c.get("/console")
	require.Equal(t, http.StatusOK, inbox.status)
	require.Contains(t, inbox.body, e.operator().Name)
	require.Contains(t, inbox.body, e.tenant.Name)
	me := c.get("/api/v1/me")
	require.Equal(t, http.StatusOK, me.status, "the API knows the session")
}

func TestLoginRefusesAnOffsiteRedirect(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.anonymous()
	page := c.get("/console/login")

	res := c.postForm("/console/login", url.Values{"csrf": {page.field("csrf")}, "next": {"//evil.example/console"},
		"email": {e.operator().Email}, "password": {testPassword}})

	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, "/console", res.location)
}

func TestLoginWithoutItsTokenIsForbidden(t *testing.T) {
	t.Parallel()
	e := setup(t)
	form := url.Values{"email": {e.operator().Email}, "password": {testPassword}}

	missing := e.anonymous().postForm("/console/login", form)
	c := e.anonymous()
	c.get("/console/login")
	form.Set("csrf", "forged")
	wrong := c.postForm("/console/login", form)

	require.Equal(t, http.StatusForbidden, missing.status)
	require.Equal(t, http.StatusForbidden, wrong.status)
	require.Contains(t, wrong.body, "Il modulo è scaduto")
}

func TestLogoutEndsTheSession(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.login(e.operator())

	res := c.post("/console/logout", nil)

	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, "/console/login", res.location)
	require.Contains(t, c.follow(res).body, "Sei uscito dalla console.")
	require.Equal(t, http.StatusSeeOther, c.get("/console").status)
	require.Equal(t, http.StatusUnauthorized, c.get("/api/v1/me").status)
}

func TestFormPostsNeedTheSessionsCSRFToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID
	c := e.login(e.supervisor())
	posts := []struct {
		path string
		form url.Values
	}{
		{convPath(conv, "/reply"), url.Values{"text": {"Salve"}}},
		{convPath(conv, "/reply"), url.Values{"text": {"Nota"}, "kind": {"note"}}},
		{convPath(conv, "/take"), nil},
		{convPath(conv, "/transfer"), url.Values{"to": {"team:" + itoa(e.team.ID)}}},
		{convPath(conv, "/tags"), url.Values{"tags": {"tari"}}},
		{convPath(conv, "/priority"), url.Values{"priority": {"3"}}},
		{convPath(conv, "/resolve"), nil},
		{convPath(conv, "/reopen"), nil},
		{"/console/availability", url.Values{"availability": {"available"}}},
		{"/console/logout", nil},
	}
	for _, p := range posts {
		for _, token := range []string{"", "forged-" + c.csrf} {
			form := url.Values{}
			for k, v := range p.form {
				form[k] = v
			}
			if token != "" {
				form.Set("csrf", token)
			}
			res := c.postForm(p.path, form)
			require.Equal(t, http.StatusForbidden, res.status, "POST %s with token %q", p.path, token)
		}
	}

	got := e.conversation(conv)
	require.Len(t, got.Messages, 1, "nothing was stored")
	require.Empty(t, got.Tags)
	require.Equal(t, crm.StatusQueued, got.Status)
	require.Equal(t, http.StatusOK, c.get("/console").status, "still signed in")
}

func TestCrossSiteFormPostsAreRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID
	c := e.login(e.operator())

	res := c.postForm(convPath(conv, "/take"), url.Values{"csrf": {c.csrf}}, "Sec-Fetch-Site", "cross-site")

	require.Equal(t, http.StatusForbidden, res.status)
	require.Nil(t, e.conversation(conv).AssigneeID)
}

func TestRolesDecideWhatTheConsoleShows(t *testing.T) {
	t.Parallel()
	e := setup(t)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID
	tests := []struct {
		role       crm.Role
		inbox      int
		supervisor int
	}{
		{crm.RoleOperator, http.StatusOK, http.StatusForbidden},
		{crm.RoleSupervisor, http.StatusOK, http.StatusOK},
		{crm.RoleAdmin, http.StatusOK, http.StatusOK},
		{crm.RoleKnowledgeEditor, http.StatusForbidden, http.StatusForbidden},
		{crm.RoleCommunication, http.StatusForbidden, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(string(tt.role), func(t *testing.T) {
			c := e.login(e.staff[tt.role])
			inbox := c.get("/console")
			require.Equal(t, tt.inbox, inbox.status)
			require.Equal(t, tt.inbox, c.get(convPath(conv, "")).status)
			require.Equal(t, tt.supervisor, c.get("/console/supervisor").status)
			if tt.inbox == http.StatusForbidden {
				require.Contains(t, inbox.body, "Il tuo ruolo non dà accesso a questa parte della console.")
				require.Contains(t, inbox.body, `action="/console/logout"`, "they can sign out")
				res := c.post(convPath(conv, "/take"), nil)
				require.Equal(t, http.StatusForbidden, res.status)
			}
			if tt.supervisor == http.StatusOK {
				require.Contains(t, inbox.body, `href="/console/supervisor"`)
			} else {
				require.NotContains(t, inbox.body, `href="/console/supervisor"`)
			}
		})
	}
}

func TestAnotherEntesConversationIsNotFound(t *testing.T) {
	t.Parallel()
	e := setup(t)
	other := setup(t)
	theirs := other.citizenWrites(verifiedCitizen(codiceFiscale(1), "Lucia Bianchi"), "Buongiorno").Message.ConversationID
	c := e.login(e.supervisor())

	for _, path := range []string{"", "/messages", "/summary", "/deliveries", "/fascicolo", "?fascicolo=1"} {
		res := c.get(convPath(theirs, path), "X-Dialogo-Fetch", "1")
		require.Equal(t, http.StatusNotFound, res.status, "GET %s", path)
		require.NotContains(t, res.body, "Lucia Bianchi")
	}
	for _, path := range []string{"/reply", "/take", "/resolve", "/tags"} {
		res := c.post(convPath(theirs, path), url.Values{"text": {"Salve"}, "tags": {"x"}})
		require.Equal(t, http.StatusNotFound, res.status, "POST %s", path)
	}
	got := other.conversation(theirs)
	require.Len(t, got.Messages, 1)
	require.Equal(t, crm.StatusQueued, got.Status)
}

func TestUnknownConsolePagesAreNotFound(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.login(e.operator())

	for _, path := range []string{"/console/nothing", convPath(0, ""), "/console/conversations/abc"} {
		res := c.get(path)
		require.Equal(t, http.StatusNotFound, res.status, path)
		require.Contains(t, res.body, "Pagina non trovata")
	}
}

func TestLanguageSwitchShowsEnglishAndIsRemembered(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.login(e.operator())

	en := c.get("/console?lang=en")
	again := c.get("/console")

	require.Contains(t, en.body, `<html lang="en">`)
	require.Contains(t, en.body, "Unassigned")
	require.Contains(t, en.body, `href="/console?lang=it"`)
	require.Contains(t, again.body, `<html lang="en">`)
	require.Contains(t, c.get("/console?lang=it").body, "Non assegnate")
}

func sessionCookies(c *client, e *env) []*http.Cookie {
	u, _ := url.Parse(e.url)
	var out []*http.Cookie
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "dialogo_session" {
			out = append(out, ck)
		}
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestRepeatedFailedLoginsAreSlowedDown(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.anonymous()
	token := c.get("/console/login").field("csrf")
	wrong := url.Values{"csrf": {token}, "email": {e.operator().Email}, "password": {"wrong"}}
	for range 10 {
		require.Equal(t, http.StatusUnauthorized, c.postForm("/console/login", wrong).status)
	}

	res := c.postForm("/console/login", url.Values{"csrf": {token}, "email": {e.operator().Email}, "password": {testPassword}})

	require.Equal(t, http.StatusTooManyRequests, res.status)
	require.Contains(t, res.body, "Troppi tentativi non riusciti")
	require.NotEmpty(t, res.header.Get("Retry-After"))
	other := e.anonymous()
	ok := other.postForm("/console/login", url.Values{"csrf": {other.get("/console/login").field("csrf")},
		"email": {e.supervisor().Email}, "password": {testPassword}})
	require.Equal(t, http.StatusSeeOther, ok.status, "another account is not affected")
}
