package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dialogo-pa/dialogo/internal/pgcluster"
	"github.com/dialogo-pa/dialogo/knowledge"
)

// config is Dialogo's configuration, read from the environment and checked as a
// whole at start-up.
type config struct {
	DatabaseURL   string // empty: the private cluster
	DataDir       string
	Addr          string
	LogLevel      slog.Level
	LogJSON       bool
	SecureCookies bool

	// PublicURL is where citizens and staff reach Dialogo (scheme and host); the
	// OIDC redirect URL is built from it.
	PublicURL string
	// SecretKey signs short-lived browser state (the OIDC login cookie); every
	// instance behind one load balancer needs the same one.
	SecretKey []byte
	// The citizen login through the city's SPID/CIE OpenID Connect provider; off
	// when OIDCIssuer is empty.
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	OIDCACRValues    []string

	// Embeddings chooses the knowledge base's embedder: the local one (no model,
	// no network) unless DIALOGO_EMBEDDINGS_PROVIDER names openai or ollama.
	// Its Key is a secret, which its String and LogValue leave out.
	Embeddings knowledge.EmbedderConfig

	// The language model the assistant writes its answers with: none (it
	// quotes the best passage), or DIALOGO_LLM_PROVIDER openai (any
	// OpenAI-compatible server) or ollama. LLMKey is a secret.
	LLMProvider, LLMURL, LLMModel, LLMKey string
}

