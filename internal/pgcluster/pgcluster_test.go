package pgcluster_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/internal/pgcluster"
)

// syncBuffer collects log output written from any goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startCluster starts a cluster in a fresh folder and stops and removes it when the
// test ends, including the folder root may have used instead.
func startCluster(t *testing.T, dir string, logs *syncBuffer) *pgcluster.Cluster {
	t.Helper()
	log := slog.New(slog.NewTextHandler(logs, nil))
	c, err := pgcluster.Start(t.Context(), dir, log)
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, c.Stop(context.Background()))
		if c.Dir() != dir {
			require.NoError(t, os.RemoveAll(c.Dir()))
		}
	})
	return c
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestStartMakesAClusterWithTheDialogoDatabaseAndPgvector(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	c := startCluster(t, t.TempDir(), logs)

	conn := connect(t, c.URL("dialogo"))
	_, err := conn.Exec(t.Context(), "CREATE EXTENSION vector")
	require.NoError(t, err)
	var distance float64
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT '[1,0]'::vector <=> '[0,1]'::vector").Scan(&distance))
	require.InDelta(t, 1.0, distance, 1e-9)

	var user, encoding, addr string
	require.NoError(t, conn.QueryRow(t.Context(),
		"SELECT current_user, pg_encoding_to_char(encoding), host(inet_server_addr()) FROM pg_database WHERE datname = current_database()").
		Scan(&user, &encoding, &addr))
	require.Equal(t, []string{"dialogo", "UTF8", "127.0.0.1"}, []string{user, encoding, addr})
	var sockets string
	require.NoError(t, conn.QueryRow(t.Context(), "SHOW unix_socket_directories").Scan(&sockets))
	require.Empty(t, sockets)

	t.Run("keeps the password in a private file and never logs it", func(t *testing.T) {
		fi, err := os.Stat(filepath.Join(c.Dir(), "password"))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		pw, err := os.ReadFile(filepath.Join(c.Dir(), "password"))
		require.NoError(t, err)
		require.NotContains(t, logs.String(), strings.TrimSpace(string(pw)))
		require.Contains(t, c.URL("x"), strings.TrimSpace(string(pw)))
	})

	t.Run("refuses a wrong password", func(t *testing.T) {
		_, err := pgx.Connect(t.Context(), strings.Replace(c.URL("dialogo"), "dialogo:", "dialogo:x", 1))
		require.ErrorContains(t, err, "password authentication failed")
	})
}

func TestStartReusesARunningServerAndLeavesItRunning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := startCluster(t, dir, &syncBuffer{})
	conn := connect(t, first.URL("dialogo"))

	second, err := pgcluster.Start(t.Context(), dir, nil)
	require.NoError(t, err)
	require.Equal(t, first.URL("dialogo"), second.URL("dialogo"))
	require.Equal(t, first.Dir(), second.Dir())

	require.NoError(t, second.Stop(t.Context()))
	require.NoError(t, conn.Ping(t.Context()), "Stop of a Cluster that reused the server stopped it")
}

func TestStopStopsTheServerAndStartBringsItBackWithTheData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startCluster(t, dir, &syncBuffer{})
	conn, err := pgx.Connect(t.Context(), c.URL("dialogo"))
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
	require.NoError(t, err)
	require.NoError(t, conn.Close(t.Context()))

	require.NoError(t, c.Stop(t.Context()))
	require.NoError(t, c.Stop(t.Context()), "a second Stop")
	_, err = pgx.Connect(t.Context(), c.URL("dialogo"))
	require.Error(t, err, "the server still accepts connections after Stop")

	again := startCluster(t, dir, &syncBuffer{})
	var v string
	require.NoError(t, connect(t, again.URL("dialogo")).QueryRow(t.Context(), "SELECT v FROM kept").Scan(&v))
	require.Equal(t, "still here", v)
}

func TestShutdownStopsAServerStartedByAnotherProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startCluster(t, dir, &syncBuffer{})
	pidFile := filepath.Join(c.Dir(), "pgdata", "postmaster.pid")
	require.FileExists(t, pidFile)

	require.NoError(t, pgcluster.Shutdown(t.Context(), dir, nil))
	require.NoFileExists(t, pidFile)
	require.NoError(t, pgcluster.Shutdown(t.Context(), dir, nil), "Shutdown of a stopped cluster")
	require.NoError(t, pgcluster.Shutdown(t.Context(), t.TempDir(), nil), "Shutdown of an empty folder")
}

func TestRemoveStopsAndDeletesTheCluster(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startCluster(t, dir, &syncBuffer{})

	require.NoError(t, pgcluster.Remove(t.Context(), dir, nil))
	require.NoDirExists(t, c.Dir())
	require.NoDirExists(t, dir)
	_, err := pgx.Connect(t.Context(), c.URL("dialogo"))
	require.Error(t, err, "the server still accepts connections after Remove")
}

func TestConcurrentStartsShareOneServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var wg sync.WaitGroup
	clusters := make([]*pgcluster.Cluster, 4)
	errs := make([]error, len(clusters))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	for i := range clusters {
		wg.Go(func() { clusters[i], errs[i] = pgcluster.Start(ctx, dir, nil) })
	}
	wg.Wait()
	t.Cleanup(func() {
		require.NoError(t, pgcluster.Shutdown(context.Background(), dir, nil))
		for _, c := range clusters {
			if c != nil && c.Dir() != dir {
				require.NoError(t, os.RemoveAll(c.Dir()))
			}
		}
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
	for _, c := range clusters[1:] {
		require.Equal(t, clusters[0].URL("dialogo"), c.URL("dialogo"))
	}
}

func TestDefaultDataDir(t *testing.T) {
	home, err := os.UserHomeDir()
	require.NoError(t, err)
	tests := []struct {
		name, dataDir, xdg, want string
	}{
		{"DIALOGO_DATA_DIR first", "/srv/dialogo", "/xdg", "/srv/dialogo"},
		{"then XDG_DATA_HOME", "", "/xdg", "/xdg/dialogo"},
		{"a relative XDG_DATA_HOME is ignored", "", "xdg", filepath.Join(home, ".local/share/dialogo")},
		{"else the home folder", "", "", filepath.Join(home, ".local/share/dialogo")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DIALOGO_DATA_DIR", tt.dataDir)
			t.Setenv("XDG_DATA_HOME", tt.xdg)
			require.Equal(t, tt.want, pgcluster.DefaultDataDir())
		})
	}
}

func TestStartAsRootRunsPostgresAsThePostgresUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only as root")
	}
	t.Parallel()

	t.Run("in the folder asked for when postgres can reach it", func(t *testing.T) {
		t.Parallel()
		parent, err := os.MkdirTemp("", "pgcluster-reachable-")
		require.NoError(t, err)
		t.Cleanup(func() { os.RemoveAll(parent) })
		require.NoError(t, os.Chmod(parent, 0o755))
		dir := filepath.Join(parent, "cluster")
		c := startCluster(t, dir, &syncBuffer{})
		require.Equal(t, dir, c.Dir())
		requireOwnedByPostgres(t, filepath.Join(dir, "pgdata"))
	})

	t.Run("elsewhere, and says where, when postgres cannot reach it", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir() // under a folder only root may enter
		logs := &syncBuffer{}
		c := startCluster(t, dir, logs)
		require.True(t, strings.HasPrefix(c.Dir(), "/var/lib/dialogo/"), c.Dir())
		requireOwnedByPostgres(t, filepath.Join(c.Dir(), "pgdata"))
		require.Contains(t, logs.String(), c.Dir())
		note, err := os.ReadFile(filepath.Join(dir, "WHERE-IS-POSTGRES.txt"))
		require.NoError(t, err)
		require.Contains(t, string(note), c.Dir())

		again, err := pgcluster.Start(t.Context(), dir, nil)
		require.NoError(t, err)
		require.Equal(t, c.URL("dialogo"), again.URL("dialogo"))
	})
}

func requireOwnedByPostgres(t *testing.T, path string) {
	t.Helper()
	u, err := user.Lookup("postgres")
	require.NoError(t, err)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, u.Uid, strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid)))
}
