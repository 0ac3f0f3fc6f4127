package crm

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// IdentityKind is the kind of key that recognises a contact on a channel.
type IdentityKind string

// The identity kinds.
const (
	IdentityWebchat       IdentityKind = "webchat"        // a web-chat visitor id
	IdentityEmail         IdentityKind = "email"          // an e-mail address
	IdentityTelegram      IdentityKind = "telegram"       // a Telegram user id
	IdentityCodiceFiscale IdentityKind = "codice_fiscale" // app IO, SPID/CIE
	IdentityPhone         IdentityKind = "phone"          // E.164 phone number
)

// Verification methods, stored with a verified identity.
const (
	VerifiedSPID           = "spid"
	VerifiedCIE            = "cie"
	VerifiedOIDC           = "oidc"
	VerifiedEmailLink      = "email_link"
	VerifiedTelegram       = "telegram"
	VerifiedOperator       = "operator"
	VerifiedImport         = "import"
	VerifiedSignedIdentity = "signed_identity"
)

var verifiedByValues = map[string]bool{
	VerifiedSPID: true, VerifiedCIE: true, VerifiedOIDC: true, VerifiedEmailLink: true, VerifiedTelegram: true,
	VerifiedOperator: true, VerifiedImport: true, VerifiedSignedIdentity: true,
}

// Identity is one way a contact is known on a channel.
type Identity struct {
	ID         int64        `json:"id"`
	ContactID  int64        `json:"contact_id"`
	Kind       IdentityKind `json:"kind"`
	ExternalID string       `json:"external_id"`
	Verified   bool         `json:"verified"`
	VerifiedBy string       `json:"verified_by,omitempty"`
	VerifiedAt *time.Time   `json:"verified_at,omitempty"`
	CreatedAt  time.Time    `json:"created_at"`
}

// Contact is a person as known to one ente, across every channel.
type Contact struct {
	ID            int64      `json:"id"`
	DisplayName   string     `json:"display_name"`
	GivenName     string     `json:"given_name"`
	FamilyName    string     `json:"family_name"`
	CodiceFiscale string     `json:"codice_fiscale,omitempty"`
	Email         string     `json:"email"`
	Phone         string     `json:"phone"`
	Language      string     `json:"language"`
	MergedInto    *int64     `json:"merged_into,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	Identities    []Identity `json:"identities,omitempty"`
}

var (
	webchatIDRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{8,128}$`)
	telegramIDRE = regexp.MustCompile(`^[0-9]{1,20}$`)
	phoneRE      = regexp.MustCompile(`^\+[1-9][0-9]{5,14}$`)
)

// NormalizeIdentity validates an identity key and returns its canonical form: a
// lower-case e-mail address, a codice fiscale with omocodia undone, a phone number
// in E.164 without spaces.
func NormalizeIdentity(kind IdentityKind, externalID string) (string, error) {
	s := strings.TrimSpace(externalID)
	switch kind {
	case IdentityWebchat:
		if !webchatIDRE.MatchString(s) {
			return "", Invalid("external_id", "a web-chat visitor id has 8-128 letters, digits, '-' or '_'")
		}
		return s, nil
	case IdentityEmail:
		return normalizeEmail("external_id", s)
	case IdentityTelegram:
		if !telegramIDRE.MatchString(s) {
			return "", Invalid("external_id", "a Telegram user id is a number")
		}
		return s, nil
	case IdentityCodiceFiscale:
		cf, err := NormalizeCodiceFiscale(s)
		if err != nil {
			return "", withField(err, "external_id")
		}
		return cf, nil
	case IdentityPhone:
		return NormalizePhone("external_id", s)
	default:
		return "", Invalid("kind", fmt.Sprintf("unknown identity kind %q", kind))
	}
}

// NormalizePhone accepts international numbers (+39 02 1234 5678) and Italian
// numbers without prefix, and returns E.164.
func NormalizePhone(field, s string) (string, error) {
	p := strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "", "/", "").Replace(strings.TrimSpace(s))
	if strings.HasPrefix(p, "00") {
		p = "+" + p[2:]
	}
	if !strings.HasPrefix(p, "+") && len(p) >= 6 {
		p = "+39" + p
	}
	if !phoneRE.MatchString(p) {
		return "", Invalid(field, "is not a phone number")
	}
	return p, nil
}

