package web

import (
	"net/http"
	"unicode/utf8"

	"github.com/dialogo-pa/dialogo/crm"
)

// getFascicolo returns a contact's fascicolo. crm writes every read to the audit
// log, with the purpose the caller gives in ?purpose= (e.g. "richiesta del
// cittadino in chat").
func (s *Server) getFascicolo(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "contact_id")
	if err != nil {
		return err
	}
	purpose := r.URL.Query().Get("purpose")
	if !utf8.ValidString(purpose) || utf8.RuneCountInString(purpose) > 500 {
		return crm.Invalid("purpose", "up to 500 characters")
	}
	f, err := s.store.Fascicolo(r.Context(), actorOf(r), id, purpose)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, fascicoloView{Fascicolo: f, Contact: viewContact(f.Contact)})
}

// fascicoloView shows the fascicolo's contact with its identities.
type fascicoloView struct {
	crm.Fascicolo
	Contact contactView `json:"contact"`
}

type importRequest struct {
	Records []crm.FascicoloRecord `json:"records"`
}

// importFascicolo loads pratiche, avvisi, documents and appointments keyed by
// codice fiscale, all or nothing.
func (s *Server) importFascicolo(w http.ResponseWriter, r *http.Request) error {
	var in importRequest
	if err := decodeJSON(w, r, importBodyLimit, &in); err != nil {
		return err
	}
	res, err := s.store.ImportFascicolo(r.Context(), actorOf(r), in.Records)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}
