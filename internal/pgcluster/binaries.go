package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ErrNoBinaries is returned when the PostgreSQL server programs cannot be found.
var ErrNoBinaries = errors.New(`PostgreSQL server programs (initdb, pg_ctl, postgres) not found on PATH or in /usr/lib/postgresql/*/bin; run "make deps" (scripts/install-deps.sh) to install PostgreSQL and pgvector`)

// debianRoot is where Debian and Ubuntu install each PostgreSQL major version,
// one folder per version; initdb and pg_ctl are not on PATH there.
const debianRoot = "/usr/lib/postgresql"

// binaries are the server programs of one PostgreSQL installation.
type binaries struct {
	dir     string // holds initdb, pg_ctl and postgres
	version string // major version, e.g. "15"
}

func (b binaries) initdb() string { return filepath.Join(b.dir, "initdb") }
func (b binaries) pgCtl() string  { return filepath.Join(b.dir, "pg_ctl") }

// findBinaries picks the PostgreSQL installation to run: the one whose initdb is
// on PATH, else the newest under /usr/lib/postgresql. When major is not empty (an
// existing cluster made by that version) only that version will do, since a
// cluster cannot be opened by another major version.
func findBinaries(ctx context.Context, major string) (binaries, error) {
	var found []binaries
	for _, dir := range candidateDirs() {
		version, err := majorVersion(ctx, dir)
		if err != nil {
			continue
		}
		if major == "" {
			return binaries{dir: dir, version: version}, nil
		}
		if version == major {
			return binaries{dir: dir, version: version}, nil
		}
		found = append(found, binaries{dir: dir, version: version})
	}
	if len(found) == 0 {
		return binaries{}, ErrNoBinaries
	}
	return binaries{}, fmt.Errorf("the cluster was made by PostgreSQL %s, but only PostgreSQL %s is installed (%s); install postgresql-%s, or move the data folder away to start afresh",
		major, found[0].version, found[0].dir, major)
}

// candidateDirs lists the folders that may hold the server programs, best first.
func candidateDirs() []string {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		// Resolve symlinks so that pg_ctl and postgres are looked for next to the
		// real initdb (/usr/local/bin/initdb may point into /usr/lib/postgresql).
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if abs, err := filepath.Abs(p); err == nil {
			dirs = append(dirs, filepath.Dir(abs))
		}
	}
	entries, _ := os.ReadDir(debianRoot)
	var versions []string
	for _, e := range entries {
		if _, err := strconv.ParseFloat(e.Name(), 64); err == nil {
			versions = append(versions, e.Name())
		}
	}
	sort.Slice(versions, func(i, j int) bool { return versionLess(versions[j], versions[i]) })
	for _, v := range versions {
		dirs = append(dirs, filepath.Join(debianRoot, v, "bin"))
	}
	return dirs
}

// versionLess orders "9.6" before "15" before "16".
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, _ := strconv.Atoi(pa[i])
		nb, _ := strconv.Atoi(pb[i])
		if na != nb {
			return na < nb
		}
	}
	return len(pa) < len(pb)
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)

// majorVersion checks that dir holds the three server programs and returns their
// major version, as pg_ctl reports it.
func majorVersion(ctx context.Context, dir string) (string, error) {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("%s: no %s", dir, name)
		}
	}
	out, err := exec.CommandContext(ctx, filepath.Join(dir, "pg_ctl"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s/pg_ctl --version: %w", dir, err)
	}
	m := versionRE.FindStringSubmatch(string(out))
	if m == nil {
		return "", fmt.Errorf("%s/pg_ctl --version: unexpected output %q", dir, out)
	}
	if n, _ := strconv.Atoi(m[1]); n < 10 && m[2] != "" {
		return m[1] + "." + m[2], nil // before 10 the major version had two parts
	}
	return m[1], nil
}