// IdentityClaim is what a channel, a login or a member of staff knows about the
// person behind a message: the key, whether it is proven, and hints to fill a new
// contact with.
type IdentityClaim struct {
	Kind       IdentityKind
	ExternalID string
	Verified   bool
	VerifiedBy string // required when Verified

	DisplayName string
	GivenName   string
	FamilyName  string
	Email       string // a secondary hint, e.g. from a login; never a key by itself
	Language    string
}

func (c *IdentityClaim) normalize() error {
	id, err := NormalizeIdentity(c.Kind, c.ExternalID)
	if err != nil {
		return err
	}
	c.ExternalID = id
	if c.Verified && !verifiedByValues[c.VerifiedBy] {
		return Invalid("verified_by", fmt.Sprintf("unknown verification method %q", c.VerifiedBy))
	}
	if !c.Verified {
		c.VerifiedBy = ""
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"display_name", &c.DisplayName, 300}, {"given_name", &c.GivenName, 200}, {"family_name", &c.FamilyName, 200}} {
		*f.v = strings.TrimSpace(*f.v)
		if !utf8.ValidString(*f.v) || utf8.RuneCountInString(*f.v) > f.max {
			return Invalid(f.name, fmt.Sprintf("up to %d characters", f.max))
		}
	}
	if c.DisplayName == "" {
		c.DisplayName = strings.TrimSpace(c.GivenName + " " + c.FamilyName)
	}
	if c.Email != "" {
		e, err := normalizeEmail("email", c.Email)
		if err != nil {
			c.Email = "" // a hint that is not an address is dropped, not fatal
		} else {
			c.Email = e
		}
	}
	if c.Kind == IdentityEmail && c.Email == "" {
		c.Email = c.ExternalID
	}
	if c.Language == "" {
		c.Language = "it"
	}
	if len(c.Language) != 2 {
		return Invalid("language", "use a two-letter ISO 639-1 code")
	}
	return nil
}

// Resolution is the outcome of resolving a claim to a contact.
type Resolution struct {
	ContactID int64
	Created   bool // a new contact was made
	Joined    bool // a verified identity joined an existing contact
}

// ResolveContact finds or creates the contact behind an identity claim. A known
// identity gives its contact. A verified codice fiscale joins the contact that has
// it, and a verified e-mail address joins the one contact registered with it;
// anything else makes a new contact. Weak signals (same name, same unverified
// e-mail or phone) only record merge suggestions. Run it inside a transaction.
func (s *Store) ResolveContact(ctx context.Context, tenantID int64, claim IdentityClaim) (Resolution, error) {
	if err := claim.normalize(); err != nil {
		return Resolution{}, err
	}
	var contactID int64
	var verified bool
	err := s.db.QueryRow(ctx, `
		SELECT contact_id, verified FROM contact_identities
		WHERE tenant_id = $1 AND kind = $2 AND external_id = $3`,
		tenantID, claim.Kind, claim.ExternalID).Scan(&contactID, &verified)
	switch {
	case err == nil:
		if claim.Verified && !verified {
			if err := s.verifyIdentity(ctx, tenantID, contactID, claim); err != nil {
				return Resolution{}, err
			}
		}
		return Resolution{ContactID: contactID}, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return Resolution{}, fmt.Errorf("resolveContact: %w", err)
	}

	if claim.Verified {
		id, err := s.matchVerified(ctx, tenantID, claim)
		if err != nil {
			return Resolution{}, err
		}
		if id != 0 {
			if _, err := s.insertIdentity(ctx, tenantID, id, claim); err != nil {
				return Resolution{}, err
			}
			if err := s.verifyIdentity(ctx, tenantID, id, claim); err != nil {
				return Resolution{}, err
			}
			return Resolution{ContactID: id, Joined: true}, nil
		}
	}

	id, err := s.createContact(ctx, tenantID, claim)
	if err != nil {
		return Resolution{}, err
	}
	if _, err := s.insertIdentity(ctx, tenantID, id, claim); err != nil {
		return Resolution{}, err
	}
	if claim.Verified {
		if err := s.verifyIdentity(ctx, tenantID, id, claim); err != nil {
			return Resolution{}, err
		}
	}
	if err := s.suggestMerges(ctx, tenantID, id); err != nil {
		return Resolution{}, err
	}
	return Resolution{ContactID: id, Created: true}, nil
}

