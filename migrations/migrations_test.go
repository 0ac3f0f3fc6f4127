package migrations_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/internal/testdb"
	"github.com/dialogo-pa/dialogo/migrations"
)

func open(t *testing.T) *sql.DB {
	db := stdlib.OpenDBFromPool(testdb.New(t))
	t.Cleanup(func() { db.Close() })
	return db
}

func TestUpIsSafeToRunTwice(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	require.NoError(t, migrations.Up(ctx, db))
	require.NoError(t, migrations.Up(ctx, db))
	current, latest, err := migrations.Status(ctx, db)
	require.NoError(t, err)
	require.Equal(t, latest, current)
	require.Positive(t, latest)
}

func TestSchemaHasPgvectorAndTenantKeys(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	var ext string
	require.NoError(t, db.QueryRowContext(ctx, `SELECT extname FROM pg_extension WHERE extname = 'vector'`).Scan(&ext))

	// Every table that has a tenant_id column carries it first in its primary key,
	// so that the schema can be distributed by tenant.
	rows, err := db.QueryContext(ctx, `
		SELECT c.table_name FROM information_schema.columns c
		WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id'
		  AND NOT EXISTS (
			SELECT 1 FROM pg_index i
			JOIN pg_class t ON t.oid = i.indrelid
			JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
			WHERE t.relname = c.table_name AND i.indisprimary AND a.attname = 'tenant_id')
		  AND c.table_name <> 'staff_sessions'`)
	require.NoError(t, err)
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		bad = append(bad, name)
	}
	require.NoError(t, rows.Err())
	require.Empty(t, bad, "tables whose primary key does not start with tenant_id")
}

func TestUpRefusesADatabaseNewerThanTheBinary(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	_, latest, err := migrations.Status(ctx, db)
	require.NoError(t, err)
	// A newer Dialogo has migrated this database one step further. Goose reads the
	// version table on its own connection, so the row is committed, and removed at
	// the end.
	_, err = db.ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)`, latest+1)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = db.ExecContext(context.Background(), `DELETE FROM goose_db_version WHERE version_id = $1`, latest+1)
	})
	err = migrations.Up(ctx, db)
	require.ErrorIs(t, err, migrations.ErrDatabaseNewer)
	require.Contains(t, err.Error(), "upgrade Dialogo")
}
