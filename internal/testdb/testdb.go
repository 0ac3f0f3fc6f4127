// Package testdb gives each test package a PostgreSQL database of its own, with
// Dialogo's schema, for tests that talk to a real database.
//
// The server is the one named by $DIALOGO_TEST_DATABASE_URL (an admin URL: the
// role must be able to create databases; "make test" sets it), else a private
// cluster that the test binaries of one user share, started on first use in
// $TMPDIR/dialogo-test-pg-<uid> and left running.
//
// On that server, a template database named after a hash of the migration files
// is migrated once, and each test binary (one per package) clones it into a fresh
// database. The template and clone steps hold a PostgreSQL advisory lock, since
// a database cannot be cloned while it is being migrated. A test binary keeps a
// session open that claims its database, with another advisory lock, until it
// exits; the next test binary to start drops the databases no longer claimed, so
// that no database outlives the next run.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dialogo-pa/dialogo/internal/pgcluster"
	"github.com/dialogo-pa/dialogo/migrations"
)

// EnvURL names the environment variable holding the admin URL of the PostgreSQL
// server that tests use.
const EnvURL = "DIALOGO_TEST_DATABASE_URL"

const (
	templatePrefix = "dialogo_tmpl_"
	testPrefix     = "dialogo_test_"

	// setupLock is the advisory lock held while creating and cloning templates.
	setupLock int64 = 0x4449414c4f474f // "DIALOGO"
	// claimSpace is the upper half of the advisory lock by which a test binary
	// claims its database; the lower half is the database's OID.
	claimSpace int64 = 0x44494147 // "DIAG"

	// keptTemplates is how many templates of older migrations are kept, for
	// checkouts of other branches that share the server.
	keptTemplates = 3

	// maxConns bounds each package's pool: test packages run in parallel
	// against one server, and the default grows with the number of CPUs.
	maxConns = 10
)

// database is this test binary's database. Test binaries hold one per package,
// shared by all its tests: it is made on first use and lives until the process
// exits, which is why it is package state.
var database struct {
	once sync.Once
	url  string
	pool *pgxpool.Pool
	err  error
	// claim is the session that holds this process's claim on its database.
	// It is never closed: the claim ends when the process does.
	claim *pgx.Conn
}

// New returns a pool connected to this test package's database, with Dialogo's
// migrations applied. Every test of the package gets the same pool and the same
// database, so tests must not rely on the database being empty: each should make
// the rows it needs (a tenant of its own, say). The pool must not be closed.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	setup(t)
	return database.pool
}

// URL returns the connection URL of this test package's database, the one New
// connects to, for code that opens its own connections.
func URL(t testing.TB) string {
	t.Helper()
	setup(t)
	return database.url
}

func setup(t testing.TB) {
	t.Helper()
	database.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		log := slog.New(slog.NewTextHandler(t.Output(), nil))
		database.url, database.claim, database.err = create(ctx, log)
		if database.err != nil {
			return
		}
		cfg, err := pgxpool.ParseConfig(database.url)
		if err != nil {
			database.err = err
			return
		}
		cfg.MaxConns = maxConns
		database.pool, database.err = pgxpool.NewWithConfig(ctx, cfg)
	})
	if database.err != nil {
		t.Fatalf("testdb: %v", database.err)
	}
}

// create makes this test binary's database and returns its URL, and the admin
// session that claims it.
func create(ctx context.Context, log *slog.Logger) (dbURL string, claim *pgx.Conn, err error) {
	adminURL := os.Getenv(EnvURL)
	if adminURL == "" {
		dir := filepath.Join(os.TempDir(), "dialogo-test-pg-"+strconv.Itoa(os.Geteuid()))
		if err := checkOwnDir(dir); err != nil {
			return "", nil, err
		}
		c, err := pgcluster.Start(ctx, dir, log)
		if err != nil {
			return "", nil, fmt.Errorf("%w (or set %s to the admin URL of a PostgreSQL server with pgvector)", err, EnvURL)
		}
		adminURL = c.URL("postgres")
	}
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("connecting to the test server: %w", err)
	}
	defer func() {
		if err != nil {
			admin.Close(context.WithoutCancel(ctx))
		}
	}()

	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", setupLock); err != nil {
		return "", nil, fmt.Errorf("waiting for the test setup lock: %w", err)
	}
	defer func() {
		// Unlocking after an error may fail too: the session then ends, and
		// the lock with it.
		_, _ = admin.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", setupLock)
	}()

	tmpl, err := templateName()
	if err != nil {
		return "", nil, err
	}
	if err := ensureTemplate(ctx, admin, adminURL, tmpl, log); err != nil {
		return "", nil, err
	}
	if err := dropUnused(ctx, admin, tmpl, log); err != nil {
		return "", nil, err
	}

	name, err := databaseName()
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{tmpl}.Sanitize())); err != nil {
		return "", nil, fmt.Errorf("cloning %s: %w", tmpl, err)
	}
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(($1::bigint << 32) | oid::bigint) FROM pg_database WHERE datname = $2",
		claimSpace, name); err != nil {
		return "", nil, fmt.Errorf("claiming %s: %w", name, err)
	}
	return withDatabase(adminURL, name), admin, nil
}

