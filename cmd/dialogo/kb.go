package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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
  ingest   ingest folders, files (Markdown, text, HTML, PDF) and lists of URLs into a knowledge base
  search   search a knowledge base and print the ranked passages
  eval     measure retrieval (recall@k, MRR, latency) on an evaluation set
  reembed  re-embed the knowledge bases with the configured embedder, now
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
	case "reembed":
		return runKBReembed(ctx, env, args[1:])
	}
	fmt.Fprint(env.stderr, kbUsage)
	return fmt.Errorf("kb: unknown command %q", args[0])
}

func runKBIngest(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "kb ingest", "Ingests folders, files (.md, .txt, .html, .pdf) and web pages into the knowledge\n"+
		"base of an ente:\n"+
		"  dialogo kb ingest -tenant milano [-urls FILE] [DIR|FILE...]\n"+
		"A source is named by its path relative to the folder given, a file given alone\n"+
		"by its file name; with several arguments, a folder's sources are named\n"+
		"FOLDER/path, FOLDER being the folder's last element. Unchanged sources are\n"+
		"skipped and changed ones replaced. A folder is the ente's whole file-based\n"+
		"knowledge base (or, with several arguments, the part named FOLDER/): its\n"+
		"sources whose files are gone are removed, URLs are never removed.\n"+
		"With -urls, each URL listed in FILE (one a line; blank lines and lines\n"+
		"starting with # are ignored; - reads the standard input) is fetched and\n"+
		"ingested as a source named by the URL. A URL that now answers 404 or 410 is\n"+
		"removed; a URL missing from the list is kept. A URL that fails keeps its\n"+
		"previous version and, once the others are done, makes the command fail.")
	tenantSlug := fs.String("tenant", "", "the ente's slug (required)")
	urlsFile := fs.String("urls", "", "a `FILE` of URLs to fetch and ingest, one a line (- for the standard input)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tenantSlug == "" || fs.NArg() == 0 && *urlsFile == "" {
		fs.Usage()
		return errors.New("kb ingest: -tenant and at least one folder, file or -urls are required")
	}
	var urls []string
	if *urlsFile != "" {
		var err error
		if urls, err = readURLList(*urlsFile, os.Stdin); err != nil {
			return err
		}
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
	emb, err := newEmbedder(ctx, env)
	if err != nil {
		return err
	}
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
		bar := newProgressBar(env, filepath.Base(arg), "files")
		prefix := ""
		if fs.NArg() > 1 {
			prefix = filepath.Base(filepath.Clean(arg)) + "/"
		}
		rep, err := knowledge.IngestDir(ctx, db.pool, emb, tenant.ID, arg, prefix, bar.update)
		_ = bar.Finish()
		if err != nil {
			return err
		}
		total.Added += rep.Added
		total.Replaced += rep.Replaced
		total.Unchanged += rep.Unchanged
		total.Removed += rep.Removed
	}
	failed := 0
	if len(urls) > 0 {
		bar := newProgressBar(env, "URLs", "URLs")
		rep, err := knowledge.IngestURLs(ctx, db.pool, emb, tenant.ID, urls, nil, bar.update)
		_ = bar.Finish()
		if err != nil {
			return err
		}
		for _, r := range rep.Results {
			switch {
			case r.Err != nil:
				env.log.Warn("URL not ingested", "tenant", tenant.Slug, "url", r.URL, "err", r.Err)
				fmt.Fprintf(env.stdout, "failed: %v\n", r.Err)
			case r.Removed:
				fmt.Fprintf(env.stdout, "removed: %s (%s)\n", r.URL, r.Status)
			}
		}
		total.Added += rep.Added
		total.Replaced += rep.Replaced
		total.Unchanged += rep.Unchanged
		total.Removed += rep.Removed
		failed = rep.Failed
	}
	env.log.Info("knowledge base ingested", "tenant", tenant.Slug, "added", total.Added, "replaced", total.Replaced,
		"unchanged", total.Unchanged, "removed", total.Removed, "failed", failed, "elapsed", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(env.stdout, "%s: %d added, %d replaced, %d unchanged, %d removed",
		tenant.Slug, total.Added, total.Replaced, total.Unchanged, total.Removed)
	if len(urls) > 0 {
		fmt.Fprintf(env.stdout, ", %d failed", failed)
	}
	fmt.Fprintln(env.stdout)
	if failed > 0 {
		return fmt.Errorf("kb ingest: %d of the URLs listed in %s failed", failed, *urlsFile)
	}
	return nil
}

