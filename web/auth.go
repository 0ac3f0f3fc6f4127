package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dialogo-pa/dialogo/crm"
)

// sessionCookie names the cookie of a staff console session.
const sessionCookie = "dialogo_session"

// csrfHeader carries the session's CSRF token on unsafe requests authenticated
// by the session cookie. A bearer token is not sent by browsers on their own,
// so requests that use one need no such proof.
const csrfHeader = "X-CSRF-Token"

// caller is who makes a request, as endpoint established it.
type caller struct {
	actor   crm.Actor
	staff   *crm.Staff // the staff member of a console session; nil for a token
	session string     // the session cookie's value, to end it at logout
	csrf    string     // the session's CSRF token
}

// callerOf returns the caller of an authenticated route. On a public route it is
// an actor of no tenant, for whom every lookup finds nothing.
func callerOf(r *http.Request) *caller {
	if c, ok := r.Context().Value(authKey).(*caller); ok {
		return c
	}
	return &caller{}
}

// actorOf returns the actor an authenticated request runs for. Every tenant id
// handed to crm comes from here, never from the request.
func actorOf(r *http.Request) crm.Actor { return callerOf(r).actor }

// endpoint adapts a route to http.Handler: it authenticates the caller and
// checks their roles (unless the route is public), runs the handler, and renders
// its error.
func (s *Server) endpoint(rt route) http.Handler {
	api := strings.HasPrefix(rt.path, "/api/v1/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if api {
			// Responses hold personal data: no cache may keep them.
			w.Header().Set("Cache-Control", "no-store")
		}
		if !rt.access.public {
			c, err := s.authenticate(r)
			if err == nil && len(rt.access.roles) > 0 {
				err = c.actor.Require(rt.access.roles...)
			}
			if err != nil {
				s.writeProblem(w, r, err)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), authKey, c))
		}
		if err := rt.handle(w, r); err != nil {
			s.writeProblem(w, r, err)
		}
	})
}

// authenticate finds the caller from a bearer token or, failing that, the
// session cookie. A cookie-authenticated unsafe request must also carry the
// session's CSRF token.
func (s *Server) authenticate(r *http.Request) (*caller, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return nil, fmt.Errorf("%w: send the API token as Authorization: Bearer <token>", errUnauthenticated)
		}
		a, err := s.store.TokenActor(ctx, token)
		if errors.Is(err, crm.ErrNotFound) {
			return nil, fmt.Errorf("%w: the API token is not valid, or was revoked", errUnauthenticated)
		}
		if err != nil {
			return nil, err
		}
		return &caller{actor: a}, nil
	}

	cookie, err := r.Cookie(sessionCookie)
	if err != nil || cookie.Value == "" {
		return nil, fmt.Errorf("%w: sign in (POST /api/v1/session) or send an API token", errUnauthenticated)
	}
	st, csrf, err := s.store.SessionStaff(ctx, cookie.Value)
	if errors.Is(err, crm.ErrNotFound) {
		return nil, fmt.Errorf("%w: the session has expired or was closed; sign in again", errUnauthenticated)
	}
	if err != nil {
		return nil, err
	}
	if !safeMethod(r.Method) && subtle.ConstantTimeCompare([]byte(r.Header.Get(csrfHeader)), []byte(csrf)) != 1 {
		return nil, fmt.Errorf("%w: a request signed in with the session cookie must send the session's %s header",
			crm.ErrForbidden, csrfHeader)
	}
	return &caller{actor: st.Actor(), staff: &st, session: cookie.Value, csrf: csrf}, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
