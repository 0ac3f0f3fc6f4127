package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/channels/webchat"
	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/testdb"
	"github.com/dialogo-pa/dialogo/web"
)

// TestMain lets this test binary stand in for dialogo: "bench chat" starts its
// echo server by running its own program again ("bench chat -serve-echo"), and
// under go test that program is the test binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "bench" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestBenchChatBaselineDeliversEveryMessageToTheOperator(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	env := &environment{stdout: &out, stderr: io.Discard, log: slog.New(slog.NewTextHandler(t.Output(), nil))}

	err := runBench(t.Context(), env, []string{"chat", "-url", "", "-sessions", "50", "-rate", "200",
		"-ramp", "200ms", "-duration", "1s", "-json"})
	require.NoError(t, err)

	var r chatReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &r))
	require.Len(t, r.Targets, 1)
	f := r.Targets[0]
	require.Equal(t, "echo", f.Target)
	require.Equal(t, 50, f.SessionsOpened)
	require.Equal(t, 50, f.SessionsHeld)
	require.Positive(t, f.Sent)
	require.LessOrEqual(t, f.Sent, 200, "at most rate × duration")
	require.Equal(t, f.Sent, f.Acked, "every message acknowledged")
	require.Equal(t, f.Sent, f.Delivered, "and forwarded to the operator")
	require.Equal(t, &chatOpening{Sent: 50, Acked: 50, Delivered: 50}, zeroLatencies(f.Opening), "one opening message per session")
	require.Zero(t, f.Errors, "errors: %v", f.ErrorKinds)
	require.Positive(t, f.P50ms)
	require.LessOrEqual(t, f.P50ms, f.P99ms)
	require.LessOrEqual(t, f.P99ms, f.MaxMs)
	require.Positive(t, f.AckP50ms)
	require.NotNil(t, f.RSSPerSessionKiB, "the echo server's memory is read from its process")
	require.NotZero(t, f.ServerPID)
	require.NotEqual(t, os.Getpid(), f.ServerPID, "the echo server runs in a process of its own")
}

func TestBenchChatMeasuresTheWebChatFromSendToCommittedEvent(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	store := crm.NewStore(pool)
	suffix := make([]byte, 4)
	rand.Read(suffix) //nolint:errcheck // crypto/rand does not fail
	tenant, err := store.EnsureTenant(t.Context(), "bench-chat-"+hex.EncodeToString(suffix), "Comune di Prova", "01199250158")
	require.NoError(t, err)
	_, err = store.EnsureTeam(t.Context(), tenant.ID, "urp", "Ufficio Relazioni con il Pubblico")
	require.NoError(t, err)

	// The web chat as dialogo serve runs it, on the test database.
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	hubCtx, stopHub := context.WithCancel(context.Background())
	hub := crm.NewHub(pool, log)
	hubDone := make(chan struct{})
	go func() { _ = hub.Run(hubCtx); close(hubDone) }()
	<-hub.Ready()
	ts := httptest.NewUnstartedServer(nil)
	chat := webchat.New(webchat.Config{Store: store, Hub: hub, Logger: log, PublicURL: "http://" + ts.Listener.Addr().String()})
	ts.Config.Handler = web.New(web.Config{Store: store, Pool: pool, Logger: log, Areas: []web.Area{chat}}).Handler()
	ts.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, chat.Shutdown(ctx))
		ts.Close()
		stopHub()
		<-hubDone
	})

	var out bytes.Buffer
	env := &environment{cfg: config{DatabaseURL: testdb.URL(t)}, stdout: &out, stderr: io.Discard, log: log}
	err = runBench(t.Context(), env, []string{"chat", "-url", ts.URL, "-ente", tenant.Slug, "-baseline=false",
		"-sessions", "20", "-rate", "40", "-ramp", "200ms", "-duration", "1s", "-drain", "10s", "-json"})
	require.NoError(t, err)

	var r chatReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &r))
	require.Len(t, r.Targets, 1)
	f := r.Targets[0]
	require.Equal(t, "dialogo", f.Target)
	require.Equal(t, 20, f.SessionsHeld)
	require.Positive(t, f.Sent)
	require.Equal(t, f.Sent, f.Acked, "every message stored and acknowledged")
	require.Equal(t, f.Sent, f.Delivered, "and its committed event received")
	require.Equal(t, &chatOpening{Sent: 20, Acked: 20, Delivered: 20}, zeroLatencies(f.Opening), "one opening message per session")
	require.Zero(t, f.Errors, "errors: %v", f.ErrorKinds)
	require.Positive(t, f.P50ms)
	require.LessOrEqual(t, f.P50ms, f.P99ms)

	var stored int
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*) FROM messages WHERE tenant_id = $1`, tenant.ID).Scan(&stored))
	require.Equal(t, f.Sent+f.Opening.Sent, stored, "each message stored once")
	var conversations int
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*) FROM conversations WHERE tenant_id = $1`, tenant.ID).Scan(&conversations))
	require.Equal(t, 20, conversations, "one per session, opened by its first message")
}