// progressBar is a progress bar on standard error, shown only on a terminal,
// whose maximum is set by the first update.
type progressBar struct{ *progressbar.ProgressBar }

func newProgressBar(env *environment, description, items string) progressBar {
	return progressBar{progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(env.stderr),
		progressbar.OptionSetVisibility(isTerminal(env.stderr)),
		progressbar.OptionSetDescription(description),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString(items),
		progressbar.OptionShowIts(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)}
}

// update is a progress callback of package knowledge.
func (b progressBar) update(done, total int) {
	if done == 1 {
		b.ChangeMax(total)
	}
	_ = b.Set(done)
}

// readURLList reads a list of URLs, one a line, skipping blank lines and
// comments (lines starting with #), from the file name, or from stdin when
// name is "-".
func readURLList(name string, stdin io.Reader) ([]string, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("kb ingest: %w", err)
		}
		defer f.Close()
		r = f
	}
	var urls []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\uFEFF"))
		if line != "" && !strings.HasPrefix(line, "#") {
			urls = append(urls, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("kb ingest: reading %s: %w", name, err)
	}
	if len(urls) == 0 {
		return nil, fmt.Errorf("kb ingest: %s lists no URLs", name)
	}
	return urls, nil
}

func ingestFile(ctx context.Context, db *database, emb knowledge.Embedder, tenantID int64, path string) (knowledge.Outcome, error) {
	format, ok := knowledge.FormatOf(path)
	if !ok {
		return 0, fmt.Errorf("kb ingest: %s: not a .md, .txt, .html or .pdf file", path)
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
	emb, err := newEmbedder(ctx, env)
	if err != nil {
		return err
	}
	results, err := knowledge.Search(ctx, db.pool, emb, tenant.ID, query, *k)
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

func runKBReembed(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "kb reembed", "Makes the configured embedder (DIALOGO_EMBEDDINGS_*) the current one and re-embeds,\n"+
		"in the foreground, every chunk of every knowledge base stored with another:\n"+
		"  dialogo kb reembed [-batch 64]\n"+
		"dialogo serve does the same in the background; this does it at once, with a\n"+
		"progress bar. Searches keep working meanwhile. It may run beside serve and beside\n"+
		"another kb reembed: they share the work. The old embedder's index is dropped at the end.")
	batch := fs.Int("batch", knowledge.DefaultReembedBatch, "how many chunks to embed at a time")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *batch <= 0 {
		fs.Usage()
		return errors.New("kb reembed: no arguments are taken, and -batch must be positive")
	}
	db, err := openDatabase(ctx, env, true)
	if err != nil {
		return err
	}
	defer db.close(env.log)
	emb, err := newEmbedder(ctx, env)
	if err != nil {
		return err
	}
	previous, err := knowledge.UseEmbedder(ctx, db.pool, emb)
	if err != nil {
		return err
	}
	pending, err := knowledge.Pending(ctx, db.pool, emb)
	if err != nil {
		return err
	}
	env.log.Info("re-embedding the knowledge bases", "embedder", emb.Name, "dimensions", emb.Dimensions, "previous", previous, "pending", pending)
	bar := progressbar.NewOptions(pending,
		progressbar.OptionSetWriter(env.stderr),
		progressbar.OptionSetVisibility(isTerminal(env.stderr)),
		progressbar.OptionSetDescription("re-embedding"),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("chunks"),
		progressbar.OptionShowIts(),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	start := time.Now()
	done := 0
	for {
		n, err := knowledge.Reembed(ctx, db.pool, emb, *batch)
		if err != nil {
			_ = bar.Finish()
			return err
		}
		if n == 0 {
			break
		}
		done += n
		_ = bar.Add(n)
	}
	_ = bar.Finish()
	left, err := knowledge.Pending(ctx, db.pool, emb)
	if err != nil {
		return err
	}
	env.log.Info("knowledge bases re-embedded", "embedder", emb.Name, "chunks", done, "left", left, "elapsed", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(env.stdout, "%d chunks re-embedded with %s (%d dimensions)", done, emb.Name, emb.Dimensions)
	if left > 0 {
		fmt.Fprintf(env.stdout, "; %d are being re-embedded by another instance", left)
	}
	fmt.Fprintln(env.stdout)
	return nil
}
