package web

import (
	"net/http"

	"github.com/dialogo-pa/dialogo/crm"
)

// contactView is a contact with its identities always listed, even when there
// are none.
type contactView struct {
	crm.Contact
	Identities []crm.Identity `json:"identities"`
}

func viewContact(c crm.Contact) contactView {
	ids := c.Identities
	if ids == nil {
		ids = []crm.Identity{}
	}
	return contactView{Contact: c, Identities: ids}
}

// searchContacts finds the tenant's active contacts by name, e-mail, codice
// fiscale or phone, in id order; the cursor is the last id seen.
func (s *Server) searchContacts(w http.ResponseWriter, r *http.Request) error {
	after, err := queryID(r, "after")
	if err != nil {
		return err
	}
	limit, err := queryLimit(r, 50, 200)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	cs, err := s.store.SearchContacts(r.Context(), actorOf(r).TenantID, crm.ContactQuery{
		Q: q.Get("q"), Email: q.Get("email"), CodiceFiscale: q.Get("codice_fiscale"), Phone: q.Get("phone"),
		AfterID: after, Limit: limit,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(cs, limit, func(c crm.Contact) int64 { return c.ID }))
}

// contact returns the contact named in the path, or ErrNotFound when the
// caller's tenant has no such contact.
func (s *Server) contact(r *http.Request) (crm.Contact, error) {
	id, err := pathID(r, "contact_id")
	if err != nil {
		return crm.Contact{}, err
	}
	return s.store.Contact(r.Context(), actorOf(r).TenantID, id)
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request) error {
	c, err := s.contact(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewContact(c))
}

type mergeRequest struct {
	SourceID int64  `json:"source_id"`
	Reason   string `json:"reason"`
}

// mergeContacts folds the source contact of the body into the one in the path.
func (s *Server) mergeContacts(w http.ResponseWriter, r *http.Request) error {
	target, err := pathID(r, "contact_id")
	if err != nil {
		return err
	}
	var in mergeRequest
	if err := decodeJSON(w, r, defaultBodyLimit, &in); err != nil {
		return err
	}
	if in.SourceID <= 0 {
		return crm.Invalid("source_id", "is required: the id of the contact to merge into this one")
	}
	res, err := s.store.Merge(r.Context(), actorOf(r), target, in.SourceID, in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, mergeResultView{MergeResult: res, Target: viewContact(res.Target)})
}

// mergeResultView shows the merged contact with its identities.
type mergeResultView struct {
	crm.MergeResult
	Target contactView `json:"target"`
}

// contactSuggestions lists the open merge suggestions that involve a contact,
// oldest first.
func (s *Server) contactSuggestions(w http.ResponseWriter, r *http.Request) error {
	c, err := s.contact(r)
	if err != nil {
		return err
	}
	limit, err := queryLimit(r, 100, 500)
	if err != nil {
		return err
	}
	ms, err := s.store.MergeSuggestions(r.Context(), actorOf(r).TenantID, c.ID, limit)
	if err != nil {
		return err
	}
	// crm lists suggestions without a cursor: one page of up to limit.
	return writeJSON(w, http.StatusOK, newPage(ms, 0, nil))
}

// listSuggestions lists the tenant's open merge suggestions, oldest first.
func (s *Server) listSuggestions(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryLimit(r, 100, 500)
	if err != nil {
		return err
	}
	ms, err := s.store.MergeSuggestions(r.Context(), actorOf(r).TenantID, 0, limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(ms, 0, nil))
}

// dismissSuggestion records that the two contacts of a suggestion are different people.
func (s *Server) dismissSuggestion(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "suggestion_id")
	if err != nil {
		return err
	}
	if err := s.store.DismissSuggestion(r.Context(), actorOf(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listIdentities(w http.ResponseWriter, r *http.Request) error {
	c, err := s.contact(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(c.Identities, 0, nil))
}

type identityRequest struct {
	Kind       crm.IdentityKind `json:"kind"`
	ExternalID string           `json:"external_id"`
	Verified   bool             `json:"verified"`
	VerifiedBy string           `json:"verified_by"`
}

// addIdentity attaches an identity to a contact on the word of the caller; an
// identity of another contact is a conflict (merge the two instead).
func (s *Server) addIdentity(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "contact_id")
	if err != nil {
		return err
	}
	var in identityRequest
	if err := decodeJSON(w, r, defaultBodyLimit, &in); err != nil {
		return err
	}
	idn, err := s.store.AddIdentity(r.Context(), actorOf(r), id, crm.IdentityClaim{
		Kind: in.Kind, ExternalID: in.ExternalID, Verified: in.Verified, VerifiedBy: in.VerifiedBy,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, idn)
}

// listConsents lists the consents in force, or with ?history=true every
// decision, newest first.
func (s *Server) listConsents(w http.ResponseWriter, r *http.Request) error {
	history, err := queryBool(r, "history")
	if err != nil {
		return err
	}
	c, err := s.contact(r)
	if err != nil {
		return err
	}
	cs, err := s.store.Consents(r.Context(), actorOf(r).TenantID, c.ID, history)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(cs, 0, nil))
}

type consentRequest struct {
	Channel string `json:"channel"`
	Purpose string `json:"purpose"`
	Granted *bool  `json:"granted"`
	Source  string `json:"source"`
}

func (s *Server) recordConsent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "contact_id")
	if err != nil {
		return err
	}
	var in consentRequest
	if err := decodeJSON(w, r, defaultBodyLimit, &in); err != nil {
		return err
	}
	// A missing decision must not be read as a refusal, nor as consent.
	if in.Granted == nil {
		return crm.Invalid("granted", "is required: true to grant, false to refuse or withdraw")
	}
	c, err := s.store.RecordConsent(r.Context(), actorOf(r), id, crm.ConsentInput{
		Channel: in.Channel, Purpose: in.Purpose, Granted: *in.Granted, Source: in.Source,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, c)
}
