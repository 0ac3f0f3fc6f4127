package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/testdb"
)

func testEnv(t *testing.T, out io.Writer) *environment {
	return &environment{cfg: config{DatabaseURL: testdb.URL(t), Addr: "127.0.0.1:0"}, stdout: out, stderr: io.Discard,
		log: slog.New(slog.NewTextHandler(t.Output(), nil))}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, cmd := range []string{"serve", "migrate", "demo", "import", "bench", "kb"} {
		t.Run(cmd, func(t *testing.T) {
			var out bytes.Buffer
			env := &environment{stdout: &out, stderr: &out, log: slog.New(slog.DiscardHandler)}
			var err error
			for _, c := range []struct {
				name string
				run  func(context.Context, *environment, []string) error
			}{{"serve", runServe}, {"migrate", runMigrate}, {"demo", runDemo}, {"import", runImport}, {"bench", runBench}, {"kb", runKB}} {
				if c.name == cmd {
					err = c.run(t.Context(), env, []string{"-h"})
				}
			}
			require.ErrorIs(t, err, flag.ErrHelp)
			require.Contains(t, out.String(), "Usage: dialogo "+cmd)
		})
	}
}

func TestConfigIsCheckedAsAWhole(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cfg, err := configFromEnv(env("DIALOGO_DATA_DIR", "/srv/dialogo"))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8080", cfg.Addr)
	require.Equal(t, "/srv/dialogo", cfg.DataDir)
	require.Empty(t, cfg.DatabaseURL)
	require.Equal(t, "http://127.0.0.1:8080", cfg.PublicURL)
	require.Empty(t, cfg.OIDCIssuer, "the citizen login is off by default")

	cfg, err = configFromEnv(env("DIALOGO_OIDC_ISSUER", "https://id.example", "DIALOGO_OIDC_CLIENT_ID", "c",
		"DIALOGO_OIDC_CLIENT_SECRET", "s", "DIALOGO_SECRET_KEY", strings.Repeat("k", 32),
		"DIALOGO_OIDC_ACR_VALUES", "https://www.spid.gov.it/SpidL2 https://www.spid.gov.it/SpidL3"))
	require.NoError(t, err)
	require.Len(t, cfg.OIDCACRValues, 2)

	for _, bad := range [][]string{
		{"DIALOGO_ADDR", "8080"},
		{"DIALOGO_LOG_LEVEL", "chatty"},
		{"DIALOGO_LOG_FORMAT", "xml"},
		{"DIALOGO_SECURE_COOKIES", "maybe"},
		{"DIALOGO_PUBLIC_URL", "ftp://dialogo.example"},
		{"DIALOGO_SECRET_KEY", "too-short"},
		{"DIALOGO_OIDC_ISSUER", "https://id.example"},
		{"DIALOGO_OIDC_ISSUER", "https://id.example", "DIALOGO_OIDC_CLIENT_ID", "c", "DIALOGO_OIDC_CLIENT_SECRET", "s"},
		{"DIALOGO_LLM_PROVIDER", "chatgpt", "DIALOGO_LLM_MODEL", "m"},
		{"DIALOGO_LLM_PROVIDER", "openai", "DIALOGO_LLM_MODEL", "m"},
		{"DIALOGO_LLM_PROVIDER", "ollama", "DIALOGO_LLM_URL", "http://127.0.0.1:11434"},
		{"DIALOGO_LLM_URL", "ftp://llm.example", "DIALOGO_LLM_PROVIDER", "openai", "DIALOGO_LLM_MODEL", "m"},
		{"DIALOGO_LLM_PROVIDER", "", "DIALOGO_LLM_MODEL", "m"},
	} {
		_, err := configFromEnv(env(bad...))
		require.ErrorContains(t, err, bad[0])
	}

	// The language model: none by default; a key is never repeated in errors.
	require.Empty(t, cfg.LLMProvider)
	cfg, err = configFromEnv(env("DIALOGO_LLM_PROVIDER", "ollama", "DIALOGO_LLM_MODEL", "llama3.1"))
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:11434", cfg.LLMURL, "Ollama's default address")
	model, name, err := newLanguageModel(cfg)
	require.NoError(t, err)
	require.NotNil(t, model)
	require.Equal(t, "ollama:llama3.1", name)
	_, err = configFromEnv(env("DIALOGO_LLM_PROVIDER", "openai", "DIALOGO_LLM_MODEL", "m",
		"DIALOGO_LLM_URL", "not a url", "DIALOGO_LLM_KEY", "sk-secret-key"))
	require.Error(t, err)
	require.NotContains(t, err.Error(), "sk-secret-key")
}

func TestMigrateIsSafeToRunTwice(t *testing.T) {
	var out bytes.Buffer
	env := testEnv(t, &out)
	require.NoError(t, runMigrate(t.Context(), env, nil))
	require.NoError(t, runMigrate(t.Context(), env, nil))
	require.NoError(t, runMigrate(t.Context(), env, []string{"-status"}))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3)
	for _, l := range lines {
		require.Regexp(t, `^schema version (\d+) \(this binary: \d+\)$`, l)
	}
}

func TestServeAnswersHealthzAndStopsWhenItsContextEnds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	env := testEnv(t, io.Discard)
	env.cfg.Addr = addr
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, env, nil) }()

	var resp *http.Response
	require.Eventually(t, func() bool {
		resp, err = http.Get("http://" + addr + "/healthz")
		return err == nil
	}, 20*time.Second, 50*time.Millisecond)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestImportReadsAFileForOneEnte(t *testing.T) {
	var out bytes.Buffer
	env := testEnv(t, &out)
	store := crm.NewStore(testdb.New(t))
	slug := fmt.Sprintf("import-%d", time.Now().UnixNano())
	_, err := store.EnsureTenant(t.Context(), slug, "Comune di Prova", "01199250158")
	require.NoError(t, err)

	file := filepath.Join(t.TempDir(), "fascicolo.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"records":[{"codice_fiscale":"RSSMRA80A01H501U","given_name":"Mario","family_name":"Rossi",
		"avvisi":[{"notice_number":"301011100007347557","creditor_fiscal_code":"01199250158","description":"TARI 2026",
		"amount_cents":12345,"due_date":"2026-12-31"}]}]}`), 0o600))
	require.NoError(t, runImport(t.Context(), env, []string{"-tenant", slug, file}))
	require.Contains(t, out.String(), "1 contacts (1 new)")
	require.Contains(t, out.String(), "1 avvisi")

	// A file with a bad record imports nothing and says which field is wrong.
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"records":[{"codice_fiscale":"RSSMRA80A01H501X"}]}`), 0o600))
	err = runImport(t.Context(), env, []string{"-tenant", slug, bad})
	require.ErrorIs(t, err, crm.ErrInvalid)
	require.ErrorContains(t, err, "records[0].codice_fiscale")

	err = runImport(t.Context(), env, []string{"-tenant", "no-such-ente", file})
	require.True(t, errors.Is(err, crm.ErrNotFound), err)
}
