package crm

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Availability is what an operator says about themselves: ready for new
// conversations, or away. It is independent of being online, which is whether a
// console of theirs is connected.
type Availability string

// The availabilities.
const (
	Available Availability = "available"
	Away      Availability = "away"
)

// Presence timing: a console touches its presence every PresenceHeartbeat, and a
// staff member counts as online while a connection of theirs was seen within
// PresenceTTL, so that a console that vanished without closing (a crash, a lost
// network) drops out within a minute on every instance.
const (
	PresenceHeartbeat = 20 * time.Second
	PresenceTTL       = 60 * time.Second
)

// presenceSweepAfter is how old a presence row must be before it is deleted;
// rows between PresenceTTL and this age are ignored by the queries but kept, so
// that a console back from a short network loss resumes the same row.
const presenceSweepAfter = 10 * time.Minute

// SetAvailability records whether the staff member acting is available for new
// conversations, and tells every console.
func (s *Store) SetAvailability(ctx context.Context, a Actor, av Availability) error {
	if a.Kind != ActorStaff {
		return fmt.Errorf("%w: only a staff member has an availability", ErrForbidden)
	}
	if av != Available && av != Away {
		return Invalid("availability", "one of available, away")
	}
	return s.InTx(ctx, func(tx *Store) error {
		tag, err := tx.db.Exec(ctx, `UPDATE staff SET availability = $3 WHERE tenant_id = $1 AND id = $2`,
			a.TenantID, a.ID, av)
		if err != nil {
			return fmt.Errorf("setAvailability(%d): %w", a.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("staff %d: %w", a.ID, ErrNotFound)
		}
		return tx.notify(ctx, Event{Kind: EventPresence, TenantID: a.TenantID, StaffID: a.ID, Status: string(av)})
	})
}

// StaffAvailability returns a staff member's availability.
func (s *Store) StaffAvailability(ctx context.Context, tenantID, staffID int64) (Availability, error) {
	var av Availability
	err := s.db.QueryRow(ctx, `SELECT availability FROM staff WHERE tenant_id = $1 AND id = $2`,
		tenantID, staffID).Scan(&av)
	if err != nil {
		return "", notFound(err, "staff", staffID)
	}
	return av, nil
}

// TouchPresence records that a console connection of the staff member is alive:
// call it when the connection opens and every PresenceHeartbeat. A connection
// seen for the first time (or again after it had dropped out) is announced with
// an EventPresence.
func (s *Store) TouchPresence(ctx context.Context, tenantID, staffID int64, connectionID string) error {
	if connectionID == "" || len(connectionID) > 100 {
		return Invalid("connection_id", "is required, up to 100 characters")
	}
	return s.InTx(ctx, func(tx *Store) error {
		// wasOnline is false for a new row and for a row that had gone stale, so
		// that both are announced; a heartbeat of a live connection is not.
		var wasOnline bool
		err := tx.db.QueryRow(ctx, `
			WITH before AS (
				SELECT seen_at > now() - make_interval(secs => $4) AS fresh FROM staff_presence
				WHERE tenant_id = $1 AND staff_id = $2 AND connection_id = $3
			)
			INSERT INTO staff_presence (tenant_id, staff_id, connection_id) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id, staff_id, connection_id) DO UPDATE SET seen_at = now()
			RETURNING coalesce((SELECT fresh FROM before), false)`,
			tenantID, staffID, connectionID, PresenceTTL.Seconds()).Scan(&wasOnline)
		if err != nil {
			return fmt.Errorf("touchPresence(%d): %w", staffID, err)
		}
		if wasOnline {
			return nil
		}
		// Rows long gone stale are swept as connections come and go.
		if _, err := tx.db.Exec(ctx, `DELETE FROM staff_presence WHERE tenant_id = $1 AND seen_at < now() - make_interval(secs => $2)`,
			tenantID, presenceSweepAfter.Seconds()); err != nil {
			return fmt.Errorf("touchPresence: sweeping: %w", err)
		}
		return tx.notify(ctx, Event{Kind: EventPresence, TenantID: tenantID, StaffID: staffID, Status: "online"})
	})
}

// DropPresence forgets a console connection that closed, and tells every
// console.
func (s *Store) DropPresence(ctx context.Context, tenantID, staffID int64, connectionID string) error {
	return s.InTx(ctx, func(tx *Store) error {
		tag, err := tx.db.Exec(ctx, `DELETE FROM staff_presence WHERE tenant_id = $1 AND staff_id = $2 AND connection_id = $3`,
			tenantID, staffID, connectionID)
		if err != nil {
			return fmt.Errorf("dropPresence(%d): %w", staffID, err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return tx.notify(ctx, Event{Kind: EventPresence, TenantID: tenantID, StaffID: staffID, Status: "offline"})
	})
}

// StaffPresence is a staff member who is online, with their availability and
// their load: the conversations assigned to them that are not resolved, against
// their maximum.
type StaffPresence struct {
	StaffID       int64        `json:"staff_id"`
	Name          string       `json:"name"`
	Roles         []Role       `json:"roles"`
	Availability  Availability `json:"availability"`
	Load          int          `json:"load"`
	MaxConcurrent int          `json:"max_concurrent"`
	Connections   int          `json:"connections"`
	OnlineSince   time.Time    `json:"online_since"`
	SeenAt        time.Time    `json:"seen_at"`
}

// HasRoom tells whether another conversation may be assigned to the staff member.
func (p StaffPresence) HasRoom() bool { return p.Load < p.MaxConcurrent }

// OnlineStaff lists the tenant's active staff with a console connection seen in
// the last PresenceTTL, by name.
func (s *Store) OnlineStaff(ctx context.Context, tenantID int64) ([]StaffPresence, error) {
	rows, err := s.db.Query(ctx, `
		SELECT s.id, s.name, s.roles, s.availability, s.max_concurrent,
		       (SELECT count(*) FROM conversations c
		        WHERE c.tenant_id = s.tenant_id AND c.assignee_id = s.id AND c.status = 'assigned'),
		       p.connections, p.since, p.seen
		FROM staff s JOIN (
			SELECT staff_id, count(*) AS connections, min(connected_at) AS since, max(seen_at) AS seen
			FROM staff_presence
			WHERE tenant_id = $1 AND seen_at > now() - make_interval(secs => $2)
			GROUP BY staff_id
		) p ON p.staff_id = s.id
		WHERE s.tenant_id = $1 AND s.active
		ORDER BY s.name, s.id`, tenantID, PresenceTTL.Seconds())
	if err != nil {
		return nil, fmt.Errorf("onlineStaff(%d): %w", tenantID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (StaffPresence, error) {
		var p StaffPresence
		err := r.Scan(&p.StaffID, &p.Name, &p.Roles, &p.Availability, &p.MaxConcurrent, &p.Load,
			&p.Connections, &p.OnlineSince, &p.SeenAt)
		return p, err
	})
}

// StaffLoad returns how many conversations are assigned to a staff member and not
// resolved, and their maximum.
func (s *Store) StaffLoad(ctx context.Context, tenantID, staffID int64) (load, max int, err error) {
	err = s.db.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM conversations c
		        WHERE c.tenant_id = s.tenant_id AND c.assignee_id = s.id AND c.status = 'assigned'),
		       s.max_concurrent
		FROM staff s WHERE s.tenant_id = $1 AND s.id = $2`, tenantID, staffID).Scan(&load, &max)
	if err != nil {
		return 0, 0, notFound(err, "staff", staffID)
	}
	return load, max, nil
}
