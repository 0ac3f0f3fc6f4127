#!/usr/bin/env bash
# Usage: scripts/with-testpg.sh COMMAND [ARG...]
#
# Runs COMMAND with DIALOGO_TEST_DATABASE_URL set to the admin URL of a private
# PostgreSQL cluster started for it (in $TESTPG_DIR, by default .tmp/testpg in the
# checkout), and stops that cluster afterwards, whether COMMAND succeeds, fails or
# is interrupted. The cluster's data is kept between runs, so the migrated template
# databases are reused. If DIALOGO_TEST_DATABASE_URL is already set, COMMAND simply
# runs against that server.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ -n "${DIALOGO_TEST_DATABASE_URL:-}" ]; then
  exec "$@"
fi
command -v "${GO:-go}" >/dev/null || PATH=/usr/local/go/bin:$PATH
dir=${TESTPG_DIR:-$PWD/.tmp/testpg}
testpg=$PWD/.tmp/bin/testpg

"${GO:-go}" build -o "$testpg" ./internal/pgcluster/cmd/testpg
url=$("$testpg" start "$dir")
stop() { "$testpg" stop "$dir" || echo "with-testpg: could not stop the cluster in $dir" >&2; }
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export DIALOGO_TEST_DATABASE_URL=$url
"$@"
