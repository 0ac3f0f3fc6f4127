package web

import (
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/knowledge"
)

// removeKnowledgeSource takes a source, with all its passages, out of the
// ente's knowledge base: the assistant stops answering from it at once.
func (s *Server) removeKnowledgeSource(w http.ResponseWriter, r *http.Request) error {
	name := r.URL.Query().Get("name")
	switch {
	case name == "":
		return crm.Invalid("name", "is required: the name the source was ingested under (its path or URL)")
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > 2000:
		return crm.Invalid("name", "up to 2000 characters")
	}
	ctx := r.Context()
	a := actorOf(r)
	// knowledge.Remove runs on the pool, outside the audit's transaction: the
	// entry is written first and rolled back when the removal fails, so that
	// the log never shows a removal that did not happen.
	err := s.store.InTx(ctx, func(tx *crm.Store) error {
		if err := tx.Audit(ctx, a, crm.AuditEntry{Action: "knowledge.remove", Detail: map[string]any{"name": name}}); err != nil {
			return err
		}
		err := knowledge.Remove(ctx, s.pool, a.TenantID, name)
		if errors.Is(err, knowledge.ErrNotFound) {
			return fmt.Errorf("%w: the knowledge base has no source named %q", crm.ErrNotFound, name)
		}
		return err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
