package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	mrand "math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/schollz/progressbar/v3"

	"github.com/dialogo-pa/dialogo/assistant"
	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/knowledge"
	"github.com/dialogo-pa/dialogo/knowledge/demo"
)

// throwawayFiscalCode is the Comune di Milano's codice fiscale, valid as a
// creditor's: the throwaway tenants of kb eval need one.
const throwawayFiscalCode = "01199250158"

// kbEvalReport is what kb eval prints with --json.
type kbEvalReport struct {
	knowledge.EvalReport
	Tenant    string               `json:"tenant"`
	Assistant assistant.EvalReport `json:"assistant"`
	Latency   *latencyReport       `json:"latency,omitempty"`
}

type latencyReport struct {
	Chunks       int     `json:"chunks"`
	Queries      int     `json:"queries"`
	BuildSeconds float64 `json:"build_seconds"`
	HybridP50Ms  float64 `json:"hybrid_p50_ms"`
	HybridP95Ms  float64 `json:"hybrid_p95_ms"`
	FTSP50Ms     float64 `json:"fts_p50_ms"`
	FTSP95Ms     float64 `json:"fts_p95_ms"`
}

func runKBEval(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "kb eval", "Evaluates retrieval on a JSONL set of {\"question\", \"expected_sources\"} lines:\n"+
		"  dialogo kb eval [-tenant milano] [-k 10] [--json] [-latency 100000] FILE\n"+
		"prints recall@1/@5/@10 and MRR of the hybrid search and of a plain full-text\n"+
		"baseline (websearch_to_tsquery, ts_rank_cd) over the answerable questions. A hit\n"+
		"is any chunk of any expected source. Without -tenant, the embedded demo knowledge\n"+
		"base is ingested into a throwaway tenant, deleted afterwards. -latency N builds a\n"+
		"synthetic base of N chunks in another throwaway tenant and prints the p50/p95\n"+
		"retrieval latency of 200 queries of the set.")
	tenantSlug := fs.String("tenant", "", "the ente's slug (default: a throwaway tenant with the demo knowledge base)")
	k := fs.Int("k", 10, "how many results each method returns (at least 10 for recall@10)")
	asJSON := fs.Bool("json", false, "print the figures as one JSON object")
	latencyN := fs.Int("latency", 0, "also measure latency over a synthetic base of this many chunks (0: off)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *k <= 0 || *latencyN < 0 {
		fs.Usage()
		return errors.New("kb eval: one evaluation file is required (flags go before it)")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	qs, err := knowledge.ReadEvalSet(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("kb eval: %s: %w", fs.Arg(0), err)
	}
	if len(qs) == 0 {
		return fmt.Errorf("kb eval: %s: no questions", fs.Arg(0))
	}

	db, err := openDatabase(ctx, env, true)
	if err != nil {
		return err
	}
	defer db.close(env.log)
	store := crm.NewStore(db.pool)
	emb, err := newEmbedder(ctx, env)
	if err != nil {
		return err
	}

	var tenant crm.Tenant
	if *tenantSlug != "" {
		if tenant, err = store.TenantBySlug(ctx, *tenantSlug); err != nil {
			return err
		}
	} else {
		tenant, err = throwawayTenant(ctx, store, "kbeval")
		if err != nil {
			return err
		}
		defer dropThrowaway(db.pool, env, tenant)
		if _, err := knowledge.IngestFS(ctx, db.pool, emb, tenant.ID, demo.FS); err != nil {
			return err
		}
	}
	rep, err := knowledge.Evaluate(ctx, db.pool, emb, tenant.ID, qs, *k)
	if err != nil {
		return err
	}
	out := kbEvalReport{EvalReport: rep, Tenant: tenant.Slug}
	// The assistant's decision: answer from the best passage, or say it
	// does not know.
	asst := assistant.New(assistant.Config{Store: store, Pool: db.pool, Embedder: emb, Log: env.log})
	if out.Assistant, err = asst.Evaluate(ctx, tenant.ID, qs); err != nil {
		return err
	}
	if *latencyN > 0 {
		lat, err := measureLatency(ctx, db.pool, env, emb, qs, *latencyN)
		if err != nil {
			return err
		}
		out.Latency = &lat
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return printEval(env.stdout, out)
}

func printEval(w io.Writer, r kbEvalReport) error {
	fmt.Fprintf(w, "%d questions (%d answerable, %d without an answer), k=%d, tenant %s\n\n",
		r.Questions, r.Hybrid.Answerable, r.Hybrid.Unanswerable, r.K, r.Tenant)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "method\trecall@1\trecall@5\trecall@10\tMRR\tno-answer: no results\t")
	for _, m := range []struct {
		name string
		m    knowledge.Metrics
	}{{"hybrid", r.Hybrid}, {"fts", r.FTS}} {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%.3f\t%d/%d\t\n", m.name, m.m.RecallAt1, m.m.RecallAt5, m.m.RecallAt10, m.m.MRR, m.m.NoResults, m.m.Unanswerable)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	a := r.Assistant
	fmt.Fprintf(w, "\nassistant (threshold %.2f): answerable %d: from an expected page %d, from another %d, \"non lo so\" %d;"+
		" outside the base %d: answered %d; decision p50 %.1f ms, p95 %.1f ms\n",
		assistant.DefaultMinConfidence, a.Answerable, a.AnsweredRight, a.AnsweredWrong, a.Abstained,
		a.Unanswerable, a.UnanswerableAnswered, float64(a.DecisionP50.Microseconds())/1000, float64(a.DecisionP95.Microseconds())/1000)
	if l := r.Latency; l != nil {
		fmt.Fprintf(w, "\nlatency over %d synthetic chunks (built in %.0fs), %d queries:\n", l.Chunks, l.BuildSeconds, l.Queries)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "method\tp50 ms\tp95 ms\t")
		fmt.Fprintf(tw, "hybrid\t%.1f\t%.1f\t\n", l.HybridP50Ms, l.HybridP95Ms)
		fmt.Fprintf(tw, "fts\t%.1f\t%.1f\t\n", l.FTSP50Ms, l.FTSP95Ms)
		return tw.Flush()
	}
	return nil
}