// matchVerified finds the existing contact that a verified identity belongs to.
func (s *Store) matchVerified(ctx context.Context, tenantID int64, claim IdentityClaim) (int64, error) {
	var ids []int64
	var err error
	switch claim.Kind {
	case IdentityCodiceFiscale:
		var rows pgx.Rows
		rows, err = s.db.Query(ctx, `SELECT id FROM contacts WHERE tenant_id = $1 AND codice_fiscale = $2 AND merged_into IS NULL`,
			tenantID, claim.ExternalID)
		if err == nil {
			ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		}
	case IdentityEmail:
		var rows pgx.Rows
		rows, err = s.db.Query(ctx, `SELECT id FROM contacts WHERE tenant_id = $1 AND lower(email) = $2 AND merged_into IS NULL LIMIT 2`,
			tenantID, claim.ExternalID)
		if err == nil {
			ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		}
	}
	if err != nil {
		return 0, fmt.Errorf("matchVerified: %w", err)
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	return 0, nil // none, or ambiguous: a person decides
}

func (s *Store) createContact(ctx context.Context, tenantID int64, c IdentityClaim) (int64, error) {
	var phone string
	if c.Kind == IdentityPhone {
		phone = c.ExternalID
	}
	var id int64
	err := s.db.QueryRow(ctx, `
		INSERT INTO contacts (tenant_id, display_name, given_name, family_name, email, phone, language)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		tenantID, c.DisplayName, c.GivenName, c.FamilyName, c.Email, phone, c.Language).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("createContact: %w", err)
	}
	return id, nil
}

func (s *Store) insertIdentity(ctx context.Context, tenantID, contactID int64, c IdentityClaim) (Identity, error) {
	idn := Identity{ContactID: contactID, Kind: c.Kind, ExternalID: c.ExternalID}
	err := s.db.QueryRow(ctx, `
		INSERT INTO contact_identities (tenant_id, contact_id, kind, external_id)
		VALUES ($1, $2, $3, $4) RETURNING id, created_at`,
		tenantID, contactID, c.Kind, c.ExternalID).Scan(&idn.ID, &idn.CreatedAt)
	if isUniqueViolation(err, "") {
		return Identity{}, fmt.Errorf("%w: %s %s already belongs to a contact", ErrConflict, c.Kind, c.ExternalID)
	}
	if err != nil {
		return Identity{}, fmt.Errorf("insertIdentity: %w", err)
	}
	return idn, nil
}

// verifyIdentity marks the contact's identity verified. A verified codice fiscale
// becomes the contact's own; a contact with a different verified codice fiscale is
// a conflict, since one person has one.
func (s *Store) verifyIdentity(ctx context.Context, tenantID, contactID int64, c IdentityClaim) error {
	if c.Kind == IdentityCodiceFiscale {
		var current *string
		if err := s.db.QueryRow(ctx, `SELECT codice_fiscale FROM contacts WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			tenantID, contactID).Scan(&current); err != nil {
			return notFound(err, "contact", contactID)
		}
		if current != nil && *current != c.ExternalID {
			return fmt.Errorf("%w: contact %d has another verified codice fiscale", ErrConflict, contactID)
		}
		_, err := s.db.Exec(ctx, `
			UPDATE contacts SET codice_fiscale = $3, updated_at = now(),
			    given_name = CASE WHEN given_name = '' THEN $4 ELSE given_name END,
			    family_name = CASE WHEN family_name = '' THEN $5 ELSE family_name END,
			    display_name = CASE WHEN display_name = '' THEN $6 ELSE display_name END
			WHERE tenant_id = $1 AND id = $2`, tenantID, contactID, c.ExternalID, c.GivenName, c.FamilyName, c.DisplayName)
		if isUniqueViolation(err, "contacts_codice_fiscale_key") {
			return fmt.Errorf("%w: codice fiscale %s belongs to another contact", ErrConflict, c.ExternalID)
		}
		if err != nil {
			return fmt.Errorf("verifyIdentity: %w", err)
		}
	}
	_, err := s.db.Exec(ctx, `
		UPDATE contact_identities SET verified = true, verified_by = $5, verified_at = now()
		WHERE tenant_id = $1 AND contact_id = $2 AND kind = $3 AND external_id = $4`,
		tenantID, contactID, c.Kind, c.ExternalID, c.VerifiedBy)
	if err != nil {
		return fmt.Errorf("verifyIdentity: %w", err)
	}
	return nil
}

