package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/internal/testdb"
)

func TestBenchIngestMeasuresBothPhasesChecksTheRowsAndDropsItsDatabase(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	env := &environment{cfg: config{DatabaseURL: testdb.URL(t)}, stdout: &out, stderr: io.Discard,
		log: slog.New(slog.NewTextHandler(t.Output(), nil))}

	err := runBench(t.Context(), env, []string{"ingest", "-n", "300", "-senders", "40", "-workers", "4", "-warmup", "50", "-json"})
	require.NoError(t, err)

	var r ingestReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &r))
	require.Len(t, r.Runs, 4, "two rounds of two phases")
	require.Equal(t, []string{"baseline", "ingest", "ingest", "baseline"},
		[]string{r.Runs[0].Phase, r.Runs[1].Phase, r.Runs[2].Phase, r.Runs[3].Phase}, "the order alternates")
	for _, f := range r.Runs {
		require.Equal(t, 300, f.Messages)
		require.Positive(t, f.PerSecond)
		require.LessOrEqual(t, f.P50ms, f.P99ms)
	}
	require.InDelta(t, r.Ingest.PerSecond/r.Baseline.PerSecond, r.Ratio, 1e-9)
	require.True(t, strings.HasPrefix(r.Check, "ok: "), r.Check)

	var left int
	require.NoError(t, testdb.New(t).QueryRow(t.Context(),
		`SELECT count(*) FROM pg_database WHERE datname = $1`, r.Database).Scan(&left))
	require.Zero(t, left, "the throwaway database %s is dropped", r.Database)
}

func TestBenchIngestDropsItsDatabaseWhenInterrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	var logs bytes.Buffer
	env := &environment{cfg: config{DatabaseURL: testdb.URL(t)}, stdout: io.Discard, stderr: io.Discard,
		log: slog.New(slog.NewTextHandler(&logs, nil))}
	time.AfterFunc(2*time.Second, cancel)

	err := runBench(ctx, env, []string{"ingest", "-n", "1000000", "-workers", "2", "-warmup", "0"})
	require.ErrorContains(t, err, "interrupted")
	require.Contains(t, logs.String(), "throwaway database dropped")
}

func TestBenchHelpListsTheBenchmarks(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	env := &environment{stdout: io.Discard, stderr: &stderr, log: slog.New(slog.DiscardHandler)}

	require.ErrorIs(t, runBench(t.Context(), env, []string{"-h"}), flag.ErrHelp)
	require.Contains(t, stderr.String(), "ingest")

	stderr.Reset()
	require.ErrorIs(t, runBench(t.Context(), env, []string{"ingest", "-h"}), flag.ErrHelp)
	require.Contains(t, stderr.String(), "-workers")

	require.ErrorContains(t, runBench(t.Context(), env, []string{"nonesuch"}), `unknown benchmark "nonesuch"`)
	require.ErrorContains(t, runBench(t.Context(), env, []string{"ingest", "-n", "0"}), "-n must be at least 1")
}

func TestWithDatabaseNameReplacesOnlyTheDatabase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:p%40ss@127.0.0.1:5432/dialogo?sslmode=disable", "postgres://u:p%40ss@127.0.0.1:5432/bench?sslmode=disable"},
		{"postgresql://u@db/", "postgresql://u@db/bench"},
		{"postgres://u@db?dbname=dialogo&sslmode=require", "postgres://u@db/bench?sslmode=require"},
	} {
		got, err := withDatabaseName(tc.in, "bench")
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
	_, err := withDatabaseName("host=db user=u password=secret dbname=dialogo", "bench")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret")
}

func TestPercentileIsTheNearestRank(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	require.Equal(t, 50*time.Millisecond, percentile(ds, 0.50))
	require.Equal(t, 99*time.Millisecond, percentile(ds, 0.99))
	require.Equal(t, time.Duration(0), percentile(nil, 0.5))
}
