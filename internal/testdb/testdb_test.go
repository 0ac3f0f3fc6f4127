package testdb_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/internal/testdb"
	"github.com/dialogo-pa/dialogo/migrations"
)

func TestNewGivesThePackageAMigratedDatabaseOfItsOwn(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)

	var name string
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT current_database()").Scan(&name))
	require.Regexp(t, `^dialogo_test_testdb_[0-9a-f]{8}$`, name)

	cfg, err := pgx.ParseConfig(testdb.URL(t))
	require.NoError(t, err)
	require.Equal(t, name, cfg.Database)
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	current, latest, err := migrations.Status(t.Context(), db)
	require.NoError(t, err)
	require.Positive(t, latest)
	require.Equal(t, latest, current)
}

func TestNewSharesOneDatabaseAcrossThePackagesTests(t *testing.T) {
	t.Parallel()
	for range 3 {
		t.Run("parallel test", func(t *testing.T) {
			t.Parallel()
			require.Same(t, testdb.New(t), testdb.New(t))
		})
	}
}
