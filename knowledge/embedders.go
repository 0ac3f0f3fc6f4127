package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"
)

// The identity of LocalEmbedder's vectors. A change to what LocalEmbedder
// computes needs a new name ("local-ngram-v2"), so that the vectors stored with
// the old one are re-embedded rather than compared with the new ones.
const (
	LocalName       = "local-ngram-v1"
	LocalDimensions = 384
)

// Embedder has the method set of langchaingo's embeddings.Embedder, so either
// stands for the other.
var (
	_ Embedder            = embeddings.Embedder(nil)
	_ embeddings.Embedder = Embedder(nil)
	_ Embedder            = (*embeddings.EmbedderImpl)(nil)
	_ describer           = NamedEmbedder{}
	_ describer           = LocalEmbedder{}
)

// NamedEmbedder is an embedder with the identity its vectors are stored under:
// a name that says which embedder and model made them, and their dimension.
// Vectors of different names are never compared: each chunk records the name
// of its embedder, and a search looks only at the chunks of its own.
type NamedEmbedder struct {
	Embedder
	// Name is the embedder and its model, such as "openai:text-embedding-3-small";
	// see ValidEmbedderName.
	Name string
	// Dimensions is the length of the vectors, at most MaxDimensions.
	Dimensions int
}

// Describe returns the name and the dimension the vectors are stored under.
func (e NamedEmbedder) Describe() (name string, dimensions int) { return e.Name, e.Dimensions }

// Describe returns LocalName and LocalDimensions.
func (LocalEmbedder) Describe() (name string, dimensions int) { return LocalName, LocalDimensions }

// describer is an Embedder that knows the name and the dimension its vectors
// are stored under, as LocalEmbedder and NamedEmbedder do.
type describer interface {
	Describe() (name string, dimensions int)
}

// ErrUnnamedEmbedder is returned for an embedder without a name and dimension,
// such as a bare langchaingo embedder: wrap it in a NamedEmbedder.
var ErrUnnamedEmbedder = errors.New("knowledge: the embedder has no name and dimension (wrap it in a knowledge.NamedEmbedder)")

// MaxDimensions is the widest vector an embedder may give. HNSW indexes
// vectors of up to 2,000 dimensions; wider ones, up to 4,000, are indexed at
// half precision (halfvec).
const MaxDimensions = 4000

// maxVectorDimensions is the widest vector HNSW indexes at full precision.
const maxVectorDimensions = 2000

// validName is the form of an embedder name. It is narrower than what SQL can
// quote, on purpose: names come from configuration and end up in index names,
// in index predicates and in the text of queries.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,99}$`)

// ValidEmbedderName reports whether name can name an embedder: 1 to 100
// letters, digits and . _ : / @ + -, starting with a letter or digit. The same
// rule is a CHECK of knowledge_embedders.name.
func ValidEmbedderName(name string) bool { return validName.MatchString(name) }

// embedderInfo is what the schema knows of an embedder.
type embedderInfo struct {
	name string
	dims int
}

func describe(emb Embedder) (embedderInfo, error) {
	d, ok := emb.(describer)
	if !ok || emb == nil {
		return embedderInfo{}, ErrUnnamedEmbedder
	}
	name, dims := d.Describe()
	if !ValidEmbedderName(name) {
		return embedderInfo{}, fmt.Errorf("knowledge: invalid embedder name %q: use 1 to 100 letters, digits and . _ : / @ + -", name)
	}
	if dims < 1 || dims > MaxDimensions {
		return embedderInfo{}, fmt.Errorf("knowledge: embedder %s: %d dimensions, the most is %d", name, dims, MaxDimensions)
	}
	return embedderInfo{name: name, dims: dims}, nil
}

// castType is the type an embedder's vectors are cast to, in its index and in
// searches: the cast gives the expression the fixed width an index needs.
func (e embedderInfo) castType() string {
	if e.dims > maxVectorDimensions {
		return "halfvec(" + strconv.Itoa(e.dims) + ")"
	}
	return "vector(" + strconv.Itoa(e.dims) + ")"
}

