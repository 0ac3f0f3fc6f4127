// Package pgcluster runs a private PostgreSQL cluster in a folder, with the
// system's PostgreSQL programs, so that Dialogo and its tests work on a fresh
// machine with no database set up by hand.
//
// A cluster's folder holds:
//
//	pgdata/          the PostgreSQL data directory
//	password         the superuser's password (mode 0600)
//	postgresql.log   the server's log
//	cluster.lock     taken while a process starts or stops the cluster
//
// The server listens only on 127.0.0.1, on a port free when it starts, with no
// Unix socket, and accepts the superuser "dialogo" with its password
// (scram-sha-256). As root, PostgreSQL runs as the postgres system user.
package pgcluster

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Superuser is the name of the cluster's superuser.
const Superuser = "dialogo"

// Database is the database that Start makes sure exists.
const Database = "dialogo"

// serverConfig is appended to postgresql.conf when the cluster is made. The port
// is given at each start instead, since a port free today may be taken tomorrow.
const serverConfig = `
# Added by Dialogo (internal/pgcluster): a private cluster, reachable only from
# this machine over TCP with a password. The port is chosen at each start.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
# Many test packages run in parallel, each with its own connection pool.
max_connections = 200
`

// Cluster is a PostgreSQL cluster kept in a folder on this machine.
type Cluster struct {
	dir      string
	bin      binaries
	runAs    *account // nil: the programs run as this process's user
	password string
	port     int
	log      *slog.Logger

	mu      sync.Mutex
	started bool // this process started the server, so Stop stops it
}

// Start makes sure a PostgreSQL server runs on the cluster kept in dir and returns
// it. It makes the cluster first (initdb) if dir holds none. If a server already
// runs on it (started by another process), Start uses it and Stop will leave it
// running; otherwise Start starts one, which keeps running until Stop, even after
// this process exits. Start also makes sure the database "dialogo" exists.
//
// Start creates dir if needed and takes it over: as root the folder is given to
// the postgres system user, and if that user cannot reach it (under /root, say),
// the cluster is kept in /var/lib/dialogo/<hash of dir> instead, which Dir
// reports. Processes calling Start and Stop on the same folder at once are
// serialised by a lock file.
func Start(ctx context.Context, dir string, log *slog.Logger) (*Cluster, error) {
	c, err := start(ctx, dir, log)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: starting PostgreSQL in %s: %w", dir, err)
	}
	return c, nil
}

