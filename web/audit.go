package web

import (
	"net/http"

	"github.com/dialogo-pa/dialogo/crm"
)

// auditLog lists the tenant's audit entries, newest first, optionally for one
// contact or one action; the cursor is the last id seen, passed back as before.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) error {
	q := crm.AuditQuery{Action: r.URL.Query().Get("action")}
	var err error
	if q.ContactID, err = queryID(r, "contact_id"); err != nil {
		return err
	}
	if q.BeforeID, err = queryID(r, "before"); err != nil {
		return err
	}
	if q.Limit, err = queryLimit(r, 100, 500); err != nil {
		return err
	}
	es, err := s.store.AuditLog(r.Context(), actorOf(r), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(es, q.Limit, func(e crm.AuditEntry) int64 { return e.ID }))
}
