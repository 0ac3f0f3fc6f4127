package console

import (
	"fmt"
	"net/http"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
)

// citizenView is the panel beside the conversation: who the citizen is, how
// they were recognised on each channel, what they consented to, and (for an
// identified citizen, on request) their fascicolo.
type citizenView struct {
	Contact     crm.Contact
	Consents    []crm.Consent
	Suggestions int
	// Verified is set for a citizen with a verified codice fiscale: only they
	// have a fascicolo.
	Verified  bool
	ConvID    int64
	Fascicolo *fascicoloView
}

// fascicoloView is the fascicolo as the panel shows it.
type fascicoloView struct {
	crm.Fascicolo
	ReadAt      time.Time
	Overdue     int
	UnpaidCents int64
}

func (c *Console) citizen(r *http.Request, rq *request, conv crm.Conversation, contact crm.Contact) (citizenView, error) {
	v := citizenView{Contact: contact, Verified: contact.CodiceFiscale != "", ConvID: conv.ID}
	var err error
	if v.Consents, err = c.store.Consents(r.Context(), rq.staff.TenantID, contact.ID, false); err != nil {
		return v, err
	}
	suggestions, err := c.store.MergeSuggestions(r.Context(), rq.staff.TenantID, contact.ID, 100)
	if err != nil {
		return v, err
	}
	v.Suggestions = len(suggestions)
	return v, nil
}

// readFascicolo reads the citizen's fascicolo through crm, which writes the
// read to the audit log with the conversation as its purpose: every opening
// is recorded.
func (c *Console) readFascicolo(r *http.Request, rq *request, conv crm.Conversation) (*fascicoloView, error) {
	// The purpose goes into the ente's audit log, which is kept in Italian.
	purpose := fmt.Sprintf("Consultazione dalla console operatori, conversazione n. %d", conv.ID)
	f, err := c.store.Fascicolo(r.Context(), rq.actor(), conv.ContactID, purpose)
	if err != nil {
		return nil, err
	}
	v := &fascicoloView{Fascicolo: f, ReadAt: now()}
	for _, a := range f.Avvisi {
		if a.Status == "unpaid" {
			v.UnpaidCents += a.AmountCents
		}
		if a.Overdue {
			v.Overdue++
		}
	}
	return v, nil
}

// fascicolo is the fascicolo alone, which console.js fetches when the operator
// asks to see it.
func (c *Console) fascicolo(w http.ResponseWriter, r *http.Request, rq *request) error {
	// Only the console's script asks for it (a header no other site can
	// send without the server's consent), since every read is audited.
	if !rq.fetch || !sameSite(r) {
		return fmt.Errorf("%w: the fascicolo opens from the console's page", crm.ErrForbidden)
	}
	conv, err := c.loadConversation(r, rq)
	if err != nil {
		return err
	}
	contact, err := c.store.Contact(r.Context(), rq.staff.TenantID, conv.ContactID)
	if err != nil {
		return err
	}
	if contact.CodiceFiscale == "" {
		return fmt.Errorf("%w: the citizen has no verified codice fiscale, and so no fascicolo", crm.ErrNotFound)
	}
	f, err := c.readFascicolo(r, rq, conv)
	if err != nil {
		return err
	}
	return c.render(w, http.StatusOK, rq.lang, "conversation", "fascicolo", f)
}
