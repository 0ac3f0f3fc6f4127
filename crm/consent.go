package crm

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Purposes of communication a citizen consents to.
const (
	PurposeService     = "service"     // messages about their own pratiche, payments, appointments
	PurposeInformation = "information" // information campaigns
)

var consentChannels = map[string]bool{"webchat": true, "email": true, "telegram": true, "appio": true, "sms": true, "phone": true}

// Consent is one decision of a contact about a channel and a purpose.
type Consent struct {
	ID         int64     `json:"id"`
	ContactID  int64     `json:"contact_id"`
	Channel    string    `json:"channel"`
	Purpose    string    `json:"purpose"`
	Granted    bool      `json:"granted"`
	Source     string    `json:"source"`
	RecordedAt time.Time `json:"recorded_at"`
	RecordedBy *int64    `json:"recorded_by,omitempty"`
}

// ConsentInput records a consent decision; Source says where it was given (a web
// form, a chat command, the front office).
type ConsentInput struct {
	Channel string
	Purpose string
	Granted bool
	Source  string
}

// RecordConsent appends a consent decision for a contact; the newest one per
// channel and purpose is in force, and the history stays.
func (s *Store) RecordConsent(ctx context.Context, a Actor, contactID int64, in ConsentInput) (Consent, error) {
	if err := a.Require(RoleOperator, RoleSupervisor, RoleCommunication); err != nil {
		return Consent{}, err
	}
	if !consentChannels[in.Channel] {
		return Consent{}, Invalid("channel", "one of webchat, email, telegram, appio, sms, phone")
	}
	if in.Purpose != PurposeService && in.Purpose != PurposeInformation {
		return Consent{}, Invalid("purpose", "one of service, information")
	}
	in.Source = strings.TrimSpace(in.Source)
	if in.Source == "" || len(in.Source) > 200 {
		return Consent{}, Invalid("source", "say where the consent was given (up to 200 characters)")
	}
	c := Consent{ContactID: contactID, Channel: in.Channel, Purpose: in.Purpose, Granted: in.Granted, Source: in.Source,
		RecordedBy: a.StaffID()}
	err := s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.lockContacts(ctx, a.TenantID, contactID); err != nil {
			return err
		}
		if err := tx.db.QueryRow(ctx, `
			INSERT INTO consents (tenant_id, contact_id, channel, purpose, granted, source, recorded_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, recorded_at`,
			a.TenantID, contactID, in.Channel, in.Purpose, in.Granted, in.Source, c.RecordedBy).Scan(&c.ID, &c.RecordedAt); err != nil {
			return fmt.Errorf("recordConsent: %w", err)
		}
		return tx.Audit(ctx, a, AuditEntry{Action: "consent.record", ContactID: contactID,
			Detail: map[string]any{"channel": in.Channel, "purpose": in.Purpose, "granted": in.Granted}})
	})
	return c, err
}

// Consents returns the consents in force for a contact, one per channel and
// purpose, or the whole history when history is set.
func (s *Store) Consents(ctx context.Context, tenantID, contactID int64, history bool) ([]Consent, error) {
	sql := `SELECT DISTINCT ON (channel, purpose) id, contact_id, channel, purpose, granted, source, recorded_at, recorded_by
		FROM consents WHERE tenant_id = $1 AND contact_id = $2 ORDER BY channel, purpose, recorded_at DESC, id DESC`
	if history {
		sql = `SELECT id, contact_id, channel, purpose, granted, source, recorded_at, recorded_by
		FROM consents WHERE tenant_id = $1 AND contact_id = $2 ORDER BY recorded_at DESC, id DESC`
	}
	rows, err := s.db.Query(ctx, sql, tenantID, contactID)
	if err != nil {
		return nil, fmt.Errorf("consents(%d): %w", contactID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Consent, error) {
		var c Consent
		err := r.Scan(&c.ID, &c.ContactID, &c.Channel, &c.Purpose, &c.Granted, &c.Source, &c.RecordedAt, &c.RecordedBy)
		return c, err
	})
}
