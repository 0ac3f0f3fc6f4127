package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dialogo-pa/dialogo/crm"
)

func runImport(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "import", "Imports fascicolo records (pratiche, avvisi pagoPA, documents, appointments)\n"+
		"for one ente from a JSON file shaped like the body of POST /api/v1/fascicolo/import:\n"+
		`{"records":[{"codice_fiscale":"…","pratiche":[…],"avvisi":[…],…}]}`+"\n"+
		"All or nothing; importing the same file again updates the same rows. \"-\" reads stdin.")
	tenant := fs.String("tenant", "", "the ente's slug, e.g. milano (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tenant == "" || fs.NArg() != 1 {
		fs.Usage()
		return errors.New("import needs -tenant and one file")
	}
	var in io.Reader = os.Stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	var body struct {
		Records []crm.FascicoloRecord `json:"records"`
	}
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return fmt.Errorf("reading %s: %w", fs.Arg(0), err)
	}
	db, err := openDatabase(ctx, env, true)
	if err != nil {
		return err
	}
	defer db.close(env.log)
	store := crm.NewStore(db.pool)
	t, err := store.TenantBySlug(ctx, *tenant)
	if err != nil {
		return err
	}
	var total crm.ImportResult
	// The API takes at most MaxImportRecords per call; a file may hold more, and
	// each batch is all or nothing.
	for start := 0; start < len(body.Records); start += crm.MaxImportRecords {
		end := min(start+crm.MaxImportRecords, len(body.Records))
		res, err := store.ImportFascicolo(ctx, crm.SystemActor(t.ID), body.Records[start:end])
		if err != nil {
			return fmt.Errorf("records %d-%d: %w", start, end-1, err)
		}
		total.Contacts += res.Contacts
		total.ContactsCreated += res.ContactsCreated
		total.Pratiche += res.Pratiche
		total.Avvisi += res.Avvisi
		total.Documents += res.Documents
		total.Appointments += res.Appointments
	}
	fmt.Fprintf(env.stdout, "imported for %s: %d contacts (%d new), %d pratiche, %d avvisi, %d documents, %d appointments\n",
		t.Name, total.Contacts, total.ContactsCreated, total.Pratiche, total.Avvisi, total.Documents, total.Appointments)
	return nil
}
