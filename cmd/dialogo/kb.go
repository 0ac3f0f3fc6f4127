package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/knowledge"
)

const kbUsage = `Usage: dialogo kb <command> [flags]

Commands:
  ingest   ingest folders and files of Markdown, text and HTML into a knowledge base
  search   search a knowledge base and print the ranked passages
  eval     measure retrieval (recall@k, MRR, latency) on an evaluation set
`

func runKB(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(env.stderr, kbUsage)
		if len(args) == 0 {
			return errors.New("kb: no command given")
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "ingest":
		return runKBIngest(ctx, env, args[1:])
	case "search":
		return runKBSearch(ctx, env, args[1:])
	case "eval":
		return runKBEval(ctx, env, args[1:])
	}
	fmt.Fprint(env.stderr, kbUsage)
	return fmt.Errorf("kb: unknown command %q", args[0])
}

func runKBIngest(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "kb ingest", "Ingests folders and files (.md, .txt, .html) into the knowledge base of an ente:\n"+
		"  dialogo kb ingest -tenant milano DIR|FILE...\n"+
		"A source is named by its path relative to the folder given, a file given alone\n"+
		"by its file name; with several arguments, a folder's sources are named\n"+
		"FOLDER/path, FOLDER being the folder's last element. Unchanged sources are\n"+
		"skipped and changed ones replaced. A folder is the ente's whole file-based\n"+
		"knowledge base (or, with several arguments, the part named FOLDER/): its\n"+
		"sources whose files are gone are removed, URLs are never removed.")
	tenantSlug := fs.String("tenant", "", "the ente's slug (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tenantSlug == "" || fs.NArg() == 0 {
		fs.Usage()
		return errors.New("kb ingest: -tenant and at least one folder or file are required")
	}
	db, err := openDatabase(ctx, env, true)
	if err != nil {
		return err
	}
	defer db.close(env.log)
	tenant, err := crm.NewStore(db.pool).TenantBySlug(ctx, *tenantSlug)
	if err != nil {
		return err
	}
	emb := knowledge.LocalEmbedder{}
	start := time.Now()
	var total knowledge.DirReport
	for _, arg := range fs.Args() {
		info, err := os.Stat(arg)
		if err != nil {
			return err
		}
		if !info.IsDir() {
			out, err := ingestFile(ctx, db, emb, tenant.ID, arg)
			if err != nil {
				return err
			}
			switch out {
			case knowledge.Added:
				total.Added++
			case knowledge.Replaced:
				total.Replaced++
			case knowledge.Unchanged:
				total.Unchanged++
			}
			continue
		}
		bar := progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(env.stderr),
			progressbar.OptionSetVisibility(isTerminal(env.stderr)),
			progressbar.OptionSetDescription(filepath.Base(arg)),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString("files"),
			progressbar.OptionShowIts(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		prefix := ""
		if fs.NArg() > 1 {
			prefix = filepath.Base(filepath.Clean(arg)) + "/"
		}
		rep, err := knowledge.IngestDir(ctx, db.pool, emb, tenant.ID, arg, prefix, func(done, n int) {
			if done == 1 {
				bar.ChangeMax(n)
			}
			_ = bar.Set(done)
		})
		_ = bar.Finish()
		if err != nil {
			return err
		}
		total.Added += rep.Added
		total.Replaced += rep.Replaced
		total.Unchanged += rep.Unchanged
		total.Removed += rep.Removed
	}
	env.log.Info("knowledge base ingested", "tenant", tenant.Slug, "added", total.Added, "replaced", total.Replaced,
		"unchanged", total.Unchanged, "removed", total.Removed, "elapsed", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(env.stdout, "%s: %d added, %d replaced, %d unchanged, %d removed\n",
		tenant.Slug, total.Added, total.Replaced, total.Unchanged, total.Removed)
	return nil
}

func ingestFile(ctx context.Context, db *database, emb knowledge.Embedder, tenantID int64, path string) (knowledge.Outcome, error) {
	format, ok := knowledge.FormatOf(path)
	if !ok {
		return 0, fmt.Errorf("kb ingest: %s: not a .md, .txt or .html file", path)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return knowledge.Ingest(ctx, db.pool, emb, tenantID, knowledge.Source{
		Name: filepath.Base(path), Format: format, Body: string(body),
	})
}

func runKBSearch(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "kb search", "Searches the knowledge base of an ente and prints the ranked passages:\n"+
		"  dialogo kb search -tenant milano \"come rinnovo la carta d'identità?\"")
	tenantSlug := fs.String("tenant", "", "the ente's slug (required)")
	k := fs.Int("k", 5, "how many passages to print")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tenantSlug == "" || fs.NArg() == 0 {
		fs.Usage()
		return errors.New("kb search: -tenant and a question are required")
	}
	query := strings.Join(fs.Args(), " ")
	db, err := openDatabase(ctx, env, true)
	if err != nil {
		return err
	}
	defer db.close(env.log)
	tenant, err := crm.NewStore(db.pool).TenantBySlug(ctx, *tenantSlug)
	if err != nil {
		return err
	}
	results, err := knowledge.Search(ctx, db.pool, knowledge.LocalEmbedder{}, tenant.ID, query, *k)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		fmt.Fprintln(env.stdout, "no results")
		return nil
	}
	for i, r := range results {
		where := r.Title
		if r.SectionPath != "" {
			where += " > " + r.SectionPath
		}
		fmt.Fprintf(env.stdout, "%d. %s  [score %.4f, vector #%d, text #%d, chunk %d]\n   %s\n", i+1, where, r.Score, r.VectorRank, r.TextRank, r.ChunkID, r.SourceName)
		if r.URL != "" {
			fmt.Fprintf(env.stdout, "   %s\n", r.URL)
		}
		text := strings.Join(strings.Fields(r.Text), " ")
		if runes := []rune(text); len(runes) > 300 {
			text = string(runes[:300]) + "…"
		}
		fmt.Fprintf(env.stdout, "   %s\n\n", text)
	}
	return nil
}