func (e embedderInfo) opclass() string {
	if e.dims > maxVectorDimensions {
		return "halfvec_cosine_ops"
	}
	return "vector_cosine_ops"
}

// literal is the name as an SQL string literal. Names are checked against
// validName, which leaves out quotes and backslashes; quotes are doubled all
// the same.
func (e embedderInfo) literal() string {
	return "'" + strings.ReplaceAll(e.name, "'", "''") + "'"
}

// indexName is the name of the HNSW index over an embedder's chunks: a
// readable slug of the embedder's name and the start of its SHA-256, which
// keeps apart names that differ only in punctuation or case, within
// PostgreSQL's 63 bytes.
func indexName(embedder string) string {
	sum := sha256.Sum256([]byte(embedder))
	slug := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return '_'
	}, embedder)
	if len(slug) > 24 {
		slug = slug[:24]
	}
	return "knowledge_chunks_embedding_" + slug + "_" + hex.EncodeToString(sum[:4])
}

// The providers of EmbedderConfig.
const (
	ProviderLocal  = "local"
	ProviderOpenAI = "openai"
	ProviderOllama = "ollama"
)

// DefaultOllamaURL is where an Ollama server listens unless told otherwise.
const DefaultOllamaURL = "http://127.0.0.1:11434"

// EmbedderConfig chooses the embedder of the knowledge base.
type EmbedderConfig struct {
	// Provider is "" or "local" for LocalEmbedder (no model, no download, no
	// network), "openai" for an OpenAI-compatible /embeddings API (OpenAI,
	// vLLM, LocalAI, llama.cpp's server…) or "ollama".
	Provider string
	// URL is the API's base URL: for openai the one /embeddings is under (such
	// as https://api.openai.com/v1), for ollama the server (DefaultOllamaURL
	// when empty).
	URL string
	// Model is the embedding model, such as text-embedding-3-small or
	// nomic-embed-text.
	Model string
	// Key is the openai API key, sent as a bearer token; servers that need
	// none take an empty one. It is a secret: String, GoString and LogValue
	// leave it out.
	Key string
	// HTTPClient makes the requests when not nil; the default one gives up on
	// a request after two minutes.
	HTTPClient *http.Client
}

// Name is the name the configured embedder's vectors are stored under: the
// provider and the model, such as "openai:text-embedding-3-small".
func (c EmbedderConfig) Name() string {
	switch c.Provider {
	case "", ProviderLocal:
		return LocalName
	}
	return c.Provider + ":" + c.Model
}

// String describes the configuration without its key.
func (c EmbedderConfig) String() string {
	key := ""
	if c.Key != "" {
		key = " key=(set)"
	}
	return fmt.Sprintf("embedder %s url=%q%s", c.Name(), redactURL(c.URL), key)
}

// GoString is String, so that %#v does not print the key either.
func (c EmbedderConfig) GoString() string { return c.String() }

// LogValue logs the configuration without its key.
func (c EmbedderConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", c.Name()), slog.String("url", redactURL(c.URL)), slog.Bool("key_set", c.Key != ""))
}

// redactURL hides a password in a URL, in case a key was written there.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(invalid)"
	}
	return u.Redacted()
}

// probeText is what NewEmbedder embeds to learn a remote model's dimension.
const probeText = "Come si rinnova la carta d'identità?"