func start(ctx context.Context, dir string, log *slog.Logger) (*Cluster, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	runAs, err := serverAccount()
	if err != nil {
		return nil, err
	}
	dir, err = prepareDir(ctx, dir, runAs, log)
	if err != nil {
		return nil, err
	}
	unlock, err := lockDir(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer unlock()

	c := &Cluster{dir: dir, runAs: runAs, log: log}
	version, err := c.dataVersion()
	if err != nil {
		return nil, err
	}
	if c.bin, err = findBinaries(ctx, version); err != nil {
		return nil, err
	}
	if version == "" {
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
	}
	pw, err := os.ReadFile(c.passwordFile())
	if err != nil {
		return nil, fmt.Errorf("reading the superuser's password (delete %s to start afresh): %w", dir, err)
	}
	c.password = strings.TrimSpace(string(pw))

	port, running, err := c.runningPort(ctx)
	if err != nil {
		return nil, err
	}
	if running {
		c.port = port
		log.Info("using the PostgreSQL server already running", "dir", dir, "port", port)
	} else {
		if err := c.startServer(ctx); err != nil {
			return nil, err
		}
		c.started = true
		log.Info("started PostgreSQL", "version", c.bin.version, "dir", dir, "port", c.port)
	}
	if err := c.ensureDatabase(ctx, Database); err != nil {
		if c.started {
			_ = c.stopServer(context.WithoutCancel(ctx))
		}
		return nil, err
	}
	return c, nil
}

// URL returns a libpq connection URL for the database dbname as the superuser.
// It holds the password: do not log it.
func (c *Cluster) URL(dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(Superuser, c.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Dir returns the folder the cluster is kept in. It differs from the folder given
// to Start when root had to keep the cluster elsewhere.
func (c *Cluster) Dir() string { return c.dir }

// Port returns the TCP port the server listens on, on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// String describes the cluster without its password.
func (c *Cluster) String() string {
	return fmt.Sprintf("PostgreSQL on 127.0.0.1:%d, kept in %s", c.port, c.dir)
}

// Stop stops the server (fast shutdown: open sessions are ended) if this Cluster
// started it, and does nothing otherwise. It is safe to call more than once.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started {
		return nil
	}
	if _, err := os.Stat(c.dir); errors.Is(err, os.ErrNotExist) {
		c.started = false // removed, and so stopped, by Remove
		return nil
	}
	unlock, err := lockDir(ctx, c.dir)
	if err != nil {
		return fmt.Errorf("pgcluster: stopping PostgreSQL in %s: %w", c.dir, err)
	}
	defer unlock()
	if err := c.stopServer(ctx); err != nil {
		return fmt.Errorf("pgcluster: stopping PostgreSQL in %s: %w", c.dir, err)
	}
	c.started = false
	c.log.Info("stopped PostgreSQL", "dir", c.dir)
	return nil
}

// Shutdown stops the server running on the cluster kept in dir, whichever process
// started it; it does nothing if dir holds no cluster or none runs. It finds a
// cluster that root keeps elsewhere as Start does.
func Shutdown(ctx context.Context, dir string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c, err := existing(ctx, dir, log)
	if err != nil || c == nil {
		return err
	}
	c.started = true
	return c.Stop(ctx)
}

// Remove stops the server running on the cluster kept for dir, if any, and
// deletes the cluster, wherever root kept it, along with dir.
func Remove(ctx context.Context, dir string, log *slog.Logger) error {
	if err := Shutdown(ctx, dir, log); err != nil {
		return err
	}
	c, err := existing(ctx, dir, log)
	if err != nil {
		return err
	}
	if c != nil {
		if err := os.RemoveAll(c.dir); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return nil
}

// existing returns the cluster kept for dir, without creating anything, or nil.
func existing(ctx context.Context, dir string, log *slog.Logger) (*Cluster, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	runAs, err := serverAccount()
	if err != nil {
		return nil, err
	}
	candidates := []string{abs}
	if runAs != nil {
		candidates = append(candidates, fallbackDir(abs))
	}
	for _, d := range candidates {
		c := &Cluster{dir: d, runAs: runAs, log: log}
		version, err := c.dataVersion()
		if err != nil {
			return nil, err
		}
		if version == "" {
			continue
		}
		if c.bin, err = findBinaries(ctx, version); err != nil {
			return nil, fmt.Errorf("pgcluster: %s: %w", d, err)
		}
		return c, nil
	}
	return nil, nil
}

func (c *Cluster) dataDir() string      { return filepath.Join(c.dir, "pgdata") }
func (c *Cluster) passwordFile() string { return filepath.Join(c.dir, "password") }
func (c *Cluster) logFile() string      { return filepath.Join(c.dir, "postgresql.log") }

// dataVersion returns the major version of PostgreSQL that made the cluster, or
// "" if there is no cluster yet.
func (c *Cluster) dataVersion() (string, error) {
	b, err := os.ReadFile(filepath.Join(c.dataDir(), "PG_VERSION"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// run runs a PostgreSQL program in the cluster's folder. Its error includes what
// the program printed.
func (c *Cluster) run(ctx context.Context, name string, args ...string) (output string, err error) {
	out, err := c.runAs.command(ctx, c.dir, name, args...).CombinedOutput()
	output = strings.TrimSpace(string(out))
	if err != nil {
		return output, fmt.Errorf("%s failed: %w\n%s", filepath.Base(name), err, output)
	}
	return output, nil
}

// initdb makes a new cluster with a random superuser password. It works in a
// side folder renamed into place once configured, so that a cluster that exists
// is always complete.
func (c *Cluster) initdb(ctx context.Context) error {
	c.log.Info("creating a PostgreSQL cluster", "version", c.bin.version, "dir", c.dir)
	password, err := randomPassword()
	if err != nil {
		return err
	}
	pwFile := c.passwordFile()
	if err := os.WriteFile(pwFile+".new", []byte(password+"\n"), 0o600); err != nil {
		return err
	}
	if err := c.runAs.chown(pwFile + ".new"); err != nil {
		return err
	}
	if err := os.Rename(pwFile+".new", pwFile); err != nil {
		return err
	}

	work := c.dataDir() + ".new"
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	args := []string{
		"--pgdata=" + work, "--username=" + Superuser, "--pwfile=" + pwFile,
		"--auth=scram-sha-256", "--encoding=UTF8", "--no-instructions",
	}
	// C.UTF-8 sorts by code point and is in every recent glibc; plain C is the
	// fallback where it is missing.
	out, err := c.run(ctx, c.bin.initdb(), append(args, "--locale=C.UTF-8")...)
	if err != nil && strings.Contains(out, "locale") {
		c.log.Info("locale C.UTF-8 unavailable, using C")
		_ = os.RemoveAll(work)
		_, err = c.run(ctx, c.bin.initdb(), append(args, "--locale=C")...)
	}
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(work, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(serverConfig); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(work, c.dataDir())
}

func randomPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// startServer starts the server on a free port, trying another port if the one
// chosen is taken before the server binds it.
func (c *Cluster) startServer(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		logStart := fileSize(c.logFile())
		_, err = c.run(ctx, c.bin.pgCtl(), "start", "--wait", "--timeout=120",
			"--pgdata="+c.dataDir(), "--log="+c.logFile(), "--options=-p "+strconv.Itoa(port))
		if err == nil {
			c.port = port
			return nil
		}
		serverLog := readFrom(c.logFile(), logStart)
		if strings.Contains(serverLog, "Address already in use") && attempt < 5 {
			continue
		}
		return fmt.Errorf("%w\nserver log (%s):\n%s", err, c.logFile(), lastLines(serverLog, 20))
	}
}

func (c *Cluster) stopServer(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.dataDir(), "postmaster.pid")); errors.Is(err, os.ErrNotExist) {
		return nil // already stopped
	}
	_, err := c.run(ctx, c.bin.pgCtl(), "stop", "--wait", "--timeout=120", "--mode=fast", "--pgdata="+c.dataDir())
	return err
}

// runningPort reads postmaster.pid to tell whether a server runs on the cluster
// and on which port, waiting for one that is starting or stopping to finish.
func (c *Cluster) runningPort(ctx context.Context) (port int, running bool, err error) {
	pidFile := filepath.Join(c.dataDir(), "postmaster.pid")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b, err := os.ReadFile(pidFile)
		if errors.Is(err, os.ErrNotExist) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, err
		}
		// The lines are: pid, data directory, start time, port, socket
		// directory, listen address, shared memory key, status.
		lines := strings.Split(string(b), "\n")
		pid, _ := strconv.Atoi(strings.TrimSpace(lines[0]))
		if pid > 0 && !isPostmaster(pid) {
			// Left by a server that did not stop cleanly. PostgreSQL removes such
			// a file itself unless its process number now belongs to another of
			// our processes, which isPostmaster has ruled out.
			c.log.Warn("removing the stale postmaster.pid of a server that no longer runs", "dir", c.dir, "pid", pid)
			if err := os.Remove(pidFile); err != nil {
				return 0, false, err
			}
			return 0, false, nil
		}
		if len(lines) >= 8 && strings.TrimSpace(lines[7]) == "ready" {
			port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
			if err != nil {
				return 0, false, fmt.Errorf("%s: bad port %q", pidFile, lines[3])
			}
			return port, true, nil
		}
		// Being written, starting, or stopping: look again shortly.
		if time.Now().After(deadline) {
			return 0, false, fmt.Errorf("the server of %s (pid %d) is neither ready nor stopped after 2 minutes", c.dir, pid)
		}
		select {
		case <-ctx.Done():
			return 0, false, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// isPostmaster reports whether process pid runs and, where /proc tells, is a
// PostgreSQL server.
func isPostmaster(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return true // cannot tell; trust the signal
	}
	name := strings.TrimSpace(string(comm))
	return name == "postgres" || name == "postmaster"
}

// ensureDatabase creates database name if it does not exist.
func (c *Cluster) ensureDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connecting to the server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists, vector bool
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1),
		EXISTS (SELECT FROM pg_available_extensions WHERE name = 'vector')`, name).Scan(&exists, &vector)
	if err != nil {
		return err
	}
	if !vector {
		c.log.Warn(`the pgvector extension is not installed for this PostgreSQL; run "make deps" (scripts/install-deps.sh)`, "version", c.bin.version)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating database %s: %w", name, err)
	}
	return nil
}

// lockDir takes the folder's lock file, waiting for another process to release it
// for as long as ctx allows, and returns the function that releases it.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, "cluster.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for another process to release %s: %w", f.Name(), ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePort returns a TCP port on 127.0.0.1 that nobody listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readFrom returns what path holds from offset on.
func readFrom(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		return ""
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// DefaultDataDir returns the folder for Dialogo's private cluster:
// $DIALOGO_DATA_DIR, else $XDG_DATA_HOME/dialogo, else ~/.local/share/dialogo.
func DefaultDataDir() string {
	if d := os.Getenv("DIALOGO_DATA_DIR"); d != "" {
		return d
	}
	// The XDG specification says to ignore a relative XDG_DATA_HOME.
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "dialogo")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		if u, uerr := user.Current(); uerr == nil && u.HomeDir != "" {
			home = u.HomeDir
		} else {
			home = "."
		}
	}
	return filepath.Join(home, ".local", "share", "dialogo")
}
