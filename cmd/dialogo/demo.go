package main

import (
	"context"
	iofs "io/fs"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/crm/demo"
	"github.com/dialogo-pa/dialogo/knowledge"
	kbdemo "github.com/dialogo-pa/dialogo/knowledge/demo"
)

// The demo's Città Metropolitana; its fiscal code is made up (with a valid
// check digit), not the real one.
const (
	metroSlug       = "citta-metropolitana-milano"
	metroFiscalCode = "09000030156"
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
	emb, err := newEmbedder(ctx, env)
	if err != nil {
		return err
	}
	for _, t := range sum.Tenants {
		tenant, err := store.TenantBySlug(ctx, t.Slug)
		if err != nil {
			return err
		}
		rep, err := knowledge.IngestFS(ctx, db.pool, emb, tenant.ID, kbdemo.FS)
		if err != nil {
			return err
		}
		env.log.Info("demo knowledge base ingested", "tenant", t.Slug, "added", rep.Added, "replaced", rep.Replaced, "unchanged", rep.Unchanged)
	}
	// The Città Metropolitana holds the shared knowledge base, which every
	// Comune's assistant also searches (after the Comune's own pages).
	metro, err := store.EnsureTenant(ctx, metroSlug, "Città Metropolitana di Milano", metroFiscalCode)
	if err != nil {
		return err
	}
	if err := knowledge.SetShared(ctx, db.pool, metro.ID, true); err != nil {
		return err
	}
	pages, err := iofs.Sub(kbdemo.MetroFS, "metro")
	if err != nil {
		return err
	}
	rep, err := knowledge.IngestFS(ctx, db.pool, emb, metro.ID, pages)
	if err != nil {
		return err
	}
	env.log.Info("shared knowledge base ingested", "tenant", metroSlug, "added", rep.Added, "replaced", rep.Replaced, "unchanged", rep.Unchanged)
	return sum.Print(env.stdout)
}