// NewEmbedder builds the embedder the configuration chooses. A remote one is
// a langchaingo client, whose dimension is learned by embedding a probe text:
// NewEmbedder fails when the server cannot be reached or gives no vector.
func NewEmbedder(ctx context.Context, cfg EmbedderConfig) (NamedEmbedder, error) {
	switch cfg.Provider {
	case "", ProviderLocal:
		return NamedEmbedder{Embedder: LocalEmbedder{}, Name: LocalName, Dimensions: LocalDimensions}, nil
	case ProviderOpenAI, ProviderOllama:
	default:
		return NamedEmbedder{}, fmt.Errorf("knowledge: unknown embeddings provider %q: use local, openai or ollama", cfg.Provider)
	}
	name := cfg.Name()
	if cfg.Model == "" || !ValidEmbedderName(name) {
		return NamedEmbedder{}, fmt.Errorf("knowledge: embeddings model %q: use letters, digits and . _ : / @ + - (at most 90)", cfg.Model)
	}
	if cfg.URL == "" && cfg.Provider == ProviderOllama {
		cfg.URL = DefaultOllamaURL
	}
	if u, err := url.Parse(cfg.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return NamedEmbedder{}, fmt.Errorf("knowledge: embeddings URL %q: use http(s)://host[:port][/path]", redactURL(cfg.URL))
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Minute}
	}
	var ec embeddings.EmbedderClient
	switch cfg.Provider {
	case ProviderOpenAI:
		// langchaingo refuses an empty token; a server without keys ignores
		// the one it is sent. The organisation is set, to empty, so that an
		// OPENAI_ORGANIZATION in the environment is not sent along.
		key := cfg.Key
		if key == "" {
			key = "none"
		}
		llm, err := openai.New(openai.WithBaseURL(cfg.URL), openai.WithEmbeddingModel(cfg.Model),
			openai.WithToken(key), openai.WithOrganization(""), openai.WithHTTPClient(client))
		if err != nil {
			return NamedEmbedder{}, fmt.Errorf("knowledge: %s: %w", name, err)
		}
		ec = llm
	case ProviderOllama:
		llm, err := ollama.New(ollama.WithServerURL(cfg.URL), ollama.WithModel(cfg.Model), ollama.WithHTTPClient(client))
		if err != nil {
			return NamedEmbedder{}, fmt.Errorf("knowledge: %s: %w", name, err)
		}
		ec = llm
	}
	emb, err := embeddings.NewEmbedder(ec)
	if err != nil {
		return NamedEmbedder{}, fmt.Errorf("knowledge: %s: %w", name, err)
	}
	vec, err := emb.EmbedQuery(ctx, probeText)
	if err != nil {
		return NamedEmbedder{}, fmt.Errorf("knowledge: %s at %s: embedding a probe text: %w", name, redactURL(cfg.URL), err)
	}
	if len(vec) == 0 || len(vec) > MaxDimensions {
		return NamedEmbedder{}, fmt.Errorf("knowledge: %s at %s: a vector of %d dimensions (1 to %d are usable)", name, redactURL(cfg.URL), len(vec), MaxDimensions)
	}
	return NamedEmbedder{Embedder: emb, Name: name, Dimensions: len(vec)}, nil
}

