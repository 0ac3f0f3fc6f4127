package pgcluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// serverUser is the system account that runs PostgreSQL when we are root:
// PostgreSQL refuses to run as root, and Debian's packages create this account.
const serverUser = "postgres"

// fallbackRoot holds the clusters of data folders that serverUser cannot reach,
// such as one under /root, which is private to root.
const fallbackRoot = "/var/lib/dialogo"

// account is a system user that the PostgreSQL programs run as.
type account struct {
	name     string
	uid, gid uint32
}

// serverAccount returns the account to run PostgreSQL as: nil (ourselves) unless
// we are root.
func serverAccount() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(serverUser)
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as the %q system user, which was not found (%v); run \"make deps\" (scripts/install-deps.sh) to install PostgreSQL, or run as a normal user", serverUser, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: uid %q: %w", serverUser, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: gid %q: %w", serverUser, u.Gid, err)
	}
	return &account{name: serverUser, uid: uint32(uid), gid: uint32(gid)}, nil
}

// command prepares a PostgreSQL program to run in dir, as a when a is not nil.
// Variables such as PGDATA and PGPORT are dropped from its environment so that
// only the arguments decide what it does.
func (a *account) command(ctx context.Context, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if a != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: a.uid, Gid: a.gid}}
	}
	return cmd
}

// chown gives path to a; it does nothing when a is nil.
func (a *account) chown(path string) error {
	if a == nil {
		return nil
	}
	return os.Lchown(path, int(a.uid), int(a.gid))
}

// canSearch reports whether a may look up names in dir, which needs the search
// permission on dir and on every folder above it.
func (a *account) canSearch(ctx context.Context, dir string) bool {
	test, err := exec.LookPath("test")
	if err != nil {
		test = "/usr/bin/test"
	}
	return a.command(ctx, "/", test, "-x", dir).Run() == nil
}

// prepareDir creates the cluster's folder and returns its absolute path, which
// may differ from dir as root: PostgreSQL then runs as a, so the folder is given
// to a, and if a cannot reach it (a folder under /root, or under a private
// temporary folder) the cluster goes to a folder of its own under
// /var/lib/dialogo instead, named after dir.
func prepareDir(ctx context.Context, dir string, a *account, log *slog.Logger) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", err
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return "", err
	}
	if a == nil {
		return abs, nil
	}
	if !a.canSearch(ctx, filepath.Dir(abs)) {
		moved := fallbackDir(abs)
		log.Warn("PostgreSQL runs as the postgres user, which cannot reach the data folder; the cluster lives in another folder instead",
			"requested", abs, "dir", moved)
		if err := os.MkdirAll(fallbackRoot, 0o755); err != nil {
			return "", err
		}
		if !a.canSearch(ctx, fallbackRoot) {
			return "", fmt.Errorf("the %s user can reach neither %s nor %s; make one of them reachable", a.name, abs, fallbackRoot)
		}
		note := fmt.Sprintf("The PostgreSQL cluster for this folder is in %s: PostgreSQL runs as the %s user, which cannot reach this folder.\n", moved, a.name)
		if err := os.WriteFile(filepath.Join(abs, "WHERE-IS-POSTGRES.txt"), []byte(note), 0o644); err != nil {
			return "", err
		}
		if err := os.MkdirAll(moved, 0o700); err != nil {
			return "", err
		}
		abs = moved
	}
	if err := a.chown(abs); err != nil {
		return "", err
	}
	return abs, os.Chmod(abs, 0o700)
}

// fallbackDir is where root keeps the cluster of a folder that the server
// account cannot reach; the same folder always maps to the same place.
func fallbackDir(abs string) string {
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(fallbackRoot, hex.EncodeToString(sum[:])[:12])
}