// zeroLatencies returns the counts of o alone, to compare them.
func zeroLatencies(o *chatOpening) *chatOpening {
	if o == nil {
		return nil
	}
	return &chatOpening{Sent: o.Sent, Acked: o.Acked, Delivered: o.Delivered}
}

func TestBenchChatTalksOnlyToLoopback(t *testing.T) {
	t.Parallel()
	env := &environment{stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.DiscardHandler)}
	for _, u := range []string{"http://example.org:8080", "http://10.1.2.3:8080", "http://[2001:db8::1]:8080", "http://0.0.0.0:8080"} {
		require.ErrorContains(t, runBench(t.Context(), env, []string{"chat", "-url", u}), "only talks to loopback", u)
	}
	require.ErrorContains(t, runBench(t.Context(), env, []string{"chat", "-url", "https://127.0.0.1:8443"}), "use http://")

	env.cfg.DatabaseURL = "postgres://dialogo:secret@db.example.org:5432/dialogo"
	err := runBench(t.Context(), env, []string{"chat", "-url", "http://127.0.0.1:8080"})
	require.ErrorContains(t, err, `"db.example.org"`)
	require.NotContains(t, err.Error(), "secret")

	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:8080/", "http://127.0.0.2:9000", "http://[::1]:8080"} {
		_, err := chatEndpointOf(u, "milano")
		require.NoError(t, err, u)
	}
}

func TestBenchChatMatchesAcksAndOperatorNoticesInEitherOrder(t *testing.T) {
	t.Parallel()
	tr := newChatTracker(slog.New(slog.DiscardHandler))
	t0 := time.Now()
	tr.send("bench-1-1", phaseOpening, t0)
	tr.send("bench-2-1", phaseMeasured, t0)
	tr.send("bench-3-1", phaseMeasured, t0)

	tr.ack("bench-1-1", msgKey{10, 1}, t0.Add(2*time.Millisecond))
	tr.operatorTold(msgKey{10, 1}, t0.Add(5*time.Millisecond))
	tr.operatorTold(msgKey{20, 1}, t0.Add(3*time.Millisecond)) // before its ack
	tr.ack("bench-2-1", msgKey{20, 1}, t0.Add(4*time.Millisecond))
	tr.ack("bench-2-1", msgKey{20, 1}, t0.Add(9*time.Millisecond)) // acknowledged again: counted once
	tr.operatorTold(msgKey{99, 7}, t0)                             // someone else's message
	tr.refused("bench-3-1", "rate_limited", "troppi messaggi")

	s := tr.snapshot()
	opening, measured := s.phases[phaseOpening], s.phases[phaseMeasured]
	require.Equal(t, 1, opening.sent)
	require.Equal(t, 2, measured.sent)
	require.Equal(t, []time.Duration{2 * time.Millisecond}, opening.ackLat)
	require.Equal(t, []time.Duration{5 * time.Millisecond}, opening.opLat)
	require.Equal(t, []time.Duration{4 * time.Millisecond}, measured.ackLat)
	require.Equal(t, []time.Duration{3 * time.Millisecond}, measured.opLat)
	require.Zero(t, tr.outstanding())
	require.Equal(t, map[string]int{"server error rate_limited": 1}, s.errors)
}