// AddIdentity attaches an identity to a contact, on the word of a member of staff
// (verified_by "operator" when they vouch for it). An identity that belongs to
// another contact is a conflict: merge the two contacts instead.
func (s *Store) AddIdentity(ctx context.Context, a Actor, contactID int64, claim IdentityClaim) (Identity, error) {
	if err := a.Require(RoleOperator, RoleSupervisor); err != nil {
		return Identity{}, err
	}
	if claim.Verified && claim.VerifiedBy == "" {
		claim.VerifiedBy = VerifiedOperator
	}
	if err := claim.normalize(); err != nil {
		return Identity{}, err
	}
	var idn Identity
	err := s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.lockContacts(ctx, a.TenantID, contactID); err != nil {
			return err
		}
		var err error
		idn, err = tx.insertIdentity(ctx, a.TenantID, contactID, claim)
		if err != nil {
			return err
		}
		if claim.Verified {
			if err := tx.verifyIdentity(ctx, a.TenantID, contactID, claim); err != nil {
				return err
			}
			idn.Verified, idn.VerifiedBy = true, claim.VerifiedBy
		}
		if err := tx.suggestMerges(ctx, a.TenantID, contactID); err != nil {
			return err
		}
		return tx.Audit(ctx, a, AuditEntry{Action: "identity.add", ContactID: contactID,
			Detail: map[string]any{"kind": claim.Kind, "verified": claim.Verified}})
	})
	return idn, err
}

