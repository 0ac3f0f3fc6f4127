package main

import (
	"context"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/crm/demo"
	"github.com/dialogo-pa/dialogo/knowledge"
	kbdemo "github.com/dialogo-pa/dialogo/knowledge/demo"
)

func runDemo(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "demo", "Loads the demo data: the Comune di Milano and two other Comuni of the Città\n"+
		"Metropolitana, with staff, contacts, fascicoli, past conversations and the demo\n"+
		"knowledge base (knowledge/demo, each page named by its file name). Running it\n"+
		"again changes nothing. Prints the staff logins.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := openDatabase(ctx, env, true)
	if err != nil {
		return err
	}
	defer db.close(env.log)
	store := crm.NewStore(db.pool)
	sum, err := demo.Load(ctx, store, env.log, env.stderr)
	if err != nil {
		return err
	}
	// The demo knowledge base goes into every demo Comune; Ingest leaves
	// unchanged pages alone, so running demo again changes nothing.
	for _, t := range sum.Tenants {
		tenant, err := store.TenantBySlug(ctx, t.Slug)
		if err != nil {
			return err
		}
		rep, err := knowledge.IngestFS(ctx, db.pool, knowledge.LocalEmbedder{}, tenant.ID, kbdemo.FS)
		if err != nil {
			return err
		}
		env.log.Info("demo knowledge base ingested", "tenant", t.Slug, "added", rep.Added, "replaced", rep.Replaced, "unchanged", rep.Unchanged)
	}
	return sum.Print(env.stdout)
}
