package crm

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditEntry is one staff action on personal data.
type AuditEntry struct {
	ID        int64          `json:"id"`
	At        time.Time      `json:"at"`
	ActorKind ActorKind      `json:"actor_kind"`
	ActorID   int64          `json:"actor_id"`
	ActorName string         `json:"actor_name"`
	Action    string         `json:"action"`
	ContactID int64          `json:"contact_id,omitempty"`
	Reason    string         `json:"reason,omitempty"`
	Detail    map[string]any `json:"detail"`
}

// Audit appends an entry to the audit log, in the caller's transaction, so that the
// record exists exactly when the action it describes does.
func (s *Store) Audit(ctx context.Context, a Actor, e AuditEntry) error {
	_, err := s.audit(ctx, a, e)
	return err
}

func (s *Store) audit(ctx context.Context, a Actor, e AuditEntry) (int64, error) {
	if e.Detail == nil {
		e.Detail = map[string]any{}
	}
	var actorID *int64
	if a.Kind != ActorSystem {
		actorID = &a.ID
	}
	kind := a.Kind
	if kind == "" {
		kind = ActorSystem
	}
	var contactID *int64
	if e.ContactID != 0 {
		contactID = &e.ContactID
	}
	var id int64
	err := s.db.QueryRow(ctx, `
		INSERT INTO audit_log (tenant_id, actor_kind, actor_id, actor_name, action, contact_id, reason, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		a.TenantID, kind, actorID, a.Name, e.Action, contactID, e.Reason, e.Detail).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("audit(%s): %w", e.Action, err)
	}
	return id, nil
}

// AuditQuery filters the audit log.
type AuditQuery struct {
	ContactID int64
	Action    string
	BeforeID  int64 // for paging backwards: entries older than this id
	Limit     int
}

// AuditLog lists the tenant's audit entries, newest first. Only supervisors and
// admins read it.
func (s *Store) AuditLog(ctx context.Context, a Actor, q AuditQuery) ([]AuditEntry, error) {
	if err := a.Require(RoleSupervisor); err != nil {
		return nil, err
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 100
	}
	rows, err := s.db.Query(ctx, `
		SELECT id, at, actor_kind, coalesce(actor_id, 0), actor_name, action, coalesce(contact_id, 0), reason, detail
		FROM audit_log
		WHERE tenant_id = $1 AND ($2::bigint = 0 OR contact_id = $2) AND ($3 = '' OR action = $3)
		  AND ($4::bigint = 0 OR id < $4)
		ORDER BY id DESC LIMIT $5`, a.TenantID, q.ContactID, q.Action, q.BeforeID, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("auditLog: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.ActorKind, &e.ActorID, &e.ActorName, &e.Action, &e.ContactID, &e.Reason, &e.Detail)
		return e, err
	})
}