func configFromEnv(lookup func(string) (string, bool)) (config, error) {
	get := func(k, def string) string {
		if v, ok := lookup(k); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	cfg := config{
		DatabaseURL: get("DATABASE_URL", ""),
		DataDir:     get("DIALOGO_DATA_DIR", pgcluster.DefaultDataDir()),
		Addr:        get("DIALOGO_ADDR", "127.0.0.1:8080"),
	}
	if !filepath.IsAbs(cfg.DataDir) {
		abs, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return config{}, fmt.Errorf("DIALOGO_DATA_DIR: %w", err)
		}
		cfg.DataDir = abs
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return config{}, fmt.Errorf("DIALOGO_ADDR %q: use host:port, e.g. 127.0.0.1:8080", cfg.Addr)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(get("DIALOGO_LOG_LEVEL", "info"))); err != nil {
		return config{}, fmt.Errorf("DIALOGO_LOG_LEVEL: use debug, info, warn or error")
	}
	switch f := get("DIALOGO_LOG_FORMAT", "text"); f {
	case "text":
	case "json":
		cfg.LogJSON = true
	default:
		return config{}, fmt.Errorf("DIALOGO_LOG_FORMAT %q: use text or json", f)
	}
	secure, err := strconv.ParseBool(get("DIALOGO_SECURE_COOKIES", "false"))
	if err != nil {
		return config{}, fmt.Errorf("DIALOGO_SECURE_COOKIES: use true or false")
	}
	cfg.SecureCookies = secure

	cfg.PublicURL = strings.TrimRight(get("DIALOGO_PUBLIC_URL", "http://"+cfg.Addr), "/")
	if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return config{}, fmt.Errorf("DIALOGO_PUBLIC_URL %q: use the scheme and host citizens reach, e.g. https://dialogo.comune.milano.it", cfg.PublicURL)
	}
	if k := get("DIALOGO_SECRET_KEY", ""); k != "" {
		if len(k) < 32 {
			return config{}, fmt.Errorf("DIALOGO_SECRET_KEY: use at least 32 random characters")
		}
		cfg.SecretKey = []byte(k)
	}
	cfg.OIDCIssuer = get("DIALOGO_OIDC_ISSUER", "")
	cfg.OIDCClientID = get("DIALOGO_OIDC_CLIENT_ID", "")
	cfg.OIDCClientSecret = get("DIALOGO_OIDC_CLIENT_SECRET", "")
	if acr := get("DIALOGO_OIDC_ACR_VALUES", ""); acr != "" {
		cfg.OIDCACRValues = strings.Fields(acr)
	}
	if cfg.OIDCIssuer != "" {
		if cfg.OIDCClientID == "" || cfg.OIDCClientSecret == "" {
			return config{}, fmt.Errorf("DIALOGO_OIDC_ISSUER is set: DIALOGO_OIDC_CLIENT_ID and DIALOGO_OIDC_CLIENT_SECRET are needed too")
		}
		if cfg.SecretKey == nil {
			return config{}, fmt.Errorf("DIALOGO_OIDC_ISSUER is set: DIALOGO_SECRET_KEY (32+ random characters, the same on every instance) is needed to sign the login state")
		}
	}

	// The embedder of the knowledge base. Errors never repeat the key.
	cfg.Embeddings = knowledge.EmbedderConfig{
		Provider: get("DIALOGO_EMBEDDINGS_PROVIDER", ""),
		URL:      strings.TrimRight(get("DIALOGO_EMBEDDINGS_URL", ""), "/"),
		Model:    get("DIALOGO_EMBEDDINGS_MODEL", ""),
		Key:      get("DIALOGO_EMBEDDINGS_KEY", ""),
	}
	switch emb := cfg.Embeddings; emb.Provider {
	case "", knowledge.ProviderLocal:
		if emb.URL != "" || emb.Model != "" || emb.Key != "" {
			return config{}, fmt.Errorf("DIALOGO_EMBEDDINGS_URL, _MODEL or _KEY is set but DIALOGO_EMBEDDINGS_PROVIDER is not: set it to openai or ollama, or unset them for the local embedder")
		}
	case knowledge.ProviderOpenAI, knowledge.ProviderOllama:
		if emb.Provider == knowledge.ProviderOpenAI && (emb.URL == "" || emb.Model == "") {
			return config{}, fmt.Errorf("DIALOGO_EMBEDDINGS_PROVIDER=openai: DIALOGO_EMBEDDINGS_URL (e.g. https://api.openai.com/v1) and DIALOGO_EMBEDDINGS_MODEL are needed too")
		}
		if emb.Model == "" {
			return config{}, fmt.Errorf("DIALOGO_EMBEDDINGS_PROVIDER=ollama: DIALOGO_EMBEDDINGS_MODEL (e.g. nomic-embed-text) is needed too")
		}
		if emb.Provider == knowledge.ProviderOllama && emb.Key != "" {
			return config{}, fmt.Errorf("DIALOGO_EMBEDDINGS_KEY is set but Ollama takes no key: unset it")
		}
		if u, err := url.Parse(emb.URL); emb.URL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			return config{}, fmt.Errorf("DIALOGO_EMBEDDINGS_URL: use http(s)://host[:port][/path]")
		}
		if !knowledge.ValidEmbedderName(emb.Name()) {
			return config{}, fmt.Errorf("DIALOGO_EMBEDDINGS_MODEL %q: use letters, digits and . _ : / @ + - (at most 90)", emb.Model)
		}
	default:
		return config{}, fmt.Errorf("DIALOGO_EMBEDDINGS_PROVIDER %q: use openai, ollama, or nothing for the local embedder", emb.Provider)
	}

	// The assistant's language model. Errors never repeat the key.
	cfg.LLMProvider, cfg.LLMModel, cfg.LLMKey = get("DIALOGO_LLM_PROVIDER", ""), get("DIALOGO_LLM_MODEL", ""), get("DIALOGO_LLM_KEY", "")
	cfg.LLMURL = strings.TrimRight(get("DIALOGO_LLM_URL", ""), "/")
	switch cfg.LLMProvider {
	case "":
		if cfg.LLMURL != "" || cfg.LLMModel != "" || cfg.LLMKey != "" {
			return config{}, fmt.Errorf("DIALOGO_LLM_URL, _MODEL or _KEY is set but DIALOGO_LLM_PROVIDER is not: set it to openai or ollama, or unset them for extractive answers")
		}
	case "openai", "ollama":
		if cfg.LLMModel == "" || (cfg.LLMProvider == "openai" && cfg.LLMURL == "") {
			return config{}, fmt.Errorf("DIALOGO_LLM_PROVIDER=%s: DIALOGO_LLM_MODEL and DIALOGO_LLM_URL (e.g. http://127.0.0.1:11434 for Ollama, https://api.openai.com/v1) are needed too", cfg.LLMProvider)
		}
		if cfg.LLMProvider == "ollama" && cfg.LLMURL == "" {
			cfg.LLMURL = "http://127.0.0.1:11434"
		}
		if u, err := url.Parse(cfg.LLMURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return config{}, fmt.Errorf("DIALOGO_LLM_URL: use http(s)://host[:port][/path]")
		}
	default:
		return config{}, fmt.Errorf("DIALOGO_LLM_PROVIDER %q: use openai, ollama, or nothing for extractive answers", cfg.LLMProvider)
	}
	return cfg, nil
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
