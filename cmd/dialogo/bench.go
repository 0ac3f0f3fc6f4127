package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/schollz/progressbar/v3"

	"github.com/dialogo-pa/dialogo/crm"
)

// benchmark is one of the workloads that "dialogo bench" measures.
type benchmark struct {
	name    string
	summary string
	run     func(ctx context.Context, env *environment, args []string) error
}

func runBench(ctx context.Context, env *environment, args []string) error {
	benchmarks := []benchmark{
		{"ingest", "durable inbound-message ingest through the CRM, next to plain single-row INSERTs", runIngestBench},
		{"chat", "web-chat load on a RUNNING server (it writes to its database), next to a websocket echo server", runChatBench},
	}
	usage := func() {
		fmt.Fprint(env.stderr, "Usage: dialogo bench <benchmark> [flags]\n\n"+
			"Measures Dialogo and prints its figures next to a baseline measured in the same run.\n"+
			"ingest works in a throwaway database on the configured PostgreSQL server (DATABASE_URL,\n"+
			"or the private cluster), dropped after the run; chat loads a running server, whose\n"+
			"database it writes to: point it at a test installation.\n\nBenchmarks:\n")
		tw := tabwriter.NewWriter(env.stderr, 0, 0, 2, ' ', 0)
		for _, b := range benchmarks {
			fmt.Fprintf(tw, "  %s\t%s\n", b.name, b.summary)
		}
		tw.Flush()
		fmt.Fprint(env.stderr, "\nRun \"dialogo bench <benchmark> -h\" for its flags.\n")
	}
	if len(args) == 0 {
		usage()
		return errors.New("bench: name a benchmark")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage()
		return flag.ErrHelp
	}
	for _, b := range benchmarks {
		if b.name == args[0] {
			return b.run(ctx, env, args[1:])
		}
	}
	usage()
	return fmt.Errorf("bench: unknown benchmark %q", args[0])
}

// ingestOptions are the flags of "bench ingest".
type ingestOptions struct {
	n, workers, senders, rounds, warmup int
	json                                bool
}

func runIngestBench(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "bench ingest", ""+
		"Measures durable ingest of inbound citizen messages through the CRM (crm.Store.Ingest:\n"+
		"identity resolution, conversation lookup or creation, insert, commit), and, in the\n"+
		"same run, a baseline of plain single-row INSERTs in autocommit into a table as wide\n"+
		"as messages. Messages go round-robin to -senders citizens on web chat, Telegram and\n"+
		"e-mail: each sender's first message creates a contact, an identity and a\n"+
		"conversation; the others find them. Each round runs both phases, in alternating\n"+
		"order, for a tenant of its own, after a vacuum and an analyze; the best round of\n"+
		"each phase is compared.\n\n"+
		"It runs in a database dialogo_bench_<random> made on the configured server and\n"+
		"dropped at the end, also on error or Ctrl-C.")
	var o ingestOptions
	fs.IntVar(&o.n, "n", 20000, "messages per phase")
	fs.IntVar(&o.workers, "workers", 8, "concurrent goroutines, each with its own connection")
	fs.IntVar(&o.senders, "senders", 2000, "distinct citizens sending the messages")
	fs.IntVar(&o.rounds, "rounds", 2, "rounds; each runs both phases, the order alternating")
	fs.IntVar(&o.warmup, "warmup", 1000, "messages of each phase run first and not measured")
	fs.BoolVar(&o.json, "json", false, "print the figures as one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench ingest: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case o.n < 1:
		return errors.New("bench ingest: -n must be at least 1")
	case o.workers < 1 || o.workers > 256:
		return errors.New("bench ingest: -workers must be between 1 and 256")
	case o.senders < 1:
		return errors.New("bench ingest: -senders must be at least 1")
	case o.rounds < 1:
		return errors.New("bench ingest: -rounds must be at least 1")
	case o.warmup < 0:
		return errors.New("bench ingest: -warmup cannot be negative")
	}

	admin, err := openDatabase(ctx, env, false)
	if err != nil {
		return err
	}
	defer admin.close(env.log)
	scratch, err := createScratchDatabase(ctx, env, admin, int32(o.workers)+1)
	if err != nil {
		if ctx.Err() != nil { // interrupted while the database was being made (and was dropped)
			return errors.New("bench ingest: interrupted")
		}
		return fmt.Errorf("bench ingest: %w", err)
	}
	defer scratch.drop(env)

	b := &ingestBench{opts: o, pool: scratch.pool, store: crm.NewStore(scratch.pool), env: env, progress: isTerminal(env.stderr)}
	report, err := b.run(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("bench ingest: interrupted")
		}
		return fmt.Errorf("bench ingest: %w", err)
	}
	report.Database = scratch.name
	if o.json {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	return report.print(env.stdout)
}