// throwawayTenant creates a tenant with a unique slug.
func throwawayTenant(ctx context.Context, store *crm.Store, prefix string) (crm.Tenant, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return store.EnsureTenant(ctx, prefix+"-"+hex.EncodeToString(b[:]), "Ente di prova ("+prefix+")", throwawayFiscalCode)
}

// dropThrowaway deletes a throwaway tenant's knowledge base and the tenant.
// It runs even when the command's context is cancelled.
func dropThrowaway(pool *pgxpool.Pool, env *environment, t crm.Tenant) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, err := pool.Exec(ctx, `DELETE FROM knowledge_sources WHERE tenant_id = $1`, t.ID)
	if err == nil {
		_, err = pool.Exec(ctx, `DELETE FROM tenants WHERE id = $1`, t.ID)
	}
	if err != nil {
		env.log.Warn("could not delete the throwaway tenant", "tenant", t.Slug, "err", err)
	}
}

// latencyQueries is how many queries the latency measurement runs.
const latencyQueries = 200

// measureLatency builds a synthetic base of n chunks in a throwaway tenant and
// times the hybrid and full-text searches of latencyQueries questions of qs.
func measureLatency(ctx context.Context, pool *pgxpool.Pool, env *environment, emb knowledge.NamedEmbedder, qs []knowledge.EvalQuestion, n int) (latencyReport, error) {
	store := crm.NewStore(pool)
	tenant, err := throwawayTenant(ctx, store, "kblatency")
	if err != nil {
		return latencyReport{}, err
	}
	defer dropThrowaway(pool, env, tenant)
	start := time.Now()
	if err := buildSynthetic(ctx, pool, env, emb, tenant.ID, n); err != nil {
		return latencyReport{}, err
	}
	build := time.Since(start)
	if _, err := pool.Exec(ctx, `ANALYZE knowledge_chunks`); err != nil {
		return latencyReport{}, err
	}
	var hybrid, fts []time.Duration
	for i := range latencyQueries {
		q := qs[i%len(qs)].Question
		t0 := time.Now()
		if _, err := knowledge.Search(ctx, pool, emb, tenant.ID, q, 10); err != nil {
			return latencyReport{}, err
		}
		hybrid = append(hybrid, time.Since(t0))
		t0 = time.Now()
		if _, err := knowledge.SearchText(ctx, pool, tenant.ID, q, 10); err != nil {
			return latencyReport{}, err
		}
		fts = append(fts, time.Since(t0))
	}
	return latencyReport{
		Chunks: n, Queries: latencyQueries, BuildSeconds: build.Seconds(),
		HybridP50Ms: percentileMs(hybrid, 50), HybridP95Ms: percentileMs(hybrid, 95),
		FTSP50Ms: percentileMs(fts, 50), FTSP95Ms: percentileMs(fts, 95),
	}, nil
}

// percentileMs is the nearest-rank percentile p of ds, in milliseconds.
func percentileMs(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s) + 99) / 100
	if i < 1 {
		i = 1
	}
	return float64(s[i-1].Microseconds()) / 1000
}

// syntheticChunksPerSource is how many synthetic chunks share one source.
const syntheticChunksPerSource = 100

