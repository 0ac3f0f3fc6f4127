package knowledge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeOpenAI speaks the OpenAI embeddings API (POST {base}/embeddings), as
// langchaingo's client calls it, and answers each input with a vector of dims
// numbers derived from the input's length and position.
type fakeOpenAI struct {
	dims int

	mu       sync.Mutex
	models   []string
	auth     []string
	inputs   [][]string
	requests int
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	var req struct {
		Model string   `json:"model"`
		Input []string `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests++
	f.models = append(f.models, req.Model)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.inputs = append(f.inputs, req.Input)
	f.mu.Unlock()

	type item struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	}
	resp := struct {
		Object string `json:"object"`
		Data   []item `json:"data"`
		Model  string `json:"model"`
	}{Object: "list", Model: req.Model}
	for i, in := range req.Input {
		resp.Data = append(resp.Data, item{Object: "embedding", Index: i, Embedding: fakeVector(in, f.dims)})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func fakeVector(text string, dims int) []float32 {
	v := make([]float32, dims)
	v[len(text)%dims] = 1
	return v
}

func TestOpenAIProviderSendsTheModelAndKeyAndReturnsVectors(t *testing.T) {
	t.Parallel()
	fake := &fakeOpenAI{dims: 12}
	srv := httptest.NewServer(fake)
	defer srv.Close()

	emb, err := NewEmbedder(t.Context(), EmbedderConfig{
		Provider: ProviderOpenAI, URL: srv.URL + "/v1", Model: "text-embedding-3-small", Key: "sk-test-123",
	})
	require.NoError(t, err)
	name, dims := emb.Describe()
	require.Equal(t, "openai:text-embedding-3-small", name)
	require.Equal(t, 12, dims, "the dimension is learned from the probe")

	vecs, err := emb.EmbedDocuments(t.Context(), []string{"TARI", "carta d'identità"})
	require.NoError(t, err)
	require.Equal(t, [][]float32{fakeVector("TARI", 12), fakeVector("carta d'identità", 12)}, vecs)
	q, err := emb.EmbedQuery(t.Context(), "mensa")
	require.NoError(t, err)
	require.Equal(t, fakeVector("mensa", 12), q)

	fake.mu.Lock()
	defer fake.mu.Unlock()
	require.Equal(t, 3, fake.requests, "the probe, the documents in one request, the query")
	for i := range fake.requests {
		require.Equal(t, "text-embedding-3-small", fake.models[i])
		require.Equal(t, "Bearer sk-test-123", fake.auth[i])
	}
	require.Equal(t, []string{"TARI", "carta d'identità"}, fake.inputs[1])
}

func TestOpenAIProviderFailsAtStartWhenTheServerFails(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"message":"invalid api key"}}`))
	}))
	defer srv.Close()
	_, err := NewEmbedder(t.Context(), EmbedderConfig{Provider: ProviderOpenAI, URL: srv.URL + "/v1", Model: "m", Key: "sk-wrong"})
	require.ErrorContains(t, err, "invalid api key")
	require.NotContains(t, err.Error(), "sk-wrong")
}

func TestOllamaProviderSendsTheModel(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var models []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model string `json:"model"`
			Input string `json:"input"`
		}
		if r.URL.Path != "/api/embed" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		models = append(models, req.Model)
		mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"embeddings": [][]float32{fakeVector(req.Input, 7)}})
	}))
	defer srv.Close()

	emb, err := NewEmbedder(t.Context(), EmbedderConfig{Provider: ProviderOllama, URL: srv.URL, Model: "nomic-embed-text"})
	require.NoError(t, err)
	require.Equal(t, "ollama:nomic-embed-text", emb.Name)
	require.Equal(t, 7, emb.Dimensions)
	vecs, err := emb.EmbedDocuments(t.Context(), []string{"a", "bb"})
	require.NoError(t, err)
	require.Equal(t, [][]float32{fakeVector("a", 7), fakeVector("bb", 7)}, vecs)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"nomic-embed-text", "nomic-embed-text", "nomic-embed-text"}, models)
}

func TestTheLocalEmbedderIsTheDefault(t *testing.T) {
	t.Parallel()
	for _, provider := range []string{"", ProviderLocal} {
		emb, err := NewEmbedder(t.Context(), EmbedderConfig{Provider: provider})
		require.NoError(t, err)
		require.Equal(t, LocalName, emb.Name)
		require.Equal(t, LocalDimensions, emb.Dimensions)
		require.IsType(t, LocalEmbedder{}, emb.Embedder)
	}
}

func TestNewEmbedderRefusesABadConfiguration(t *testing.T) {
	t.Parallel()
	for _, cfg := range []EmbedderConfig{
		{Provider: "cohere", Model: "m", URL: "http://127.0.0.1:1"},
		{Provider: ProviderOpenAI, URL: "http://127.0.0.1:1"},
		{Provider: ProviderOpenAI, Model: "m"},
		{Provider: ProviderOpenAI, Model: "m", URL: "ftp://example.org"},
		{Provider: ProviderOllama, Model: "a model with spaces"},
		{Provider: ProviderOllama, Model: "x'; DROP TABLE tenants; --"},
	} {
		_, err := NewEmbedder(t.Context(), cfg)
		require.Error(t, err, "%v", cfg)
	}
}

func TestEmbedderConfigNeverShowsTheKey(t *testing.T) {
	t.Parallel()
	cfg := EmbedderConfig{Provider: ProviderOpenAI, URL: "https://api.example.org/v1", Model: "m", Key: "sk-very-secret"}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "embeddings", cfg)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "embeddings", cfg)
	type wrapper struct{ Embeddings EmbedderConfig }
	for _, s := range []string{
		fmt.Sprint(cfg), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg),
		fmt.Sprintf("%v %+v", wrapper{cfg}, wrapper{cfg}), buf.String(),
	} {
		require.NotContains(t, s, "sk-very-secret")
		require.Contains(t, s, "openai:m")
	}
}

func TestIndexNamesAreSafeAndDistinct(t *testing.T) {
	t.Parallel()
	require.Equal(t, "knowledge_chunks_embedding_local_ngram_v1_04f26602", indexName(LocalName), "the name the migration gave")
	long := indexName("openai:" + strings.Repeat("x", 93))
	require.LessOrEqual(t, len(long), 63, "PostgreSQL's limit")
	require.NotEqual(t, indexName("ollama:bge-m3"), indexName("ollama:bge_m3"))
	require.NotEqual(t, indexName("A"), indexName("a"))
}