// registerEmbedder records an embedder in knowledge_embedders, or checks that
// the one recorded under its name has its dimension.
func registerEmbedder(ctx context.Context, pool *pgxpool.Pool, e embedderInfo) error {
	// DO NOTHING takes no lock on an existing row, so that concurrent
	// ingestions do not queue behind one another here.
	if _, err := pool.Exec(ctx, `INSERT INTO knowledge_embedders (name, dimensions) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		e.name, e.dims); err != nil {
		return fmt.Errorf("recording the embedder %s: %w", e.name, err)
	}
	var dims int
	if err := pool.QueryRow(ctx, `SELECT dimensions FROM knowledge_embedders WHERE name = $1`, e.name).Scan(&dims); err != nil {
		return fmt.Errorf("recording the embedder %s: %w", e.name, err)
	}
	if dims != e.dims {
		return fmt.Errorf("the embedder %s gives vectors of %d dimensions but was recorded with %d: a model whose output changed needs another name", e.name, e.dims, dims)
	}
	return nil
}

// currentEmbedder returns the name of the current embedder, the one last
// made current by UseEmbedder (the migration made LocalName current).
func currentEmbedder(ctx context.Context, pool *pgxpool.Pool) (string, error) {
	var name string
	err := pool.QueryRow(ctx, `SELECT name FROM knowledge_embedders ORDER BY activated_at DESC NULLS LAST, name LIMIT 1`).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return name, err
}

// PrepareEmbedder records emb, and builds its HNSW index if there is none
// (CREATE INDEX CONCURRENTLY, so that searches and ingestion go on meanwhile,
// which may take minutes on a large base), without making it current.
func PrepareEmbedder(ctx context.Context, pool *pgxpool.Pool, emb Embedder) error {
	e, err := describe(emb)
	if err != nil {
		return err
	}
	if err := prepare(ctx, pool, e, false); err != nil {
		return fmt.Errorf("knowledge.PrepareEmbedder(%s): %w", e.name, err)
	}
	return nil
}

// UseEmbedder makes emb the current embedder of the knowledge base, the one
// the re-embedders of every instance convert all chunks to: it prepares it
// (PrepareEmbedder) and marks it current. It returns the name of the embedder
// that was current before, which is emb's own when nothing changed.
//
// The latest call wins: during a rolling upgrade from one embedder to another,
// the instances still on the old one stop re-embedding once a new one has
// started.
func UseEmbedder(ctx context.Context, pool *pgxpool.Pool, emb Embedder) (previous string, err error) {
	e, err := describe(emb)
	if err != nil {
		return "", err
	}
	if previous, err = currentEmbedder(ctx, pool); err != nil {
		return "", fmt.Errorf("knowledge.UseEmbedder(%s): %w", e.name, err)
	}
	if err := prepare(ctx, pool, e, true); err != nil {
		return "", fmt.Errorf("knowledge.UseEmbedder(%s): %w", e.name, err)
	}
	return previous, nil
}

// indexLock is the space of the advisory locks, one per embedder, held while
// its index is built or dropped and while it is made current: an index seen
// invalid is a build that failed, not one under way, and the re-embedder
// never drops the index of an embedder being made current.
const indexLock = 0x4b42 // "KB"

// withIndexLock runs fn on a connection holding the advisory lock of an
// embedder's index, waiting for it, or, with try, giving up (ok false) when
// another session holds it.
func withIndexLock(ctx context.Context, pool *pgxpool.Pool, embedder string, try bool, fn func(*pgx.Conn) error) (ok bool, err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Release()
	key := indexName(embedder)
	if try {
		err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, indexLock, key).Scan(&ok)
	} else {
		_, err = conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, indexLock, key)
		ok = err == nil
	}
	if err != nil || !ok {
		return false, err
	}
	defer func() {
		// A session that cannot unlock is closed, which unlocks.
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(unlockCtx, `SELECT pg_advisory_unlock($1, hashtext($2))`, indexLock, key); err != nil {
			_ = conn.Conn().Close(unlockCtx)
		}
	}()
	return true, fn(conn.Conn())
}

// prepare records an embedder and builds its HNSW index unless it exists and
// is valid (an invalid one, left by a build that failed, is built again), and
// with activate makes it the current embedder.
func prepare(ctx context.Context, pool *pgxpool.Pool, e embedderInfo, activate bool) error {
	if err := registerEmbedder(ctx, pool, e); err != nil {
		return err
	}
	_, err := withIndexLock(ctx, pool, e.name, false, func(conn *pgx.Conn) error {
		name := indexName(e.name)
		ident := pgx.Identifier{name}.Sanitize()
		var valid *bool
		err := conn.QueryRow(ctx, `SELECT (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1))`, ident).Scan(&valid)
		if err != nil {
			return err
		}
		if valid != nil && !*valid {
			if _, err := conn.Exec(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+ident); err != nil {
				return fmt.Errorf("dropping the invalid index %s: %w", name, err)
			}
		}
		if valid == nil || !*valid {
			_, err = conn.Exec(ctx, `CREATE INDEX CONCURRENTLY IF NOT EXISTS `+ident+` ON knowledge_chunks
				USING hnsw ((embedding::`+e.castType()+`) `+e.opclass()+`) WHERE embedder = `+e.literal())
			if err != nil {
				return fmt.Errorf("building the index %s: %w", name, err)
			}
		}
		if activate {
			_, err = conn.Exec(ctx, `UPDATE knowledge_embedders SET activated_at = clock_timestamp() WHERE name = $1`, e.name)
		}
		return err
	})
	return err
}