// buildSynthetic inserts n synthetic chunks into the tenant's knowledge base:
// sentences of the demo pages recombined with random words of theirs, so that
// both the full-text index and the vectors see Italian-looking text. Chunks
// are embedded with emb on every core and written with COPY.
func buildSynthetic(ctx context.Context, pool *pgxpool.Pool, env *environment, emb knowledge.NamedEmbedder, tenantID int64, n int) error {
	sentences, vocab, err := demoSentences()
	if err != nil {
		return err
	}
	// The chunks name their embedder, which must be recorded, with its index.
	if err := knowledge.PrepareEmbedder(ctx, pool, emb); err != nil {
		return err
	}
	nSources := (n + syntheticChunksPerSource - 1) / syntheticChunksPerSource
	rows, err := pool.Query(ctx, `
		INSERT INTO knowledge_sources (tenant_id, name, title, format, content_hash)
		SELECT $1, 'synthetic/' || g || '.md', 'Pagina sintetica ' || g, 'markdown', '\x00'::bytea
		  FROM generate_series(1, $2::int) AS g
		RETURNING id`, tenantID, nSources)
	if err != nil {
		return err
	}
	var sourceIDs []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		sourceIDs = append(sourceIDs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	bar := progressbar.NewOptions(n,
		progressbar.OptionSetWriter(env.stderr),
		progressbar.OptionSetVisibility(isTerminal(env.stderr)),
		progressbar.OptionSetDescription("synthetic chunks"),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("chunks"),
		progressbar.OptionShowIts(),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	defer bar.Finish()

	// Batches of one source each: generated and embedded by workers, copied
	// by as many connections.
	const batch = syntheticChunksPerSource
	jobs := make(chan int)
	workers := max(runtime.NumCPU(), 2)
	errs := make(chan error, workers) // one per worker: a failing worker never blocks
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(w)+1, 42))
			for src := range jobs {
				count := min(batch, n-src*batch)
				texts := make([]string, count)
				for i := range texts {
					texts[i] = syntheticText(rng, sentences, vocab)
				}
				vecs, err := emb.EmbedDocuments(ctx, texts)
				if err != nil {
					errs <- err
					return
				}
				var buf bytes.Buffer
				for i, text := range texts {
					fmt.Fprintf(&buf, "%d\t%d\t%d\tPagina sintetica %d\tSezione %d\t%s\t\t%s\t%s\n",
						tenantID, sourceIDs[src], i, src+1, i%7+1, copyEscape(text), copyEscape(emb.Name), vectorText(vecs[i]))
				}
				conn, err := pool.Acquire(ctx)
				if err != nil {
					errs <- err
					return
				}
				_, err = conn.Conn().PgConn().CopyFrom(ctx, &buf,
					`COPY knowledge_chunks (tenant_id, source_id, ordinal, title, section_path, text, url, embedder, embedding) FROM STDIN`)
				conn.Release()
				if err != nil {
					errs <- err
					return
				}
				_ = bar.Add(count)
			}
		}()
	}
	var sendErr error
send:
	for src := range sourceIDs {
		select {
		case jobs <- src:
		case sendErr = <-errs:
			break send
		case <-ctx.Done():
			sendErr = ctx.Err()
			break send
		}
	}
	close(jobs)
	wg.Wait()
	if sendErr != nil {
		return sendErr
	}
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// demoSentences returns the sentences and the words of the demo pages.
func demoSentences() (sentences, vocab []string, err error) {
	seen := map[string]bool{}
	err = fs.WalkDir(demo.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(demo.FS, p)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(body), "\n") {
			line = strings.TrimSpace(strings.TrimLeft(line, "#-* "))
			for _, s := range strings.SplitAfter(line, ". ") {
				if s = strings.TrimSpace(s); len(s) > 20 {
					sentences = append(sentences, s)
				}
			}
			for _, w := range strings.Fields(line) {
				w = strings.Trim(w, ".,;:()[]\"'*")
				if len([]rune(w)) > 3 && !seen[w] {
					seen[w] = true
					vocab = append(vocab, w)
				}
			}
		}
		return nil
	})
	if err == nil && (len(sentences) == 0 || len(vocab) == 0) {
		err = errors.New("kb eval: the demo knowledge base has no text")
	}
	return sentences, vocab, err
}

// syntheticText is two to five demo sentences interleaved with random words.
func syntheticText(rng *mrand.Rand, sentences, vocab []string) string {
	var b strings.Builder
	for range 2 + rng.IntN(4) {
		b.WriteString(sentences[rng.IntN(len(sentences))])
		b.WriteByte(' ')
		for range 1 + rng.IntN(4) {
			b.WriteString(vocab[rng.IntN(len(vocab))])
			b.WriteByte(' ')
		}
	}
	return strings.TrimSpace(b.String())
}

// copyEscape escapes a value for COPY's text format.
func copyEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`).Replace(s)
}

// vectorText writes a vector in pgvector's text form.
func vectorText(v []float32) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%g", x)
	}
	b.WriteByte(']')
	return b.String()
}
