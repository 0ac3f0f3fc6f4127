package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/testdb"
	"github.com/dialogo-pa/dialogo/knowledge"
)

func TestConfigChecksTheEmbeddingsSettings(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cfg, err := configFromEnv(env())
	require.NoError(t, err)
	require.Equal(t, knowledge.LocalName, cfg.Embeddings.Name(), "the local embedder by default")

	cfg, err = configFromEnv(env("DIALOGO_EMBEDDINGS_PROVIDER", "openai", "DIALOGO_EMBEDDINGS_URL", "https://api.example.org/v1/",
		"DIALOGO_EMBEDDINGS_MODEL", "text-embedding-3-small", "DIALOGO_EMBEDDINGS_KEY", "sk-secret-42"))
	require.NoError(t, err)
	require.Equal(t, "openai:text-embedding-3-small", cfg.Embeddings.Name())
	require.Equal(t, "https://api.example.org/v1", cfg.Embeddings.URL)
	require.Equal(t, "sk-secret-42", cfg.Embeddings.Key)
	require.NotContains(t, fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), "sk-secret-42", "the key is never printed")
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "embeddings", cfg.Embeddings)
	require.NotContains(t, logged.String(), "sk-secret-42")

	cfg, err = configFromEnv(env("DIALOGO_EMBEDDINGS_PROVIDER", "ollama", "DIALOGO_EMBEDDINGS_MODEL", "nomic-embed-text"))
	require.NoError(t, err)
	require.Equal(t, "ollama:nomic-embed-text", cfg.Embeddings.Name())

	for _, bad := range [][]string{
		{"DIALOGO_EMBEDDINGS_PROVIDER", "cohere"},
		{"DIALOGO_EMBEDDINGS_PROVIDER", "openai", "DIALOGO_EMBEDDINGS_MODEL", "m"},
		{"DIALOGO_EMBEDDINGS_PROVIDER", "openai", "DIALOGO_EMBEDDINGS_URL", "https://api.example.org/v1"},
		{"DIALOGO_EMBEDDINGS_PROVIDER", "ollama"},
		{"DIALOGO_EMBEDDINGS_PROVIDER", "ollama", "DIALOGO_EMBEDDINGS_MODEL", "m", "DIALOGO_EMBEDDINGS_KEY", "sk-secret-42"},
		{"DIALOGO_EMBEDDINGS_PROVIDER", "openai", "DIALOGO_EMBEDDINGS_URL", "ftp://example.org", "DIALOGO_EMBEDDINGS_MODEL", "m"},
		{"DIALOGO_EMBEDDINGS_PROVIDER", "ollama", "DIALOGO_EMBEDDINGS_MODEL", "a model"},
		{"DIALOGO_EMBEDDINGS_MODEL", "text-embedding-3-small"},
		{"DIALOGO_EMBEDDINGS_KEY", "sk-secret-42"},
	} {
		_, err := configFromEnv(env(bad...))
		require.Error(t, err, "%v", bad)
		require.Contains(t, err.Error(), "DIALOGO_EMBEDDINGS_", "%v", bad)
		require.NotContains(t, err.Error(), "sk-secret-42")
	}
}

// fakeEmbeddingsServer speaks the OpenAI embeddings API and answers with the
// local embedder's vectors padded to 400 numbers: a model of another name and
// dimension, whose vectors still find the right passages.
func fakeEmbeddingsServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if r.URL.Path != "/v1/embeddings" || r.Header.Get("Authorization") != "Bearer sk-test" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		type item struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var data []item
		for i, in := range req.Input {
			v, _ := knowledge.LocalEmbedder{}.EmbedQuery(r.Context(), in)
			data = append(data, item{Index: i, Embedding: append(v, make([]float32, 400-len(v))...)})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "model": req.Model, "data": data})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestKBReembedSwitchesTheEmbedderAndBack(t *testing.T) {
	pool := testdb.New(t)
	store := crm.NewStore(pool)
	slug := fmt.Sprintf("kb-reembed-%d", time.Now().UnixNano())
	_, err := store.EnsureTenant(t.Context(), slug, "Comune di Prova", "01199250158")
	require.NoError(t, err)
	var out bytes.Buffer
	env := testEnv(t, &out)
	require.NoError(t, runKB(t.Context(), env, []string{"ingest", "-tenant", slug, "../../knowledge/demo"}))

	count := func(embedder string) (n int) {
		require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*) FROM knowledge_chunks WHERE embedder = $1`, embedder).Scan(&n))
		return n
	}
	search := func() string {
		out.Reset()
		require.NoError(t, runKB(t.Context(), env, []string{"search", "-tenant", slug, "-k", "1", "quanto costa la carta d'identità elettronica"}))
		return out.String()
	}
	chunks := count(knowledge.LocalName)
	require.Positive(t, chunks)

	srv := fakeEmbeddingsServer(t)
	env.cfg.Embeddings = knowledge.EmbedderConfig{Provider: "openai", URL: srv.URL + "/v1", Model: "fake-model", Key: "sk-test"}
	out.Reset()
	require.NoError(t, runKB(t.Context(), env, []string{"reembed", "-batch", "10"}))
	require.Contains(t, out.String(), "chunks re-embedded with openai:fake-model (400 dimensions)")
	require.Zero(t, count(knowledge.LocalName))
	require.GreaterOrEqual(t, count("openai:fake-model"), chunks)
	require.Contains(t, search(), "cie.md")

	// Back to the local embedder, as the other tests of the package expect.
	env.cfg.Embeddings = knowledge.EmbedderConfig{}
	out.Reset()
	require.NoError(t, runKB(t.Context(), env, []string{"reembed"}))
	require.Zero(t, count("openai:fake-model"))
	require.Contains(t, search(), "cie.md")

	var help bytes.Buffer
	env.stderr = &help
	require.ErrorIs(t, runKB(t.Context(), env, []string{"reembed", "-h"}), flag.ErrHelp)
	require.True(t, strings.HasPrefix(help.String(), "Usage: dialogo kb reembed"))
}