// templateName names the template after the migration files, so that a change
// to them makes a new template.
func templateName() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hashing the migrations: %w", err)
	}
	return templatePrefix + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// ensureTemplate creates and migrates the template tmpl unless it exists. It
// migrates a database of another name, renamed when done, so that a failed
// migration leaves no template behind.
func ensureTemplate(ctx context.Context, admin *pgx.Conn, adminURL, tmpl string, log *slog.Logger) error {
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", tmpl).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	log.Info("migrating a new template database", "name", tmpl)
	wip := tmpl + "_wip"
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{wip}.Sanitize()+" WITH (FORCE)"); err != nil {
		return err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{wip}.Sanitize()); err != nil {
		return fmt.Errorf("creating %s: %w", wip, err)
	}
	cfg, err := pgx.ParseConfig(withDatabase(adminURL, wip))
	if err != nil {
		return err
	}
	db := stdlib.OpenDB(*cfg)
	err = migrations.Up(ctx, db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("migrating %s: %w", wip, err)
	}
	// No session may connect to a template: cloning fails while one does.
	for _, stmt := range []string{
		fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", pgx.Identifier{wip}.Sanitize(), pgx.Identifier{tmpl}.Sanitize()),
		fmt.Sprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS false", pgx.Identifier{tmpl}.Sanitize()),
	} {
		if _, err := admin.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}

// dropUnused drops the test databases that no running test binary claims, the
// templates left half-made, and all but the newest few templates other than tmpl.
func dropUnused(ctx context.Context, admin *pgx.Conn, tmpl string, log *slog.Logger) error {
	rows, err := admin.Query(ctx, `
		SELECT datname, oid,
			CASE WHEN datname LIKE 'dialogo\_test\_%'
				THEN pg_try_advisory_lock(($1::bigint << 32) | oid::bigint)
				ELSE false END AS unclaimed,
			datname LIKE 'dialogo\_tmpl\_%\_wip' AS half_made
		FROM pg_database
		WHERE datname LIKE 'dialogo\_test\_%' OR datname LIKE 'dialogo\_tmpl\_%'
		ORDER BY oid DESC`, claimSpace)
	if err != nil {
		return err
	}
	type database struct {
		name                string
		oid                 uint32
		unclaimed, halfMade bool
	}
	dbs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (database, error) {
		var d database
		err := row.Scan(&d.name, &d.oid, &d.unclaimed, &d.halfMade)
		return d, err
	})
	if err != nil {
		return err
	}
	templates := 0
	for _, d := range dbs {
		drop := d.unclaimed || d.halfMade
		if strings.HasPrefix(d.name, templatePrefix) && !d.halfMade && d.name != tmpl {
			templates++
			drop = templates > keptTemplates
		}
		if drop {
			if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.name}.Sanitize()+" WITH (FORCE)"); err != nil {
				return fmt.Errorf("dropping %s: %w", d.name, err)
			}
			log.Debug("dropped an unused test database", "name", d.name)
		}
		if d.unclaimed {
			if _, err := admin.Exec(ctx, "SELECT pg_advisory_unlock(($1::bigint << 32) | $2::bigint)", claimSpace, int64(d.oid)); err != nil {
				return err
			}
		}
	}
	return nil
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// databaseName makes a new database name that tells which package it is for:
// dialogo_test_<package>_<random>.
func databaseName() (string, error) {
	pkg := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	pkg = strings.Trim(nonWord.ReplaceAllString(strings.ToLower(pkg), "_"), "_")
	if len(pkg) > 24 {
		pkg = pkg[:24]
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return testPrefix + pkg + "_" + hex.EncodeToString(b), nil
}

// withDatabase returns connection string s with its database replaced by name.
func withDatabase(s, name string) string {
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		if u, err := url.Parse(s); err == nil {
			u.Path, u.RawPath = "/"+name, ""
			return u.String()
		}
	}
	// A keyword/value string: the last setting of a keyword wins.
	return s + " dbname=" + name
}

// checkOwnDir refuses a shared-cluster folder that someone else made: its
// predictable name in the temporary folder must not let another user choose the
// server our tests talk to.
func checkOwnDir(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	owner := fi.Sys().(*syscall.Stat_t).Uid
	ok := fi.IsDir() && int(owner) == os.Geteuid()
	if !ok && fi.IsDir() && os.Geteuid() == 0 {
		// As root, the folder belongs to the postgres user that runs the server.
		if u, err := user.Lookup("postgres"); err == nil && u.Uid == strconv.Itoa(int(owner)) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("%s is not a folder of this user; remove it, or set %s", dir, EnvURL)
	}
	return nil
}
