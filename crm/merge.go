package crm

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// MergeSuggestion says that two contacts may be one person, and why.
type MergeSuggestion struct {
	ID        int64      `json:"id"`
	ContactA  int64      `json:"contact_a"`
	ContactB  int64      `json:"contact_b"`
	Reason    string     `json:"reason"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

// suggestMerges records a suggestion for every other active contact that shares a
// weak signal with this one: the same full name (two words at least), the same
// e-mail address, or the same phone number.
func (s *Store) suggestMerges(ctx context.Context, tenantID, contactID int64) error {
	_, err := s.db.Exec(ctx, `
		WITH me AS (
			SELECT c.id, lower(c.display_name) AS name, lower(c.email) AS email, c.phone
			FROM contacts c WHERE c.tenant_id = $1 AND c.id = $2 AND c.merged_into IS NULL
		), emails AS (
			SELECT email AS addr FROM me WHERE email <> ''
			UNION
			SELECT i.external_id FROM contact_identities i, me
			WHERE i.tenant_id = $1 AND i.contact_id = me.id AND i.kind = 'email'
		), phones AS (
			SELECT phone AS number FROM me WHERE phone <> ''
			UNION
			SELECT i.external_id FROM contact_identities i, me
			WHERE i.tenant_id = $1 AND i.contact_id = me.id AND i.kind = 'phone'
		), matches AS (
			SELECT o.id, 'same_name' AS reason FROM contacts o, me
			WHERE o.tenant_id = $1 AND o.id <> me.id AND o.merged_into IS NULL
			  AND me.name LIKE '% %' AND lower(o.display_name) = me.name
			UNION
			SELECT o.id, 'same_email' FROM contacts o JOIN emails e ON lower(o.email) = e.addr
			WHERE o.tenant_id = $1 AND o.id <> $2 AND o.email <> '' AND o.merged_into IS NULL
			UNION
			SELECT i.contact_id, 'same_email' FROM contact_identities i JOIN emails e ON i.external_id = e.addr
			WHERE i.tenant_id = $1 AND i.kind = 'email' AND i.contact_id <> $2
			UNION
			SELECT o.id, 'same_phone' FROM contacts o JOIN phones p ON o.phone = p.number
			WHERE o.tenant_id = $1 AND o.id <> $2 AND o.phone <> '' AND o.merged_into IS NULL
		)
		INSERT INTO merge_suggestions (tenant_id, contact_a, contact_b, reason)
		SELECT $1, least(m.id, $2), greatest(m.id, $2), m.reason FROM matches m
		JOIN contacts o ON o.tenant_id = $1 AND o.id = m.id AND o.merged_into IS NULL
		ON CONFLICT DO NOTHING`, tenantID, contactID)
	if err != nil {
		return fmt.Errorf("suggestMerges(%d): %w", contactID, err)
	}
	return nil
}

// MergeSuggestions lists the open suggestions of the tenant, or of one contact
// when contactID is not 0.
func (s *Store) MergeSuggestions(ctx context.Context, tenantID, contactID int64, limit int) ([]MergeSuggestion, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.db.Query(ctx, `
		SELECT id, contact_a, contact_b, reason, status, created_at, decided_at FROM merge_suggestions
		WHERE tenant_id = $1 AND status = 'open' AND ($2::bigint = 0 OR contact_a = $2 OR contact_b = $2)
		ORDER BY id LIMIT $3`, tenantID, contactID, limit)
	if err != nil {
		return nil, fmt.Errorf("mergeSuggestions: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (MergeSuggestion, error) {
		var m MergeSuggestion
		err := r.Scan(&m.ID, &m.ContactA, &m.ContactB, &m.Reason, &m.Status, &m.CreatedAt, &m.DecidedAt)
		return m, err
	})
}

// DismissSuggestion records that staff judged two contacts to be different people.
func (s *Store) DismissSuggestion(ctx context.Context, a Actor, id int64) error {
	if err := a.Require(RoleOperator, RoleSupervisor); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Store) error {
		var ca, cb int64
		err := tx.db.QueryRow(ctx, `
			UPDATE merge_suggestions SET status = 'dismissed', decided_at = now(), decided_by = $3
			WHERE tenant_id = $1 AND id = $2 AND status = 'open' RETURNING contact_a, contact_b`,
			a.TenantID, id, a.StaffID()).Scan(&ca, &cb)
		if err != nil {
			return notFound(err, "open merge suggestion", id)
		}
		return tx.Audit(ctx, a, AuditEntry{Action: "contact.suggestion.dismiss", ContactID: ca,
			Detail: map[string]any{"suggestion_id": id, "other_contact_id": cb}})
	})
}

// MergeResult counts what moved in a merge.
type MergeResult struct {
	Target        Contact          `json:"target"`
	SourceID      int64            `json:"source_id"`
	Moved         map[string]int64 `json:"moved"`
	AuditRecordID int64            `json:"audit_record_id"`
}

// Merge folds the source contact into the target: identities, conversations,
// consents and the fascicolo move, the target keeps its own details and takes the
// source's where it has none, and the source remains only as a pointer. Two
// contacts with different verified codici fiscali are different people: refused.
// The merge is audited with the staff member's reason.
func (s *Store) Merge(ctx context.Context, a Actor, targetID, sourceID int64, reason string) (MergeResult, error) {
	if err := a.Require(RoleOperator, RoleSupervisor); err != nil {
		return MergeResult{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 2000 {
		return MergeResult{}, Invalid("reason", "say why the two contacts are one person (up to 2000 characters)")
	}
	if targetID == sourceID {
		return MergeResult{}, Invalid("source_id", "cannot merge a contact into itself")
	}
	res := MergeResult{SourceID: sourceID, Moved: map[string]int64{}}
	err := s.InTx(ctx, func(tx *Store) error {
		cs, err := tx.lockContacts(ctx, a.TenantID, targetID, sourceID)
		if err != nil {
			return err
		}
		target, source := cs[targetID], cs[sourceID]
		if target.CodiceFiscale != "" && source.CodiceFiscale != "" && target.CodiceFiscale != source.CodiceFiscale {
			return fmt.Errorf("%w: the two contacts have different verified codici fiscali (%s, %s) and are different people",
				ErrConflict, target.CodiceFiscale, source.CodiceFiscale)
		}
		// Free the source's codice fiscale before the target takes it (it is unique).
		if _, err := tx.db.Exec(ctx, `UPDATE contacts SET merged_into = $3, codice_fiscale = NULL, updated_at = now()
			WHERE tenant_id = $1 AND id = $2`, a.TenantID, sourceID, targetID); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		if _, err := tx.db.Exec(ctx, `UPDATE contacts SET merged_into = $3 WHERE tenant_id = $1 AND merged_into = $2`,
			a.TenantID, sourceID, targetID); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		if _, err := tx.db.Exec(ctx, `
			UPDATE contacts t SET
			    display_name = CASE WHEN t.display_name = '' THEN $3 ELSE t.display_name END,
			    given_name = CASE WHEN t.given_name = '' THEN $4 ELSE t.given_name END,
			    family_name = CASE WHEN t.family_name = '' THEN $5 ELSE t.family_name END,
			    codice_fiscale = coalesce(t.codice_fiscale, $6),
			    email = CASE WHEN t.email = '' THEN $7 ELSE t.email END,
			    phone = CASE WHEN t.phone = '' THEN $8 ELSE t.phone END,
			    updated_at = now()
			WHERE t.tenant_id = $1 AND t.id = $2`,
			a.TenantID, targetID, source.DisplayName, source.GivenName, source.FamilyName,
			nullIfEmpty(source.CodiceFiscale), source.Email, source.Phone); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		// At most one conversation per contact, channel and thread may be open: an
		// open conversation of the source that would collide with one of the target
		// keeps its own thread under a distinct key, so that both stay in the inbox.
		if _, err := tx.db.Exec(ctx, `
			UPDATE conversations s SET thread_key = left(s.thread_key, 400) || '#merged-' || s.id
			WHERE s.tenant_id = $1 AND s.contact_id = $2 AND s.status <> 'resolved' AND EXISTS (
				SELECT 1 FROM conversations t WHERE t.tenant_id = $1 AND t.contact_id = $3 AND t.status <> 'resolved'
				AND t.channel = s.channel AND t.thread_key = s.thread_key)`, a.TenantID, sourceID, targetID); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		for _, table := range []string{"contact_identities", "conversations", "consents", "pratiche", "avvisi", "documents", "appointments"} {
			tag, err := tx.db.Exec(ctx, `UPDATE `+table+` SET contact_id = $3 WHERE tenant_id = $1 AND contact_id = $2`,
				a.TenantID, sourceID, targetID)
			if err != nil {
				return fmt.Errorf("merge: moving %s: %w", table, err)
			}
			res.Moved[table] = tag.RowsAffected()
		}
		// The pair's suggestions are settled; the source's other open suggestions
		// now concern the target.
		if _, err := tx.db.Exec(ctx, `
			INSERT INTO merge_suggestions (tenant_id, contact_a, contact_b, reason)
			SELECT tenant_id, least(other, $3), greatest(other, $3), reason FROM (
				SELECT tenant_id, CASE WHEN contact_a = $2 THEN contact_b ELSE contact_a END AS other, reason
				FROM merge_suggestions WHERE tenant_id = $1 AND status = 'open' AND (contact_a = $2 OR contact_b = $2)
			) o WHERE other <> $3
			ON CONFLICT DO NOTHING`, a.TenantID, sourceID, targetID); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		if _, err := tx.db.Exec(ctx, `
			UPDATE merge_suggestions SET status = 'merged', decided_at = now(), decided_by = $3
			WHERE tenant_id = $1 AND status = 'open' AND (contact_a = $2 OR contact_b = $2)`,
			a.TenantID, sourceID, a.StaffID()); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		detail := map[string]any{"source_id": sourceID, "moved": res.Moved}
		rec, err := tx.audit(ctx, a, AuditEntry{Action: "contact.merge", ContactID: targetID, Reason: reason, Detail: detail})
		if err != nil {
			return err
		}
		res.AuditRecordID = rec
		res.Target, err = tx.Contact(ctx, a.TenantID, targetID)
		return err
	})
	if err != nil {
		return MergeResult{}, err
	}
	return res, nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