// lockContacts locks the active contacts in id order (so that two merges cannot
// deadlock) and returns them; a missing or merged one is not found.
func (s *Store) lockContacts(ctx context.Context, tenantID int64, ids ...int64) (map[int64]Contact, error) {
	rows, err := s.db.Query(ctx, `SELECT `+contactColumns+` FROM contacts
		WHERE tenant_id = $1 AND id = ANY($2) AND merged_into IS NULL ORDER BY id FOR UPDATE`, tenantID, ids)
	if err != nil {
		return nil, fmt.Errorf("lockContacts: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Contact, error) { return scanContact(r) })
	if err != nil {
		return nil, fmt.Errorf("lockContacts: %w", err)
	}
	m := make(map[int64]Contact, len(list))
	for _, c := range list {
		m[c.ID] = c
	}
	for _, id := range ids {
		if _, ok := m[id]; !ok {
			return nil, fmt.Errorf("contact %d: %w", id, ErrNotFound)
		}
	}
	return m, nil
}

const contactColumns = `id, display_name, given_name, family_name, codice_fiscale, email, phone, language, merged_into, created_at, updated_at`

func scanContact(row pgx.Row) (Contact, error) {
	var c Contact
	var cf *string
	err := row.Scan(&c.ID, &c.DisplayName, &c.GivenName, &c.FamilyName, &cf, &c.Email, &c.Phone, &c.Language,
		&c.MergedInto, &c.CreatedAt, &c.UpdatedAt)
	if cf != nil {
		c.CodiceFiscale = *cf
	}
	return c, err
}

// Contact returns a contact with its identities. A merged contact is returned too,
// with MergedInto saying where it went.
func (s *Store) Contact(ctx context.Context, tenantID, id int64) (Contact, error) {
	c, err := scanContact(s.db.QueryRow(ctx, `SELECT `+contactColumns+` FROM contacts WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return Contact{}, notFound(err, "contact", id)
	}
	c.Identities, err = s.Identities(ctx, tenantID, id)
	return c, err
}

// Identities lists a contact's identities.
func (s *Store) Identities(ctx context.Context, tenantID, contactID int64) ([]Identity, error) {
	rows, err := s.db.Query(ctx, `
		SELECT id, contact_id, kind, external_id, verified, verified_by, verified_at, created_at
		FROM contact_identities WHERE tenant_id = $1 AND contact_id = $2 ORDER BY id`, tenantID, contactID)
	if err != nil {
		return nil, fmt.Errorf("identities(%d): %w", contactID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Identity, error) {
		var i Identity
		err := r.Scan(&i.ID, &i.ContactID, &i.Kind, &i.ExternalID, &i.Verified, &i.VerifiedBy, &i.VerifiedAt, &i.CreatedAt)
		return i, err
	})
}

// ContactQuery searches contacts. Q is free text: a name, or an e-mail address,
// codice fiscale or phone number recognised by its shape.
type ContactQuery struct {
	Q             string
	Email         string
	CodiceFiscale string
	Phone         string
	AfterID       int64 // for paging: contacts with a greater id
	Limit         int
}

// SearchContacts finds active contacts. Results are ordered by id for stable paging.
func (s *Store) SearchContacts(ctx context.Context, tenantID int64, q ContactQuery) ([]Contact, error) {
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	q.Q = strings.TrimSpace(q.Q)
	if q.Q != "" {
		switch {
		case strings.Contains(q.Q, "@"):
			q.Email, q.Q = q.Q, ""
		case len(q.Q) == 16 && !strings.Contains(q.Q, " "):
			if cf, err := NormalizeCodiceFiscale(q.Q); err == nil {
				q.CodiceFiscale, q.Q = cf, ""
			}
		default:
			if p, err := NormalizePhone("q", q.Q); err == nil && strings.IndexFunc(q.Q, func(r rune) bool { return r >= 'A' }) < 0 {
				q.Phone, q.Q = p, ""
			}
		}
	}
	where := []string{"c.tenant_id = $1", "c.merged_into IS NULL", "c.id > $2"}
	args := []any{tenantID, q.AfterID}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if q.Q != "" {
		if utf8.RuneCountInString(q.Q) > 200 {
			return nil, Invalid("q", "up to 200 characters")
		}
		where = append(where, "lower(c.display_name) LIKE "+arg("%"+escapeLike(strings.ToLower(q.Q))+"%"))
	}
	if q.Email != "" {
		e, err := normalizeEmail("email", q.Email)
		if err != nil {
			return nil, err
		}
		p := arg(e)
		where = append(where, "(lower(c.email) = "+p+" OR EXISTS (SELECT 1 FROM contact_identities i WHERE i.tenant_id = c.tenant_id AND i.contact_id = c.id AND i.kind = 'email' AND i.external_id = "+p+"))")
	}
	if q.CodiceFiscale != "" {
		cf, err := NormalizeCodiceFiscale(q.CodiceFiscale)
		if err != nil {
			return nil, err
		}
		p := arg(cf)
		where = append(where, "(c.codice_fiscale = "+p+" OR EXISTS (SELECT 1 FROM contact_identities i WHERE i.tenant_id = c.tenant_id AND i.contact_id = c.id AND i.kind = 'codice_fiscale' AND i.external_id = "+p+"))")
	}
	if q.Phone != "" {
		ph, err := NormalizePhone("phone", q.Phone)
		if err != nil {
			return nil, err
		}
		p := arg(ph)
		where = append(where, "(c.phone = "+p+" OR EXISTS (SELECT 1 FROM contact_identities i WHERE i.tenant_id = c.tenant_id AND i.contact_id = c.id AND i.kind = 'phone' AND i.external_id = "+p+"))")
	}
	sql := `SELECT ` + prefixColumns("c.", contactColumns) + ` FROM contacts c WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY c.id LIMIT ` + arg(q.Limit)
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("searchContacts: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Contact, error) { return scanContact(r) })
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func prefixColumns(prefix, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = prefix + parts[i]
	}
	return strings.Join(parts, ", ")
}
