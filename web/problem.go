package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
)

// The error kinds of the HTTP layer itself. Everything about the domain is one
// of crm's kinds (crm.ErrInvalid, crm.ErrNotFound, …).
var (
	// errUnauthenticated: no credentials, or credentials that are not valid.
	errUnauthenticated = errors.New("authentication required")
	// errBadRequest: the request cannot be read (malformed JSON, a field of the
	// wrong JSON type, an unknown field); see badRequestError.
	errBadRequest = errors.New("bad request")
	// errUnsupportedMediaType: a body that is not JSON.
	errUnsupportedMediaType = errors.New("unsupported media type")
	// errTooManyRequests: a limit was hit; see rateLimitedError.
	errTooManyRequests = errors.New("too many requests")
	// errMethodNotAllowed: the path exists with other methods; see methodNotAllowedError.
	errMethodNotAllowed = errors.New("method not allowed")
	// errNoRoute: no route has the path.
	errNoRoute = errors.New("not found")
)

// badRequestError says which part of an unreadable request is at fault. Field
// is a path in the body (records[0].codice_fiscale), or empty for the body as
// a whole.
type badRequestError struct {
	field, reason string
}

func (e *badRequestError) Error() string {
	if e.field == "" {
		return e.reason
	}
	return e.field + ": " + e.reason
}

func (e *badRequestError) Is(target error) bool { return target == errBadRequest }

// rateLimitedError is errTooManyRequests with the time to wait.
type rateLimitedError struct {
	what       string
	retryAfter time.Duration
}

func (e *rateLimitedError) Error() string {
	return fmt.Sprintf("too many %s; try again in %s", e.what, e.retryAfter.Round(time.Second))
}

func (e *rateLimitedError) Is(target error) bool { return target == errTooManyRequests }

// methodNotAllowedError is errMethodNotAllowed with the methods the path has.
type methodNotAllowedError struct {
	allow []string
}

func (e *methodNotAllowedError) Error() string {
	return "this route accepts " + strings.Join(e.allow, ", ")
}

func (e *methodNotAllowedError) Is(target error) bool { return target == errMethodNotAllowed }

// problemKind is how one kind of error is shown.
type problemKind struct {
	status int
	slug   string // the last part of the problem type URI
	title  string
}

// kindOf is the one place where error kinds become HTTP status codes.
func kindOf(err error) problemKind {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return problemKind{http.StatusRequestEntityTooLarge, "body-too-large", "Request body too large"}
	case errors.Is(err, errBadRequest):
		return problemKind{http.StatusBadRequest, "malformed-request", "Malformed request"}
	case errors.Is(err, errUnsupportedMediaType):
		return problemKind{http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type"}
	case errors.Is(err, crm.ErrInvalid):
		return problemKind{http.StatusUnprocessableEntity, "invalid-input", "Invalid input"}
	case errors.Is(err, errUnauthenticated), errors.Is(err, crm.ErrBadCredentials):
		return problemKind{http.StatusUnauthorized, "unauthenticated", "Authentication required"}
	case errors.Is(err, crm.ErrForbidden):
		return problemKind{http.StatusForbidden, "forbidden", "Forbidden"}
	case errors.Is(err, crm.ErrNotFound), errors.Is(err, errNoRoute):
		return problemKind{http.StatusNotFound, "not-found", "Not found"}
	case errors.Is(err, errMethodNotAllowed):
		return problemKind{http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed"}
	case errors.Is(err, crm.ErrConflict):
		return problemKind{http.StatusConflict, "conflict", "Conflict"}
	case errors.Is(err, errTooManyRequests):
		return problemKind{http.StatusTooManyRequests, "too-many-requests", "Too many requests"}
	default:
		return problemKind{http.StatusInternalServerError, "internal", "Internal server error"}
	}
}

// problemTypeBase prefixes the problem type URIs. They are names, not pages:
// RFC 9457 allows a non-resolvable URI.
const problemTypeBase = "urn:dialogo:problem:"

// problem is an RFC 9457 problem-details body, with Dialogo's extensions: the
// offending field (for input errors) and the request id to quote to support.
type problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail"`
	Instance  string         `json:"instance"`
	Field     string         `json:"field,omitempty"`
	Errors    []fieldProblem `json:"errors,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
}

type fieldProblem struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// writeProblem renders err. Messages of the error kinds are written for people
// and shown as the detail; anything else is an internal error whose message may
// hold SQL or addresses, so it is logged and replaced by a generic detail.
func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	k := kindOf(err)
	reqID := requestInfoOf(r).id
	p := problem{
		Type:      problemTypeBase + k.slug,
		Title:     k.title,
		Status:    k.status,
		Detail:    err.Error(),
		Instance:  r.URL.Path,
		RequestID: reqID,
	}
	var fe *crm.FieldError
	var be *badRequestError
	switch {
	case errors.As(err, &fe) && fe.Field != "":
		p.Field, p.Errors = fe.Field, []fieldProblem{{fe.Field, fe.Reason}}
	case errors.As(err, &be) && be.field != "":
		p.Field, p.Errors = be.field, []fieldProblem{{be.field, be.reason}}
	}
	h := w.Header()
	var tooLarge *http.MaxBytesError
	var limited *rateLimitedError
	var notAllowed *methodNotAllowedError
	switch {
	case k.status == http.StatusInternalServerError:
		s.log.ErrorContext(r.Context(), "internal error", "request_id", reqID, "method", r.Method,
			"pattern", r.Pattern, "error", err)
		p.Detail = "An internal error occurred. It has been logged; quote request " + reqID + " when reporting it."
	case errors.As(err, &tooLarge):
		p.Detail = fmt.Sprintf("The request body is larger than %d bytes.", tooLarge.Limit)
	case k.status == http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="dialogo"`)
	case errors.As(err, &limited):
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(limited.retryAfter.Seconds()))))
	case errors.As(err, &notAllowed):
		h.Set("Allow", strings.Join(notAllowed.allow, ", "))
	}
	body, merr := json.Marshal(p)
	if merr != nil {
		// A problem made of strings and ints always encodes.
		panic(merr)
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(k.status)
	_, _ = w.Write(append(body, '\n'))
}
