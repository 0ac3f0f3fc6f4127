package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dialogo-pa/dialogo/migrations"
)

func runMigrate(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "migrate", "Applies the pending SQL migrations (embedded in the binary). Safe to run twice;\n"+
		"refuses a database migrated by a newer Dialogo.")
	status := fs.Bool("status", false, "only print the database's schema version and the binary's")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := openDatabase(ctx, env, false)
	if err != nil {
		return err
	}
	defer db.close(env.log)
	sqldb := stdlib.OpenDBFromPool(db.pool)
	defer sqldb.Close()
	if !*status {
		if err := migrateDB(ctx, sqldb, env.log); err != nil {
			return err
		}
	}
	current, latest, err := migrations.Status(ctx, sqldb)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "schema version %d (this binary: %d)\n", current, latest)
	return nil
}
