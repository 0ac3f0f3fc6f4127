package main

import (
	"context"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/crm/demo"
)

func runDemo(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "demo", "Loads the demo data: the Comune di Milano and two other Comuni of the Città\n"+
		"Metropolitana, with staff, contacts, fascicoli and past conversations. Running it\n"+
		"again changes nothing. Prints the staff logins.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := openDatabase(ctx, env, true)
	if err != nil {
		return err
	}
	defer db.close(env.log)
	sum, err := demo.Load(ctx, crm.NewStore(db.pool), env.log, env.stderr)
	if err != nil {
		return err
	}
	return sum.Print(env.stdout)
}
