// Package crm is Dialogo's domain: tenants (enti), staff, contacts and the identities
// that unify a citizen across channels, consents, conversations and messages, the
// fascicolo, and the audit log, stored in PostgreSQL.
//
// Every method takes the tenant it acts for; no query reads across tenants. A Store
// runs on the pool or inside a transaction (see InTx), so that callers compose
// several operations atomically.
package crm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DBTX is what a Store needs from the database: a pool or a transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Store reads and writes the CRM.
type Store struct {
	db   DBTX
	inTx bool
}

// NewStore returns a Store on the pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{db: pool} }

// DB returns what the store runs its statements on.
func (s *Store) DB() DBTX { return s.db }

// InTx runs fn with a Store bound to one transaction, committed when fn returns nil
// and rolled back otherwise. Inside a transaction it opens a savepoint.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit this is a no-op
	if err := fn(&Store{db: tx, inTx: true}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Role is what a staff member or an API token may do.
type Role string

// The staff roles.
const (
	RoleOperator        Role = "operator"
	RoleSupervisor      Role = "supervisor"
	RoleCommunication   Role = "communication"
	RoleKnowledgeEditor Role = "knowledge_editor"
	RoleAdmin           Role = "admin"
)

// Roles lists every role, in the order shown to people.
var Roles = []Role{RoleOperator, RoleSupervisor, RoleCommunication, RoleKnowledgeEditor, RoleAdmin}

// ValidRole reports whether r is one of Roles.
func ValidRole(r Role) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// ActorKind says who performed an action.
type ActorKind string

// The kinds of actor.
const (
	ActorStaff  ActorKind = "staff"
	ActorToken  ActorKind = "token"
	ActorSystem ActorKind = "system"
)

// Actor is the authenticated principal an operation runs for: a staff member, an
// API token, or the system itself (ingest, demo data).
type Actor struct {
	TenantID int64
	Kind     ActorKind
	ID       int64 // staff id or token id; 0 for the system
	Name     string
	Roles    []Role
}

// SystemActor is the actor of automatic work in a tenant.
func SystemActor(tenantID int64) Actor {
	return Actor{TenantID: tenantID, Kind: ActorSystem, Name: "system", Roles: []Role{RoleAdmin}}
}

// Has reports whether the actor holds any of the roles. Admins hold every role.
func (a Actor) Has(roles ...Role) bool {
	for _, have := range a.Roles {
		if have == RoleAdmin {
			return true
		}
		for _, want := range roles {
			if have == want {
				return true
			}
		}
	}
	return false
}

// StaffID returns the staff id of a staff actor, or nil.
func (a Actor) StaffID() *int64 {
	if a.Kind != ActorStaff {
		return nil
	}
	id := a.ID
	return &id
}

// Require returns ErrForbidden unless the actor holds one of the roles.
func (a Actor) Require(roles ...Role) error {
	if a.Has(roles...) {
		return nil
	}
	return fmt.Errorf("%w: requires role %v", ErrForbidden, roles)
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation on the
// named constraint or index (any, when name is empty).
func isUniqueViolation(err error, name string) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return name == "" || pgErr.ConstraintName == name
	}
	return false
}

// notFound turns pgx.ErrNoRows into ErrNotFound, naming what was looked for.
func notFound(err error, what string, id any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s %v: %w", what, id, ErrNotFound)
	}
	return fmt.Errorf("%s %v: %w", what, id, err)
}

// now is the clock of the store, in UTC with microsecond precision as stored.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