// scratchDatabase is a database made on the configured server for one run, and
// dropped after it: a benchmark never touches the data of the real database.
type scratchDatabase struct {
	name  string
	pool  *pgxpool.Pool
	admin *database
}

func createScratchDatabase(ctx context.Context, env *environment, admin *database, maxConns int32) (*scratchDatabase, error) {
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return nil, err
	}
	s := &scratchDatabase{name: "dialogo_bench_" + hex.EncodeToString(suffix), admin: admin}
	dbURL, err := withDatabaseName(admin.url, s.name)
	if err != nil {
		return nil, err
	}
	if _, err := admin.pool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{s.name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("creating the throwaway database %s (the role needs CREATEDB): %w", s.name, err)
	}
	env.log.Info("throwaway database created; it is dropped at the end", "database", s.name)
	ok := false
	defer func() {
		if !ok {
			s.drop(env)
		}
	}()
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("throwaway database: %w", redact(err))
	}
	// One connection per worker, so that no worker waits for the pool and the
	// latencies measure the database; pgxpool's default is the number of CPUs.
	cfg.MaxConns = maxConns
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("connecting to the throwaway database: %w", err)
	}
	sqldb := stdlib.OpenDBFromPool(s.pool)
	defer sqldb.Close()
	if err := migrateDB(ctx, sqldb, env.log); err != nil {
		return nil, fmt.Errorf("migrating the throwaway database: %w", err)
	}
	ok = true
	return s, nil
}

// drop closes the pool and drops the database. It runs on its own context, since
// the run's context may be the one that Ctrl-C cancelled.
func (s *scratchDatabase) drop(env *environment) {
	if s.pool != nil {
		s.pool.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.admin.pool.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{s.name}.Sanitize()+" WITH (FORCE)"); err != nil {
		env.log.Error("dropping the throwaway database failed: drop it by hand", "database", s.name, "err", err)
		return
	}
	env.log.Info("throwaway database dropped", "database", s.name)
}

