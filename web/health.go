package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// healthTimeout bounds the database ping of a health check.
const healthTimeout = 2 * time.Second

type healthResponse struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// healthz answers 200 when the database answers a ping within healthTimeout,
// and 503 with the reason otherwise. The reason is a category; the error
// itself, which may name hosts and users, goes to the log.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	err := errors.New("no database configured")
	if s.pool != nil {
		err = s.pool.Ping(ctx)
	}
	if err == nil {
		return writeJSON(w, http.StatusOK, healthResponse{Status: "ok"})
	}
	reason := "database: ping failed"
	var connectErr *pgconn.ConnectError
	switch {
	case s.pool == nil:
		reason = "database: not configured"
	case errors.Is(err, context.DeadlineExceeded):
		reason = "database: no answer within " + healthTimeout.String()
	case errors.As(err, &connectErr):
		reason = "database: cannot connect"
	case errors.Is(err, puddle.ErrClosedPool):
		reason = "database: connection pool closed"
	}
	s.log.WarnContext(r.Context(), "health check failed", "request_id", requestInfoOf(r).id, "error", err)
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusServiceUnavailable, healthResponse{Status: "unavailable", Reason: reason})
}

// metricsHandler serves the registry in the Prometheus exposition format.
func (s *Server) metricsHandler() handlerFunc {
	h := promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry})
	return func(w http.ResponseWriter, r *http.Request) error {
		h.ServeHTTP(w, r)
		return nil
	}
}
