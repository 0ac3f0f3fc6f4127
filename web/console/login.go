package console

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
)

// sessionCookie is the API's session cookie (web/session.go): one login serves
// the console and the API, with the same attributes.
const sessionCookie = "dialogo_session"

// loginCSRFCookie holds the token that the login form must send back. Before
// signing in there is no session to hold one, so the token is a cookie that
// only this site can set and the form repeats it: a form posted from another
// site cannot know it.
const loginCSRFCookie = "dialogo_console_login"

// loginView is the login page.
type loginView struct {
	layout
	Email   string
	Error   string
	Next    string
	Token   string
	Invalid bool
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	next := localPath(r.URL.Query().Get("next"), "/console")
	if rq.signedIn() {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return c.renderLogin(w, r, rq, http.StatusOK, loginView{Next: next})
}

func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, rq *request, status int, v loginView) error {
	v.layout = c.newLayout(w, r, rq, texts.T(rq.lang, "login.title"), "", "login")
	// A token already given to this browser is kept, so that two login tabs
	// both work.
	if ck, err := r.Cookie(loginCSRFCookie); err == nil && len(ck.Value) == 32 {
		v.Token = ck.Value
	} else {
		v.Token = randomID(24)
	}
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: v.Token, Path: "/console/login",
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	return c.render(w, status, rq.lang, "login", "layout", v)
}

// login checks the e-mail and password, opens a session and goes on to the
// page the staff member wanted.
func (c *Console) login(w http.ResponseWriter, r *http.Request, rq *request) error {
	ck, err := r.Cookie(loginCSRFCookie)
	token := r.PostFormValue(csrfField)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(token)) != 1 {
		return errBadCSRF
	}
	v := loginView{Email: strings.TrimSpace(r.PostFormValue("email")), Next: localPath(r.PostFormValue("next"), "/console")}
	password := r.PostFormValue("password")
	if v.Email == "" || password == "" {
		v.Error, v.Invalid = texts.T(rq.lang, "login.missing"), true
		return c.renderLogin(w, r, rq, http.StatusBadRequest, v)
	}
	if wait := c.logins.RetryAfter(v.Email, r); wait > 0 {
		v.Error = texts.T(rq.lang, "login.too_many_wait", int(wait.Minutes())+1)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return c.renderLogin(w, r, rq, http.StatusTooManyRequests, v)
	}
	st, err := c.store.Authenticate(r.Context(), v.Email, password)
	if errors.Is(err, crm.ErrBadCredentials) {
		c.logins.Fail(v.Email, r)
		v.Error, v.Invalid = texts.T(rq.lang, "login.bad_credentials"), true
		return c.renderLogin(w, r, rq, http.StatusUnauthorized, v)
	}
	if err != nil {
		return err
	}
	c.logins.Succeed(v.Email, r)
	sess, err := c.store.CreateSession(r.Context(), st)
	if err != nil {
		return err
	}
	http.SetCookie(w, c.sessionCookie(sess.Token, sess.ExpiresAt))
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Path: "/console/login", MaxAge: -1,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteStrictMode})
	next := v.Next
	if a := st.Actor(); !a.Has(crm.RoleOperator, crm.RoleSupervisor) {
		// Someone without a desk role goes to their own section; someone
		// with none has nothing to see here, and the error page says so and
		// offers to sign out.
		next = homeOf(a)
		if a.Has(crm.RoleKnowledgeEditor) && strings.HasPrefix(v.Next, knowledgePath) {
			next = v.Next
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// logout ends the session and clears its cookie.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := c.store.DeleteSession(r.Context(), rq.token); err != nil {
		return err
	}
	http.SetCookie(w, c.sessionCookie("", time.Time{}))
	c.setFlash(w, flashSuccess, texts.T(rq.lang, "logout.done"))
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
	return nil
}

// sessionCookie returns the session cookie with the API's attributes, or one
// that deletes it when value is empty.
func (c *Console) sessionCookie(value string, expires time.Time) *http.Cookie {
	ck := &http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   c.secure,
		SameSite: http.SameSiteLaxMode,
	}
	if value == "" {
		ck.MaxAge = -1
	} else {
		ck.Expires = expires
		ck.MaxAge = int(time.Until(expires).Seconds())
	}
	return ck
}