// withDatabaseName returns the connection URL serverURL with its database
// replaced by name.
func withDatabaseName(serverURL, name string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// The parse error is not wrapped: it may quote the password.
		return "", errors.New("DATABASE_URL must be a URL (postgres://user:password@host:port/dbname) for a benchmark to make its database next to it")
	}
	u.Path, u.RawPath = "/"+name, ""
	q := u.Query()
	if q.Has("dbname") { // pgx lets a dbname parameter override the path
		q.Del("dbname")
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// ingestBench is one run of "bench ingest" on a throwaway database.
type ingestBench struct {
	opts     ingestOptions
	pool     *pgxpool.Pool
	store    *crm.Store
	env      *environment
	progress bool          // draw progress bars on stderr
	tenants  map[int]int64 // by round; round 0 is the warm-up
}

// ingestReport is what "bench ingest" prints; the JSON names are its -json output.
type ingestReport struct {
	Benchmark string         `json:"benchmark"`
	Messages  int            `json:"messages"`
	Workers   int            `json:"workers"`
	Senders   int            `json:"senders"`
	Rounds    int            `json:"rounds"`
	Warmup    int            `json:"warmup"`
	Server    serverInfo     `json:"server"`
	Client    clientInfo     `json:"client"`
	Database  string         `json:"database"`
	Runs      []phaseFigures `json:"runs"`
	// Baseline and Ingest are the best rounds of each phase, by messages/s.
	Baseline phaseFigures `json:"baseline"`
	Ingest   phaseFigures `json:"ingest"`
	Ratio    float64      `json:"ratio"` // ingest / baseline messages per second
	Check    string       `json:"check"`
}

type serverInfo struct {
	Version           string `json:"version"`
	SynchronousCommit string `json:"synchronous_commit"`
	Fsync             string `json:"fsync"`
	SharedBuffers     string `json:"shared_buffers"`
}

type clientInfo struct {
	CPUs     int    `json:"cpus"`
	Platform string `json:"platform"`
	Go       string `json:"go"`
}

// phaseFigures are the measurements of one phase of one round.
type phaseFigures struct {
	Phase     string  `json:"phase"`
	Round     int     `json:"round"`
	Messages  int     `json:"messages"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"messages_per_second"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
}

const (
	phaseBaseline = "baseline"
	phaseIngest   = "ingest"
)

func (b *ingestBench) run(ctx context.Context) (*ingestReport, error) {
	o := b.opts
	r := &ingestReport{Benchmark: "ingest", Messages: o.n, Workers: o.workers, Senders: o.senders, Rounds: o.rounds,
		Warmup: min(o.warmup, o.n),
		Client: clientInfo{CPUs: runtime.NumCPU(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}}
	if err := b.pool.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('synchronous_commit'),
		current_setting('fsync'), current_setting('shared_buffers')`).
		Scan(&r.Server.Version, &r.Server.SynchronousCommit, &r.Server.Fsync, &r.Server.SharedBuffers); err != nil {
		return nil, fmt.Errorf("reading the server settings: %w", err)
	}
	// The baseline's table has the columns, types and defaults of messages and a
	// primary key of the same shape, and nothing else (no other index, no foreign
	// key, no check): it measures what a committed row of this width costs here.
	if _, err := b.pool.Exec(ctx, `CREATE TABLE bench_plain (LIKE messages INCLUDING DEFAULTS INCLUDING IDENTITY,
		PRIMARY KEY (tenant_id, id))`); err != nil {
		return nil, fmt.Errorf("creating the baseline table: %w", err)
	}
	if r.Warmup > 0 {
		for _, phase := range []string{phaseBaseline, phaseIngest} {
			if _, err := b.phase(ctx, phase, 0, r.Warmup); err != nil {
				return nil, err
			}
		}
	}
	for round := 1; round <= o.rounds; round++ {
		order := []string{phaseBaseline, phaseIngest}
		if round%2 == 0 {
			order[0], order[1] = order[1], order[0]
		}
		for _, phase := range order {
			f, err := b.phase(ctx, phase, round, o.n)
			if err != nil {
				return nil, err
			}
			r.Runs = append(r.Runs, f)
			best := &r.Baseline
			if phase == phaseIngest {
				best = &r.Ingest
			}
			if f.PerSecond > best.PerSecond {
				*best = f
			}
		}
	}
	r.Ratio = r.Ingest.PerSecond / r.Baseline.PerSecond
	var err error
	r.Check, err = b.finalCheck(ctx, r.Warmup)
	return r, err
}

// tenant returns the tenant of a round, made on first use with a team whose
// queue receives the new conversations. Each round has a tenant of its own, so
// that its senders are new there and every round does the same work, while the
// tables keep the rows of the rounds before, as a database in use does.
func (b *ingestBench) tenant(ctx context.Context, round int) (int64, error) {
	if id, ok := b.tenants[round]; ok {
		return id, nil
	}
	slug, name := "bench-warm-up", "Comune di Prova (riscaldamento)"
	if round > 0 {
		slug, name = fmt.Sprintf("bench-round-%d", round), fmt.Sprintf("Comune di Prova %d", round)
	}
	t, err := b.store.EnsureTenant(ctx, slug, name, "01199250158")
	if err != nil {
		return 0, err
	}
	if _, err := b.store.EnsureTeam(ctx, t.ID, "urp", "Ufficio Relazioni con il Pubblico"); err != nil {
		return 0, err
	}
	if b.tenants == nil {
		b.tenants = map[int]int64{}
	}
	b.tenants[round] = t.ID
	return t.ID, nil
}

// phase runs n messages through a phase for the round's tenant and checks what
// it stored. Round 0 is the warm-up.
func (b *ingestBench) phase(ctx context.Context, phase string, round, n int) (phaseFigures, error) {
	label := fmt.Sprintf("%s, round %d", phase, round)
	if round == 0 {
		label = phase + ", warm-up"
	}
	tenantID, err := b.tenant(ctx, round)
	if err == nil {
		err = b.settle(ctx)
	}
	if err != nil {
		return phaseFigures{}, fmt.Errorf("%s: %w", label, err)
	}
	var counts ingestCounts
	do := func(ctx context.Context, k int) error { return b.insertPlain(ctx, tenantID, round, k) }
	if phase == phaseIngest {
		do = func(ctx context.Context, k int) error { return b.ingest(ctx, tenantID, round, k, &counts) }
	}
	elapsed, lat, err := b.measure(ctx, label, n, do)
	if err != nil {
		return phaseFigures{}, err
	}
	if phase == phaseIngest {
		err = b.checkIngest(ctx, tenantID, n, &counts)
	} else {
		err = b.checkPlain(ctx, tenantID, n)
	}
	if err != nil {
		return phaseFigures{}, fmt.Errorf("%s: %w", label, err)
	}
	slices.Sort(lat)
	f := phaseFigures{Phase: phase, Round: round, Messages: n, Seconds: elapsed.Seconds(),
		PerSecond: float64(n) / elapsed.Seconds(), P50ms: millis(percentile(lat, 0.50)), P99ms: millis(percentile(lat, 0.99))}
	b.env.log.Debug("phase done", "phase", phase, "round", round, "messages_per_second", math.Round(f.PerSecond))
	return f, nil
}

