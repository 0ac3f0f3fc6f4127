#!/usr/bin/env bash
# Installs what Dialogo needs to build, run and test on Debian/Ubuntu: make, the
# PostgreSQL server and the pgvector extension, Node.js with npm (for the
# front-end packages) and Chromium (for the browser tests), and checks that Go
# is there.
# Safe to run many times: it does nothing when everything is already there.
# Run it as root or as a user who may use sudo.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'install-deps: %s\n' "$*" >&2; exit 1; }

need_sudo() {
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null; then
    die "installing packages needs root: run this script as root, or install sudo"
  fi
}

apt_updated=""
apt_update() {
  if [ -z "$apt_updated" ]; then
    need_sudo
    log "apt-get update"
    # Third-party lists that cannot be reached must not stop the install.
    $SUDO apt-get update -qq || log "apt-get update reported errors; continuing with the lists it got"
    apt_updated=1
  fi
}

apt_install() {
  apt_update
  # On a fresh cloud machine unattended-upgrades may hold the dpkg lock for a while.
  $SUDO apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "$@"
}

# pg_bindir prints the folder of the PostgreSQL server programs that Dialogo will
# use, chosen as internal/pgcluster chooses: initdb on PATH, else the newest
# installed under Debian's layout.
pg_bindir() {
  local initdb
  if initdb=$(command -v initdb); then
    dirname "$(readlink -f "$initdb")"
    return
  fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# 0. make, which runs everything else.
if ! command -v make >/dev/null; then
  log "installing make"
  apt_install make
fi

# 1. The PostgreSQL server.
bindir=$(pg_bindir)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
  log "installing the PostgreSQL server"
  apt_install postgresql postgresql-contrib
  bindir=$(pg_bindir)
  if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then die "PostgreSQL did not install: no initdb found"; fi
fi
pgver=$("$bindir/pg_ctl" --version | sed -nE 's/.*\(PostgreSQL\) ([0-9]+).*/\1/p')
[ -n "$pgver" ] || die "cannot tell the version of $bindir/pg_ctl"
if [ -z "$SUDO" ] && ! id postgres >/dev/null 2>&1; then
  # As root, the private cluster runs as this user; Debian's packages create it.
  log "creating the postgres system user"
  $SUDO useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi

pg_config_bin() {
  if [ -x "$bindir/pg_config" ]; then echo "$bindir/pg_config"; else command -v pg_config || true; fi
}
sharedir() {
  local pgc
  pgc=$(pg_config_bin)
  if [ -n "$pgc" ] && "$pgc" --version 2>/dev/null | grep -q "PostgreSQL $pgver"; then
    "$pgc" --sharedir
  else
    echo "/usr/share/postgresql/$pgver"
  fi
}

# 2. pgvector.
if [ -f "$(sharedir)/extension/vector.control" ]; then
  log "pgvector is installed for PostgreSQL $pgver"
else
  apt_update
  if apt-cache show "postgresql-$pgver-pgvector" >/dev/null 2>&1; then
    log "installing postgresql-$pgver-pgvector"
    apt_install "postgresql-$pgver-pgvector"
  else
    # Debian 12 has no pgvector package; Debian 13 ("trixie") has its source, which
    # builds against Debian 12's server headers in seconds.
    log "building pgvector from Debian's source package"
    apt_install "postgresql-server-dev-$pgver" build-essential dpkg-dev ca-certificates
    list=/etc/apt/sources.list.d/dialogo-pgvector-src.sources
    work=$(mktemp -d)
    trap '$SUDO rm -f "$list"; rm -rf "$work"' EXIT
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' | $SUDO tee "$list" >/dev/null
    $SUDO apt-get update -qq -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 || true
    (cd "$work" && apt-get source --download-only -qq pgvector && dpkg-source -x --no-check ./*.dsc src >/dev/null)
    $SUDO rm -f "$list"
    PG_CONFIG=$(pg_config_bin)
    [ -n "$PG_CONFIG" ] || die "pg_config not found; install postgresql-server-dev-$pgver"
    make -s -C "$work/src" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >/dev/null
    $SUDO make -s -C "$work/src" PG_CONFIG="$PG_CONFIG" install >/dev/null
  fi
  [ -f "$(sharedir)/extension/vector.control" ] || die "pgvector did not install for PostgreSQL $pgver"
  log "pgvector installed for PostgreSQL $pgver"
fi

# 3. Go is not installed here: Debian's is too old. The Makefile also looks in
# /usr/local/go/bin; a newer go.mod version is fetched by Go itself.
if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then
  die "Go not found on PATH nor in /usr/local/go: install Go 1.26 or newer from https://go.dev/dl/"
fi

# 4. npm installs the front-end packages (Bootstrap Italia, axe-core); see
# scripts/build-assets.sh. Any Node.js that brings npm will do.
if ! command -v npm >/dev/null; then
  log "installing Node.js and npm"
  apt_install nodejs npm
fi

# 5. The browser tests drive Debian's Chromium (never a browser a test tool
# downloads itself). fonts-liberation gives its pages metric-compatible fonts.
if [ ! -x /usr/bin/chromium ]; then
  log "installing Chromium"
  apt_install chromium fonts-liberation
fi
