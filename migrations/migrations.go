// Package migrations holds Dialogo's SQL schema as numbered goose migrations,
// embedded in the binary, and applies them.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// FS holds the migration files, numbered NNNNN_name.sql.
//
//go:embed *.sql
var FS embed.FS

// ErrDatabaseNewer is returned when the database has migrations this binary does
// not know: it was migrated by a newer Dialogo, and running an older binary against
// it could corrupt data.
var ErrDatabaseNewer = errors.New("the database schema is newer than this binary")

func provider(db *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(FS, ".")
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
}

// Status reports the database's schema version and the newest one this binary has.
func Status(ctx context.Context, db *sql.DB) (current, latest int64, err error) {
	p, err := provider(db)
	if err != nil {
		return 0, 0, fmt.Errorf("migrations: %w", err)
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrations: reading the database version: %w", err)
	}
	srcs := p.ListSources()
	if len(srcs) > 0 {
		latest = srcs[len(srcs)-1].Version
	}
	return current, latest, nil
}

// Up applies every pending migration, each in its own transaction, holding a
// PostgreSQL advisory lock so that replicas starting together migrate once. It is
// safe to run twice, and refuses a database newer than the binary.
func Up(ctx context.Context, db *sql.DB) error {
	current, latest, err := Status(ctx, db)
	if err != nil {
		return err
	}
	if current > latest {
		return fmt.Errorf("%w: database at version %d, this binary knows up to %d; upgrade Dialogo", ErrDatabaseNewer, current, latest)
	}
	p, err := provider(db)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}