// settle brings the database to the state autovacuum keeps a busy one in, before
// a phase: dead rows vacuumed and statistics fresh. Without fresh statistics,
// connections would keep the plans they made while the tables were nearly empty
// for the whole phase, such as foreign-key checks that scan a whole tenant
// through the wrong index. It then asks for a checkpoint, so that none is likely
// to fall inside the phase.
func (b *ingestBench) settle(ctx context.Context) error {
	if _, err := b.pool.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	if _, err := b.pool.Exec(ctx, `CHECKPOINT`); err != nil && ctx.Err() == nil {
		// CHECKPOINT needs a superuser or pg_checkpoint; the figures are only noisier without it.
		b.env.log.Debug("no checkpoint before the phase", "err", err)
	}
	return ctx.Err()
}

// measure runs do for k = 0..n-1 on the workers, timing each call, and stops at
// the first error.
func (b *ingestBench) measure(ctx context.Context, label string, n int, do func(ctx context.Context, k int) error) (time.Duration, []time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	bar := progressbar.NewOptions(n,
		progressbar.OptionSetWriter(b.env.stderr),
		progressbar.OptionSetVisibility(b.progress),
		progressbar.OptionSetDescription(fmt.Sprintf("%-18s", label)),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("msg"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	workers := min(b.opts.workers, n)
	perWorker := make([][]time.Duration, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range perWorker {
		wg.Go(func() {
			lat := make([]time.Duration, 0, n/workers+1)
			for ctx.Err() == nil {
				k := int(next.Add(1)) - 1
				if k >= n {
					break
				}
				t0 := time.Now()
				if err := do(ctx, k); err != nil {
					cancel(fmt.Errorf("%s: message %d of %d: %w", label, k+1, n, err))
					break
				}
				lat = append(lat, time.Since(t0))
				bar.Add(1) //nolint:errcheck // drawing the bar cannot fail the benchmark
			}
			perWorker[w] = lat
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		bar.Exit() //nolint:errcheck
		return 0, nil, err
	}
	bar.Finish() //nolint:errcheck
	return elapsed, slices.Concat(perWorker...), nil
}

// ingestCounts adds up what Ingest reported over a phase.
type ingestCounts struct {
	newContacts, newConversations, duplicates atomic.Int64
}

func (b *ingestBench) ingest(ctx context.Context, tenantID int64, round, k int, c *ingestCounts) error {
	res, err := b.store.Ingest(ctx, tenantID, b.message(round, k))
	if err != nil {
		return err
	}
	if res.NewContact {
		c.newContacts.Add(1)
	}
	if res.NewConversation {
		c.newConversations.Add(1)
	}
	if res.Duplicate {
		c.duplicates.Add(1)
	}
	return nil
}

// insertPlain stores message k's row in the baseline table, in autocommit. The
// conversation id and sequence number are the ones ingest would give it.
func (b *ingestBench) insertPlain(ctx context.Context, tenantID int64, round, k int) error {
	m := b.message(round, k)
	sender, seq := k%b.opts.senders, k/b.opts.senders+1
	_, err := b.pool.Exec(ctx, `
		INSERT INTO bench_plain (tenant_id, conversation_id, seq, channel, direction, author_kind,
		    body_text, body_html, attachments, external_id, delivery_status)
		VALUES ($1, $2, $3, $4, 'in', 'citizen', $5, $6, $7, $8, 'received')`,
		tenantID, sender+1, seq, m.Channel, m.Text, m.HTML, []crm.Attachment{}, m.ExternalID)
	return err
}

// checkIngest makes sure the phase stored exactly n messages for the tenant, one
// contact, identity and open conversation per sender, and gap-free sequence
// numbers, and that Ingest reported no duplicate.
func (b *ingestBench) checkIngest(ctx context.Context, tenantID int64, n int, c *ingestCounts) error {
	senders := int64(min(n, b.opts.senders))
	if d := c.duplicates.Load(); d != 0 {
		return fmt.Errorf("%d messages were reported as duplicates; every message id is new", d)
	}
	if got := c.newContacts.Load(); got != senders {
		return fmt.Errorf("ingest created %d contacts, want one per sender (%d)", got, senders)
	}
	if got := c.newConversations.Load(); got != senders {
		return fmt.Errorf("ingest opened %d conversations, want one per sender (%d)", got, senders)
	}
	var messages, contacts, identities, conversations, gapped int64
	err := b.pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM messages WHERE tenant_id = $1),
		       (SELECT count(*) FROM contacts WHERE tenant_id = $1),
		       (SELECT count(*) FROM contact_identities WHERE tenant_id = $1),
		       (SELECT count(*) FROM conversations WHERE tenant_id = $1 AND status <> 'resolved'),
		       (SELECT count(*) FROM conversations c,
		               LATERAL (SELECT count(*) AS total, count(*) FILTER (WHERE m.seq BETWEEN 1 AND c.last_seq) AS in_range
		                        FROM messages m WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.id) s
		        WHERE c.tenant_id = $1 AND (s.total <> c.last_seq OR s.in_range <> c.last_seq))`, tenantID).
		Scan(&messages, &contacts, &identities, &conversations, &gapped)
	if err != nil {
		return fmt.Errorf("checking what was stored: %w", err)
	}
	switch {
	case messages != int64(n):
		return fmt.Errorf("messages has %d rows for the tenant, want %d", messages, n)
	case contacts != senders || identities != senders || conversations != senders:
		return fmt.Errorf("stored %d contacts, %d identities and %d open conversations, want %d of each",
			contacts, identities, conversations, senders)
	case gapped != 0:
		return fmt.Errorf("%d conversations have gaps in their sequence numbers", gapped)
	}
	return nil
}

func (b *ingestBench) checkPlain(ctx context.Context, tenantID int64, n int) error {
	var rows int64
	if err := b.pool.QueryRow(ctx, `SELECT count(*) FROM bench_plain WHERE tenant_id = $1`, tenantID).Scan(&rows); err != nil {
		return fmt.Errorf("counting the baseline's rows: %w", err)
	}
	if rows != int64(n) {
		return fmt.Errorf("bench_plain has %d rows for the tenant, want %d", rows, n)
	}
	return nil
}

// finalCheck recounts both tables at the end: each round's tenant must hold
// exactly n messages, and the tables nothing but the warm-up and the rounds.
func (b *ingestBench) finalCheck(ctx context.Context, warmup int) (string, error) {
	o := b.opts
	want := map[int64]int64{}
	if warmup > 0 {
		want[b.tenants[0]] = int64(warmup)
	}
	for round := 1; round <= o.rounds; round++ {
		want[b.tenants[round]] = int64(o.n)
	}
	for _, table := range []string{"messages", "bench_plain"} {
		rows, err := b.pool.Query(ctx, `SELECT tenant_id, count(*) FROM `+table+` GROUP BY tenant_id`)
		if err != nil {
			return "", fmt.Errorf("final check: %w", err)
		}
		got := map[int64]int64{}
		var tenantID, count int64
		_, err = pgx.ForEachRow(rows, []any{&tenantID, &count}, func() error { got[tenantID] = count; return nil })
		if err != nil {
			return "", fmt.Errorf("final check: %w", err)
		}
		if !maps.Equal(got, want) {
			return "", fmt.Errorf("final check: %s holds %v rows by tenant, want %v", table, got, want)
		}
	}
	return fmt.Sprintf("ok: every Ingest returned without error or duplicate; messages holds exactly n = %d rows "+
		"for each round's tenant, with one contact, identity and open conversation per sender and gap-free "+
		"sequence numbers, and %d rows in all (warm-up %d + %d × %d); bench_plain likewise",
		o.n, warmup+o.rounds*o.n, warmup, o.rounds, o.n), nil
}

// Sample content. Names are combined so that most senders have a name of their
// own; the few that share one get a merge suggestion, as they would in life.
var (
	benchTexts = []string{
		"Buongiorno, vorrei sapere a che punto è la mia pratica di cambio di residenza. Grazie.",
		"Salve, ho ricevuto un avviso pagoPA per la TARI ma risulta già pagato: potete verificare?",
		"Quando posso prenotare un appuntamento per la carta d'identità elettronica?",
		"Grazie mille, gentilissimi.",
		"Il lampione di via Roma 12 è spento da tre giorni, potete segnalarlo all'ufficio competente?",
		"Buonasera, quali documenti servono per iscrivere mio figlio alla mensa scolastica?",
	}
	benchGivenNames = []string{"Giulia", "Marco", "Francesca", "Luca", "Chiara", "Alessandro", "Sara", "Matteo",
		"Valentina", "Andrea", "Elena", "Davide", "Martina", "Simone", "Federica", "Lorenzo", "Anna", "Giovanni",
		"Paola", "Stefano", "Laura", "Roberto", "Silvia", "Fabio", "Giorgia", "Antonio", "Ilaria", "Paolo",
		"Beatrice", "Riccardo"}
	benchFamilyNames = []string{"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
		"Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo",
		"Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara",
		"Galli", "Martini", "Leone", "Longo", "Gentile", "Martinelli", "Vitale", "Lombardo", "Serra", "Coppola",
		"De Santis", "D'Angelo", "Marchetti", "Parisi", "Villa", "Conte", "Ferraro", "Ferri", "Fabbri",
		"Bianco", "Marini", "Grasso", "Valentini"}
)

// message is the k-th inbound message of a phase. Messages go round-robin to the
// senders; sender s writes on web chat, Telegram or e-mail by s mod 3, always
// from the same identity and on one thread, so that its first message makes the
// contact and the conversation and the others find them.
func (b *ingestBench) message(round, k int) crm.InboundMessage {
	s := k % b.opts.senders
	given := benchGivenNames[s%len(benchGivenNames)]
	family := benchFamilyNames[(s/len(benchGivenNames))%len(benchFamilyNames)]
	m := crm.InboundMessage{
		ExternalID: "bench-" + strconv.Itoa(round) + "-" + strconv.Itoa(k),
		Text:       benchTexts[k%len(benchTexts)],
	}
	switch s % 3 {
	case 0:
		m.Channel = crm.ChannelWebchat
		m.From = crm.IdentityClaim{Kind: crm.IdentityWebchat, ExternalID: fmt.Sprintf("visitor-%08d", s)}
	case 1:
		m.Channel = crm.ChannelTelegram
		m.From = crm.IdentityClaim{Kind: crm.IdentityTelegram, ExternalID: strconv.Itoa(700_000_000 + s),
			GivenName: given, FamilyName: family}
	default:
		local := strings.NewReplacer(" ", "", "'", "").Replace(strings.ToLower(given + "." + family))
		m.Channel = crm.ChannelEmail
		m.Subject = "Richiesta di informazioni"
		m.From = crm.IdentityClaim{Kind: crm.IdentityEmail, ExternalID: fmt.Sprintf("%s.%d@example.it", local, s),
			DisplayName: given + " " + family}
	}
	return m
}

func (r *ingestReport) print(w io.Writer) error {
	fmt.Fprintf(w, "bench ingest: %d messages from %d senders, %d workers, %d round(s) after a warm-up of %d\n",
		r.Messages, r.Senders, r.Workers, r.Rounds, r.Warmup)
	fmt.Fprintf(w, "server: PostgreSQL %s (synchronous_commit=%s, fsync=%s, shared_buffers=%s); client: %d CPUs, %s, %s\n\n",
		r.Server.Version, r.Server.SynchronousCommit, r.Server.Fsync, r.Server.SharedBuffers,
		r.Client.CPUs, r.Client.Platform, r.Client.Go)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase   \tround\tmessages\tseconds\tmessages/s\tp50 ms\tp99 ms\t")
	for _, f := range r.Runs {
		fmt.Fprintf(tw, "%-8s\t%d\t%d\t%.2f\t%.0f\t%.2f\t%.2f\t\n", f.Phase, f.Round, f.Messages, f.Seconds, f.PerSecond, f.P50ms, f.P99ms)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\ningest/baseline: %.2f (best rounds: ingest %.0f messages/s, baseline %.0f messages/s)\ncheck: %s\n",
		r.Ratio, r.Ingest.PerSecond, r.Baseline.PerSecond, r.Check)
	return err
}

// percentile returns the nearest-rank q-quantile of sorted durations.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// isTerminal reports whether w is a terminal, where a progress bar can redraw
// itself; in a file or a pipe it would only add noise.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
