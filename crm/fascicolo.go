package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Date is a calendar day, written as 2006-01-02 in JSON.
type Date struct{ time.Time }

// MarshalJSON writes the day as YYYY-MM-DD.
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.Format(time.DateOnly)) }

// UnmarshalJSON reads YYYY-MM-DD.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a date is a string YYYY-MM-DD")
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("a date is written YYYY-MM-DD")
	}
	d.Time = t
	return nil
}

// PraticaEvent is one step of a pratica's status timeline.
type PraticaEvent struct {
	Status     string    `json:"status"`
	Note       string    `json:"note,omitempty"`
	OccurredAt time.Time `json:"occurred_at"`
}

// Pratica is a case of the citizen with the ente.
type Pratica struct {
	ID        int64          `json:"id"`
	Reference string         `json:"reference"`
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    string         `json:"status"`
	Office    string         `json:"office"`
	OpenedAt  time.Time      `json:"opened_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	Timeline  []PraticaEvent `json:"timeline"`
}

// Avviso is an avviso pagoPA addressed to the citizen.
type Avviso struct {
	ID                 int64      `json:"id"`
	NoticeNumber       string     `json:"notice_number"`
	CreditorFiscalCode string     `json:"creditor_fiscal_code"`
	Description        string     `json:"description"`
	AmountCents        int64      `json:"amount_cents"`
	DueDate            Date       `json:"due_date"`
	Status             string     `json:"status"` // unpaid, paid, cancelled
	Overdue            bool       `json:"overdue"`
	PaidAt             *time.Time `json:"paid_at,omitempty"`
}

// Document is a document issued to the citizen.
type Document struct {
	ID        int64     `json:"id"`
	Reference string    `json:"reference"`
	Kind      string    `json:"kind"`
	Title     string    `json:"title"`
	URL       string    `json:"url,omitempty"`
	IssuedAt  time.Time `json:"issued_at"`
}

// Appointment is a booking at a (remote) sportello.
type Appointment struct {
	ID        int64     `json:"id"`
	Reference string    `json:"reference"`
	Service   string    `json:"service"`
	Location  string    `json:"location"`
	Mode      string    `json:"mode"` // in_person, video, phone
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	Status    string    `json:"status"` // booked, cancelled, done, no_show
}

// Fascicolo is the citizen's dossier.
type Fascicolo struct {
	Contact      Contact       `json:"contact"`
	Pratiche     []Pratica     `json:"pratiche"`
	Avvisi       []Avviso      `json:"avvisi"`
	Documents    []Document    `json:"documents"`
	Appointments []Appointment `json:"appointments"`
}

// Fascicolo reads a contact's fascicolo and writes the read to the audit log in the
// same transaction: there is no read without its record. Operators and
// supervisors read it (and the system, for the assistant answering the citizen).
func (s *Store) Fascicolo(ctx context.Context, a Actor, contactID int64, purpose string) (Fascicolo, error) {
	if err := a.Require(RoleOperator, RoleSupervisor); err != nil {
		return Fascicolo{}, err
	}
	var f Fascicolo
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		if f.Contact, err = tx.Contact(ctx, a.TenantID, contactID); err != nil {
			return err
		}
		if f.Contact.MergedInto != nil {
			return fmt.Errorf("%w: contact %d was merged into %d", ErrNotFound, contactID, *f.Contact.MergedInto)
		}
		if f.Pratiche, err = tx.pratiche(ctx, a.TenantID, contactID); err != nil {
			return err
		}
		if f.Avvisi, err = tx.avvisi(ctx, a.TenantID, contactID); err != nil {
			return err
		}
		if f.Documents, err = tx.documents(ctx, a.TenantID, contactID); err != nil {
			return err
		}
		if f.Appointments, err = tx.appointments(ctx, a.TenantID, contactID); err != nil {
			return err
		}
		return tx.Audit(ctx, a, AuditEntry{Action: "fascicolo.read", ContactID: contactID, Reason: purpose,
			Detail: map[string]any{"pratiche": len(f.Pratiche), "avvisi": len(f.Avvisi),
				"documents": len(f.Documents), "appointments": len(f.Appointments)}})
	})
	return f, err
}

func (s *Store) pratiche(ctx context.Context, tenantID, contactID int64) ([]Pratica, error) {
	rows, err := s.db.Query(ctx, `
		SELECT p.id, p.reference, p.type, p.title, p.status, p.office, p.opened_at, p.updated_at,
		       coalesce(jsonb_agg(jsonb_build_object('status', e.status, 'note', e.note, 'occurred_at', e.occurred_at)
		                ORDER BY e.occurred_at, e.id) FILTER (WHERE e.id IS NOT NULL), '[]')
		FROM pratiche p LEFT JOIN pratica_events e ON e.tenant_id = p.tenant_id AND e.pratica_id = p.id
		WHERE p.tenant_id = $1 AND p.contact_id = $2
		GROUP BY p.tenant_id, p.id ORDER BY p.updated_at DESC, p.id`, tenantID, contactID)
	if err != nil {
		return nil, fmt.Errorf("pratiche(%d): %w", contactID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Pratica, error) {
		var p Pratica
		err := r.Scan(&p.ID, &p.Reference, &p.Type, &p.Title, &p.Status, &p.Office, &p.OpenedAt, &p.UpdatedAt, &p.Timeline)
		return p, err
	})
}

func (s *Store) avvisi(ctx context.Context, tenantID, contactID int64) ([]Avviso, error) {
	rows, err := s.db.Query(ctx, `
		SELECT id, notice_number, creditor_fiscal_code, description, amount_cents, due_date, status,
		       status = 'unpaid' AND due_date < current_date, paid_at
		FROM avvisi WHERE tenant_id = $1 AND contact_id = $2 ORDER BY due_date DESC, id`, tenantID, contactID)
	if err != nil {
		return nil, fmt.Errorf("avvisi(%d): %w", contactID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Avviso, error) {
		var a Avviso
		err := r.Scan(&a.ID, &a.NoticeNumber, &a.CreditorFiscalCode, &a.Description, &a.AmountCents, &a.DueDate.Time,
			&a.Status, &a.Overdue, &a.PaidAt)
		return a, err
	})
}

func (s *Store) documents(ctx context.Context, tenantID, contactID int64) ([]Document, error) {
	rows, err := s.db.Query(ctx, `SELECT id, reference, kind, title, url, issued_at FROM documents
		WHERE tenant_id = $1 AND contact_id = $2 ORDER BY issued_at DESC, id`, tenantID, contactID)
	if err != nil {
		return nil, fmt.Errorf("documents(%d): %w", contactID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Document, error) {
		var d Document
		err := r.Scan(&d.ID, &d.Reference, &d.Kind, &d.Title, &d.URL, &d.IssuedAt)
		return d, err
	})
}

func (s *Store) appointments(ctx context.Context, tenantID, contactID int64) ([]Appointment, error) {
	rows, err := s.db.Query(ctx, `SELECT id, reference, service, location, mode, starts_at, ends_at, status FROM appointments
		WHERE tenant_id = $1 AND contact_id = $2 ORDER BY starts_at DESC, id`, tenantID, contactID)
	if err != nil {
		return nil, fmt.Errorf("appointments(%d): %w", contactID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Appointment, error) {
		var a Appointment
		err := r.Scan(&a.ID, &a.Reference, &a.Service, &a.Location, &a.Mode, &a.StartsAt, &a.EndsAt, &a.Status)
		return a, err
	})
}

// FascicoloRecord is one citizen's part of an import, keyed by codice fiscale.
// Items are identified by their reference (a pratica's protocol number, an
// avviso's creditor + notice number): importing again updates them.
type FascicoloRecord struct {
	CodiceFiscale string        `json:"codice_fiscale"`
	GivenName     string        `json:"given_name"`
	FamilyName    string        `json:"family_name"`
	Email         string        `json:"email"`
	Phone         string        `json:"phone"`
	Pratiche      []Pratica     `json:"pratiche"`
	Avvisi        []Avviso      `json:"avvisi"`
	Documents     []Document    `json:"documents"`
	Appointments  []Appointment `json:"appointments"`
}

// ImportResult counts what an import wrote.
type ImportResult struct {
	Contacts        int `json:"contacts"`
	ContactsCreated int `json:"contacts_created"`
	Pratiche        int `json:"pratiche"`
	Events          int `json:"events"`
	Avvisi          int `json:"avvisi"`
	Documents       int `json:"documents"`
	Appointments    int `json:"appointments"`
}

// MaxImportRecords bounds one import call.
const MaxImportRecords = 1000

func checkLen(field, v string, min, max int) error {
	n := len([]rune(strings.TrimSpace(v)))
	if n < min || n > max {
		if min > 0 {
			return Invalid(field, fmt.Sprintf("is required, up to %d characters", max))
		}
		return Invalid(field, fmt.Sprintf("up to %d characters", max))
	}
	return nil
}

// validate checks a record and returns the first error, its field named by path.
func (r *FascicoloRecord) validate(path string) error {
	cf, err := NormalizeCodiceFiscale(r.CodiceFiscale)
	if err != nil {
		return withField(err, path+"codice_fiscale")
	}
	r.CodiceFiscale = cf
	if err := checkLen(path+"given_name", r.GivenName, 0, 200); err != nil {
		return err
	}
	if err := checkLen(path+"family_name", r.FamilyName, 0, 200); err != nil {
		return err
	}
	if r.Email != "" {
		if r.Email, err = normalizeEmail(path+"email", r.Email); err != nil {
			return err
		}
	}
	if r.Phone != "" {
		if r.Phone, err = NormalizePhone(path+"phone", r.Phone); err != nil {
			return err
		}
	}
	for i := range r.Pratiche {
		p, pp := &r.Pratiche[i], path+"pratiche["+strconv.Itoa(i)+"]."
		for _, c := range []struct {
			f, v     string
			min, max int
		}{{"reference", p.Reference, 1, 100}, {"type", p.Type, 1, 200}, {"title", p.Title, 1, 500}, {"office", p.Office, 0, 200}} {
			if err := checkLen(pp+c.f, c.v, c.min, c.max); err != nil {
				return err
			}
		}
		if p.OpenedAt.IsZero() {
			return Invalid(pp+"opened_at", "is required")
		}
		if len(p.Timeline) == 0 && p.Status == "" {
			return Invalid(pp+"status", "give a status or a timeline")
		}
		for j, e := range p.Timeline {
			ep := pp + "timeline[" + strconv.Itoa(j) + "]."
			if err := checkLen(ep+"status", e.Status, 1, 100); err != nil {
				return err
			}
			if err := checkLen(ep+"note", e.Note, 0, 2000); err != nil {
				return err
			}
			if e.OccurredAt.IsZero() {
				return Invalid(ep+"occurred_at", "is required")
			}
		}
		if p.Status == "" {
			p.Status = latestEvent(p.Timeline).Status
		}
		if err := checkLen(pp+"status", p.Status, 1, 100); err != nil {
			return err
		}
	}
	for i := range r.Avvisi {
		a, ap := &r.Avvisi[i], path+"avvisi["+strconv.Itoa(i)+"]."
		if err := ValidateNoticeNumber(a.NoticeNumber); err != nil {
			return withField(err, ap+"notice_number")
		}
		if err := ValidateCreditorFiscalCode(a.CreditorFiscalCode); err != nil {
			return withField(err, ap+"creditor_fiscal_code")
		}
		if err := checkLen(ap+"description", a.Description, 1, 140); err != nil {
			return err
		}
		if a.AmountCents < 1 || a.AmountCents > 9999999999 {
			return Invalid(ap+"amount_cents", "an amount in euro cents, from 1 to 9999999999")
		}
		if a.DueDate.IsZero() {
			return Invalid(ap+"due_date", "is required")
		}
		switch a.Status {
		case "":
			a.Status = "unpaid"
		case "unpaid", "cancelled":
		case "paid":
			if a.PaidAt == nil {
				return Invalid(ap+"paid_at", "is required for a paid avviso")
			}
		default:
			return Invalid(ap+"status", "one of unpaid, paid, cancelled")
		}
		if a.Status != "paid" {
			a.PaidAt = nil
		}
	}
	for i, d := range r.Documents {
		dp := path + "documents[" + strconv.Itoa(i) + "]."
		for _, c := range []struct {
			f, v     string
			min, max int
		}{{"reference", d.Reference, 1, 100}, {"kind", d.Kind, 1, 100}, {"title", d.Title, 1, 500}, {"url", d.URL, 0, 2000}} {
			if err := checkLen(dp+c.f, c.v, c.min, c.max); err != nil {
				return err
			}
		}
		if d.IssuedAt.IsZero() {
			return Invalid(dp+"issued_at", "is required")
		}
	}
	for i, a := range r.Appointments {
		ap := path + "appointments[" + strconv.Itoa(i) + "]."
		for _, c := range []struct {
			f, v     string
			min, max int
		}{{"reference", a.Reference, 1, 100}, {"service", a.Service, 1, 200}, {"location", a.Location, 0, 300}} {
			if err := checkLen(ap+c.f, c.v, c.min, c.max); err != nil {
				return err
			}
		}
		if a.Mode != "in_person" && a.Mode != "video" && a.Mode != "phone" {
			return Invalid(ap+"mode", "one of in_person, video, phone")
		}
		if a.Status != "booked" && a.Status != "cancelled" && a.Status != "done" && a.Status != "no_show" {
			return Invalid(ap+"status", "one of booked, cancelled, done, no_show")
		}
		if a.StartsAt.IsZero() || !a.EndsAt.After(a.StartsAt) {
			return Invalid(ap+"ends_at", "starts_at and ends_at are required, ends_at after starts_at")
		}
	}
	return nil
}

func latestEvent(es []PraticaEvent) PraticaEvent {
	var last PraticaEvent
	for _, e := range es {
		if !e.OccurredAt.Before(last.OccurredAt) {
			last = e
		}
	}
	return last
}

// ImportFascicolo writes the records, all or nothing: every record is validated
// first, and an error names the first bad field (records[3].avvisi[0].notice_number).
// Contacts are found or created by their verified codice fiscale. Only admins (and
// tokens with the admin role) import. The import is audited per contact.
func (s *Store) ImportFascicolo(ctx context.Context, a Actor, records []FascicoloRecord) (ImportResult, error) {
	if err := a.Require(RoleAdmin); err != nil {
		return ImportResult{}, err
	}
	if len(records) == 0 || len(records) > MaxImportRecords {
		return ImportResult{}, Invalid("records", fmt.Sprintf("from 1 to %d records per import", MaxImportRecords))
	}
	// Validation normalises the records in place: work on a copy, so that the
	// caller's records stay as given (and can be imported again).
	records = slices.Clone(records)
	for i := range records {
		records[i].Pratiche = slices.Clone(records[i].Pratiche)
		records[i].Avvisi = slices.Clone(records[i].Avvisi)
		if err := records[i].validate("records[" + strconv.Itoa(i) + "]."); err != nil {
			return ImportResult{}, err
		}
	}
	var res ImportResult
	err := s.InTx(ctx, func(tx *Store) error {
		for _, r := range records {
			n, err := tx.importRecord(ctx, a, r)
			if err != nil {
				return err
			}
			res.Contacts++
			if n.ContactsCreated > 0 {
				res.ContactsCreated++
			}
			res.Pratiche += n.Pratiche
			res.Events += n.Events
			res.Avvisi += n.Avvisi
			res.Documents += n.Documents
			res.Appointments += n.Appointments
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

func (s *Store) importRecord(ctx context.Context, a Actor, r FascicoloRecord) (ImportResult, error) {
	var n ImportResult
	res, err := s.ResolveContact(ctx, a.TenantID, IdentityClaim{Kind: IdentityCodiceFiscale, ExternalID: r.CodiceFiscale,
		Verified: true, VerifiedBy: VerifiedImport, GivenName: r.GivenName, FamilyName: r.FamilyName, Email: r.Email})
	if err != nil {
		return n, err
	}
	if res.Created {
		n.ContactsCreated = 1
	}
	cid := res.ContactID
	// A contact already known by its codice fiscale takes the details it lacks.
	given, family := strings.TrimSpace(r.GivenName), strings.TrimSpace(r.FamilyName)
	if _, err := s.db.Exec(ctx, `UPDATE contacts SET
		    email = CASE WHEN email = '' THEN $3 ELSE email END,
		    phone = CASE WHEN phone = '' THEN $4 ELSE phone END,
		    given_name = CASE WHEN given_name = '' THEN $5 ELSE given_name END,
		    family_name = CASE WHEN family_name = '' THEN $6 ELSE family_name END,
		    display_name = CASE WHEN display_name = '' THEN $7 ELSE display_name END
		WHERE tenant_id = $1 AND id = $2`, a.TenantID, cid, r.Email, r.Phone,
		given, family, strings.TrimSpace(given+" "+family)); err != nil {
		return n, fmt.Errorf("import: %w", err)
	}
	t := a.TenantID
	batch := &pgx.Batch{}
	for _, p := range r.Pratiche {
		updated := p.OpenedAt
		if last := latestEvent(p.Timeline); last.OccurredAt.After(updated) {
			updated = last.OccurredAt
		}
		batch.Queue(`
			INSERT INTO pratiche (tenant_id, contact_id, reference, type, title, status, office, opened_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (tenant_id, reference) DO UPDATE SET contact_id = EXCLUDED.contact_id, type = EXCLUDED.type,
			    title = EXCLUDED.title, status = EXCLUDED.status, office = EXCLUDED.office,
			    opened_at = EXCLUDED.opened_at, updated_at = EXCLUDED.updated_at`,
			t, cid, p.Reference, p.Type, p.Title, p.Status, p.Office, p.OpenedAt, updated)
		for _, e := range p.Timeline {
			batch.Queue(`
				INSERT INTO pratica_events (tenant_id, pratica_id, status, note, occurred_at)
				SELECT $1, id, $3, $4, $5 FROM pratiche WHERE tenant_id = $1 AND reference = $2
				ON CONFLICT (tenant_id, pratica_id, occurred_at, status) DO UPDATE SET note = EXCLUDED.note`,
				t, p.Reference, e.Status, e.Note, e.OccurredAt)
			n.Events++
		}
		n.Pratiche++
	}
	for _, av := range r.Avvisi {
		batch.Queue(`
			INSERT INTO avvisi (tenant_id, contact_id, notice_number, creditor_fiscal_code, description, amount_cents,
			    due_date, status, paid_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (tenant_id, creditor_fiscal_code, notice_number) DO UPDATE SET contact_id = EXCLUDED.contact_id,
			    description = EXCLUDED.description, amount_cents = EXCLUDED.amount_cents, due_date = EXCLUDED.due_date,
			    status = EXCLUDED.status, paid_at = EXCLUDED.paid_at`,
			t, cid, av.NoticeNumber, av.CreditorFiscalCode, av.Description, av.AmountCents, av.DueDate.Time, av.Status, av.PaidAt)
		n.Avvisi++
	}
	for _, d := range r.Documents {
		batch.Queue(`
			INSERT INTO documents (tenant_id, contact_id, reference, kind, title, url, issued_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (tenant_id, reference) DO UPDATE SET contact_id = EXCLUDED.contact_id, kind = EXCLUDED.kind,
			    title = EXCLUDED.title, url = EXCLUDED.url, issued_at = EXCLUDED.issued_at`,
			t, cid, d.Reference, d.Kind, d.Title, d.URL, d.IssuedAt)
		n.Documents++
	}
	for _, ap := range r.Appointments {
		batch.Queue(`
			INSERT INTO appointments (tenant_id, contact_id, reference, service, location, mode, starts_at, ends_at, status)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (tenant_id, reference) DO UPDATE SET contact_id = EXCLUDED.contact_id, service = EXCLUDED.service,
			    location = EXCLUDED.location, mode = EXCLUDED.mode, starts_at = EXCLUDED.starts_at,
			    ends_at = EXCLUDED.ends_at, status = EXCLUDED.status`,
			t, cid, ap.Reference, ap.Service, ap.Location, ap.Mode, ap.StartsAt, ap.EndsAt, ap.Status)
		n.Appointments++
	}
	if batch.Len() > 0 {
		if err := s.db.SendBatch(ctx, batch).Close(); err != nil {
			return n, fmt.Errorf("import %s: %w", r.CodiceFiscale, err)
		}
	}
	err = s.Audit(ctx, a, AuditEntry{Action: "fascicolo.import", ContactID: cid, Detail: map[string]any{
		"pratiche": n.Pratiche, "avvisi": n.Avvisi, "documents": n.Documents, "appointments": n.Appointments}})
	return n, err
}
