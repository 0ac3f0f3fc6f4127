package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
)

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type sessionResponse struct {
	Staff     crm.Staff `json:"staff"`
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// login checks a staff member's e-mail and password, opens a session and sets
// its cookie. The CSRF token in the response goes in the X-CSRF-Token header of
// every unsafe request made with the cookie.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in loginRequest
	if err := decodeJSON(w, r, defaultBodyLimit, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Email) == "" {
		return crm.Invalid("email", "is required")
	}
	if in.Password == "" {
		return crm.Invalid("password", "is required")
	}
	if wait := s.logins.RetryAfter(in.Email, r); wait > 0 {
		return &rateLimitedError{what: "failed sign-ins for this account from this address", retryAfter: wait}
	}
	st, err := s.store.Authenticate(r.Context(), in.Email, in.Password)
	if errors.Is(err, crm.ErrBadCredentials) {
		s.logins.Fail(in.Email, r)
		return err
	}
	if err != nil {
		return err
	}
	s.logins.Succeed(in.Email, r)
	sess, err := s.store.CreateSession(r.Context(), st)
	if err != nil {
		return err
	}
	http.SetCookie(w, s.sessionCookie(sess.Token, sess.ExpiresAt))
	return writeJSON(w, http.StatusCreated, sessionResponse{Staff: st, CSRFToken: sess.CSRFToken, ExpiresAt: sess.ExpiresAt})
}

// logout ends the caller's session and clears its cookie. A caller with an API
// token has no session: the call does nothing for them.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if c := callerOf(r); c.session != "" {
		if err := s.store.DeleteSession(r.Context(), c.session); err != nil {
			return err
		}
	}
	http.SetCookie(w, s.sessionCookie("", time.Time{}))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sessionCookie returns the session cookie with the given value, or one that
// deletes it when value is empty.
func (s *Server) sessionCookie(value string, expires time.Time) *http.Cookie {
	c := &http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   s.secureCookies,
		SameSite: http.SameSiteLaxMode,
	}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
		c.MaxAge = int(time.Until(expires).Seconds())
	}
	return c
}

type meResponse struct {
	Kind      crm.ActorKind `json:"kind"`
	ID        int64         `json:"id"`
	Name      string        `json:"name"`
	Roles     []crm.Role    `json:"roles"`
	Tenant    crm.Tenant    `json:"tenant"`
	Staff     *crm.Staff    `json:"staff,omitempty"`
	CSRFToken string        `json:"csrf_token,omitempty"`
}

// me tells the caller who they are, in which ente, with which roles; a console
// that reloads gets its session's CSRF token back from here.
func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r)
	t, err := s.store.Tenant(r.Context(), c.actor.TenantID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, meResponse{
		Kind: c.actor.Kind, ID: c.actor.ID, Name: c.actor.Name, Roles: c.actor.Roles,
		Tenant: t, Staff: c.staff, CSRFToken: c.csrf,
	})
}
