package knowledge_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/knowledge"
)

// The tests of this file change the current embedder and re-embed every chunk
// of the package's database, so they do not run in parallel: Go runs them
// before the parallel tests of the package, which ingest and search with the
// local embedder and are not disturbed. Each restores the local embedder as
// the current one when it ends.

// resizedEmbedder is a fake embedder with a dimension of its own: the local
// embedder's vector folded into, or padded to, dims numbers. Its vectors still
// mean something, so that searches with it find the right chunks. It counts
// the texts it embeds.
type resizedEmbedder struct {
	name     string
	dims     int
	embedded *atomic.Int64
	// before, when not nil, is called before each EmbedDocuments.
	before func()
}

func newResized(t *testing.T, prefix string, dims int) resizedEmbedder {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return resizedEmbedder{name: prefix + "-" + hex.EncodeToString(b[:]), dims: dims, embedded: new(atomic.Int64)}
}

func (e resizedEmbedder) Describe() (string, int) { return e.name, e.dims }

func (e resizedEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	if e.before != nil {
		e.before()
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v, err := e.EmbedQuery(ctx, t)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	e.embedded.Add(int64(len(texts)))
	return out, nil
}

func (e resizedEmbedder) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	local, err := knowledge.LocalEmbedder{}.EmbedQuery(ctx, text)
	if err != nil {
		return nil, err
	}
	out := make([]float32, e.dims)
	for i, x := range local {
		out[i%e.dims] += x
	}
	var sum float64
	for _, x := range out {
		sum += float64(x) * float64(x)
	}
	if sum > 0 {
		for i := range out {
			out[i] = float32(float64(out[i]) / math.Sqrt(sum))
		}
	}
	return out, nil
}

// useEmbedder makes emb current, and the local embedder current again when the
// test ends.
func useEmbedder(t *testing.T, pool *pgxpool.Pool, emb knowledge.Embedder) {
	t.Helper()
	_, err := knowledge.UseEmbedder(t.Context(), pool, emb)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := knowledge.UseEmbedder(context.Background(), pool, knowledge.LocalEmbedder{})
		require.NoError(t, err)
	})
}

func reembedAll(t *testing.T, pool *pgxpool.Pool, emb knowledge.Embedder) int {
	t.Helper()
	total := 0
	for {
		n, err := knowledge.Reembed(t.Context(), pool, emb, 50)
		require.NoError(t, err)
		if n == 0 {
			return total
		}
		total += n
	}
}

// indexes returns the names of the HNSW indexes whose predicate names the embedder.
func indexes(t *testing.T, pool *pgxpool.Pool, embedder string) []string {
	t.Helper()
	rows, err := pool.Query(t.Context(), `
		SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		 WHERE i.indrelid = 'knowledge_chunks'::regclass AND i.indisvalid
		   AND pg_get_expr(i.indpred, i.indrelid) LIKE '%' || quote_literal($1) || '%'
		 ORDER BY 1`, embedder)
	require.NoError(t, err)
	var names []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		names = append(names, n)
	}
	require.NoError(t, rows.Err())
	return names
}

func chunkEmbedders(t *testing.T, pool *pgxpool.Pool, tenant int64) map[int64]string {
	t.Helper()
	rows, err := pool.Query(t.Context(), `SELECT id, embedder FROM knowledge_chunks WHERE tenant_id = $1`, tenant)
	require.NoError(t, err)
	m := map[int64]string{}
	for rows.Next() {
		var id int64
		var e string
		require.NoError(t, rows.Scan(&id, &e))
		m[id] = e
	}
	require.NoError(t, rows.Err())
	return m
}

func TestSearchWorksWhileReembeddingAndAfter(t *testing.T) {
	b := setup(t)
	a, bb := newResized(t, "test-a", 256), newResized(t, "test-b", 512)
	useEmbedder(t, b.pool, a)
	require.NotEmpty(t, indexes(t, b.pool, a.name), "UseEmbedder builds the index")
	_, err := knowledge.IngestDir(b.ctx, b.pool, a, b.tenant, b.dir, "", nil)
	require.NoError(t, err)
	search := func(emb knowledge.Embedder, q string) []knowledge.Result {
		res, err := knowledge.Search(b.ctx, b.pool, emb, b.tenant, q, 5)
		require.NoError(t, err)
		require.NotEmpty(t, res, q)
		return res
	}
	require.Equal(t, "tributi/tari.md", search(a, "quando si paga la tassa dei rifiuti")[0].SourceName)

	// The switch: B becomes current. Before any re-embedding, B's vector side
	// finds nothing and the full-text side still answers.
	previous, err := knowledge.UseEmbedder(b.ctx, b.pool, bb)
	require.NoError(t, err)
	require.Equal(t, a.name, previous)
	require.NotEmpty(t, indexes(t, b.pool, bb.name))
	for _, r := range search(bb, "codice tributo 3944") {
		require.Zero(t, r.VectorRank)
	}
	require.Equal(t, "tributi/tari.md", search(bb, "codice tributo 3944")[0].SourceName)

	// Part of the way: the vector side sees exactly the chunks re-embedded.
	// Reembed takes chunks of any tenant, in no set order, so it goes one
	// chunk at a time until one of this tenant's is done.
	var embedders map[int64]string
	for converted := 0; converted == 0; {
		n, err := knowledge.Reembed(b.ctx, b.pool, bb, 1)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		embedders = chunkEmbedders(t, b.pool, b.tenant)
		for _, e := range embedders {
			if e == bb.name {
				converted++
			}
		}
	}
	sawVector := false
	for _, q := range []string{"carta d'identità", "mensa scolastica iscrizione", "TARI riduzioni"} {
		for _, r := range search(bb, q) {
			if r.VectorRank > 0 {
				sawVector = true
				require.Equal(t, bb.name, embedders[r.ChunkID], "the vector side only sees chunks of the current embedder")
			}
		}
	}
	require.True(t, sawVector)
	// The full-text side still finds every chunk: the one chunk re-embedded
	// may come first for now, by its vector rank alone.
	found := false
	for _, r := range search(bb, "codice tributo 3944") {
		if r.SourceName == "tributi/tari.md" && r.TextRank == 1 {
			found = true
		}
	}
	require.True(t, found)

	// All the way.
	reembedAll(t, b.pool, bb)
	pending, err := knowledge.Pending(b.ctx, b.pool, bb)
	require.NoError(t, err)
	require.Zero(t, pending)
	for id, e := range chunkEmbedders(t, b.pool, b.tenant) {
		require.Equal(t, bb.name, e, "chunk %d", id)
	}
	res := search(bb, "quanto costa la CIE e in quanti giorni arriva?")
	require.Equal(t, "anagrafe/carta-identita.md", res[0].SourceName)
	require.NotZero(t, res[0].VectorRank)
	require.Empty(t, indexes(t, b.pool, a.name), "the old embedder's index is dropped")
	require.NotEmpty(t, indexes(t, b.pool, bb.name))

	// Idempotent: nothing more to do, nothing changes.
	var before, after string
	checksum := `SELECT md5(string_agg(id || embedder || embedding::text, ',' ORDER BY id)) FROM knowledge_chunks WHERE tenant_id = $1`
	require.NoError(t, b.pool.QueryRow(b.ctx, checksum, b.tenant).Scan(&before))
	embedded := bb.embedded.Load()
	n, err := knowledge.Reembed(b.ctx, b.pool, bb, 50)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, embedded, bb.embedded.Load(), "nothing embedded again")
	require.NoError(t, b.pool.QueryRow(b.ctx, checksum, b.tenant).Scan(&after))
	require.Equal(t, before, after)
}

func TestConcurrentReembeddersNeverEmbedAChunkTwice(t *testing.T) {
	b := setup(t)
	a := newResized(t, "test-a", 64)
	useEmbedder(t, b.pool, a)
	var body strings.Builder
	for i := range 60 {
		fmt.Fprintf(&body, "## Sezione %d\n\n%s\n\n", i, strings.Repeat(fmt.Sprintf("Testo della sezione %d sul servizio. ", i), 30))
	}
	_, err := knowledge.Ingest(b.ctx, b.pool, a, b.tenant, knowledge.Source{Name: "lungo.md", Format: knowledge.Markdown, Body: body.String()})
	require.NoError(t, err)

	// The first batch of each re-embedder waits for the other's, so that two
	// claims are held at the same time: the second must find other chunks than
	// the first (a claim that blocked instead would never arrive).
	bb := newResized(t, "test-b", 96)
	var arrived sync.WaitGroup
	arrived.Add(2)
	var calls atomic.Int64
	bb.before = func() {
		if calls.Add(1) <= 2 {
			arrived.Done()
			arrived.Wait()
		}
	}
	useEmbedder(t, b.pool, bb)
	pending, err := knowledge.Pending(b.ctx, b.pool, bb)
	require.NoError(t, err)
	require.Greater(t, pending, 20)

	var wg sync.WaitGroup
	var done [2]int
	errs := make(chan error, 2)
	for w := range 2 {
		wg.Go(func() {
			for {
				n, err := knowledge.Reembed(b.ctx, b.pool, bb, 7)
				if err != nil {
					errs <- err
					return
				}
				if n == 0 {
					return
				}
				done[w] += n
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Positive(t, done[0])
	require.Positive(t, done[1])
	require.Equal(t, pending, done[0]+done[1])
	require.EqualValues(t, pending, bb.embedded.Load(), "every chunk embedded exactly once")
	left, err := knowledge.Pending(b.ctx, b.pool, bb)
	require.NoError(t, err)
	require.Zero(t, left)
}

func TestOnlyTheCurrentEmbedderReembeds(t *testing.T) {
	b := setup(t)
	a, bb := newResized(t, "test-a", 32), newResized(t, "test-b", 48)
	useEmbedder(t, b.pool, a)
	useEmbedder(t, b.pool, bb)
	n, err := knowledge.Reembed(b.ctx, b.pool, a, 10)
	require.ErrorIs(t, err, knowledge.ErrNotCurrent)
	require.Zero(t, n)
	require.Zero(t, a.embedded.Load())
}

func TestRunReembedderReembedsInTheBackground(t *testing.T) {
	b := setup(t)
	b.ingestDir(t, b.tenant)
	bb := newResized(t, "test-b", 200)
	t.Cleanup(func() {
		_, err := knowledge.UseEmbedder(context.Background(), b.pool, knowledge.LocalEmbedder{})
		require.NoError(t, err)
	})

	ctx, cancel := context.WithCancel(b.ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		knowledge.RunReembedder(ctx, b.pool, bb, slog.New(slog.NewTextHandler(t.Output(), nil)))
	}()
	for {
		pending, err := knowledge.Pending(b.ctx, b.pool, bb)
		require.NoError(t, err)
		if pending == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-stopped
	for _, e := range chunkEmbedders(t, b.pool, b.tenant) {
		require.Equal(t, bb.name, e)
	}
	require.NotEmpty(t, indexes(t, b.pool, bb.name))
}

func TestAnEmbedderKeepsItsDimension(t *testing.T) {
	b := setup(t)
	a := newResized(t, "test-a", 32)
	useEmbedder(t, b.pool, a)
	wider := a
	wider.dims = 33
	_, err := knowledge.UseEmbedder(b.ctx, b.pool, wider)
	require.ErrorContains(t, err, "recorded with 32")
	_, err = knowledge.Ingest(b.ctx, b.pool, wider, b.tenant, knowledge.Source{Name: "x.md", Format: knowledge.Markdown, Body: "# X\n\nTesto."})
	require.ErrorContains(t, err, "recorded with 32")
}

func TestAnUnnamedEmbedderIsRefused(t *testing.T) {
	b := setup(t)
	var bare knowledge.Embedder = unnamed{}
	_, err := knowledge.Ingest(b.ctx, b.pool, bare, b.tenant, knowledge.Source{Name: "x.md", Format: knowledge.Markdown, Body: "# X\n\nTesto."})
	require.ErrorIs(t, err, knowledge.ErrUnnamedEmbedder)
	_, err = knowledge.Search(b.ctx, b.pool, bare, b.tenant, "testo", 5)
	require.ErrorIs(t, err, knowledge.ErrUnnamedEmbedder)
	_, err = knowledge.Reembed(b.ctx, b.pool, bare, 5)
	require.ErrorIs(t, err, knowledge.ErrUnnamedEmbedder)
}

// unnamed is an embedder that does not say what it is, such as a bare
// langchaingo one.
type unnamed struct{}

func (unnamed) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	return knowledge.LocalEmbedder{}.EmbedDocuments(ctx, texts)
}

func (unnamed) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	return knowledge.LocalEmbedder{}.EmbedQuery(ctx, text)
}

func TestAWideEmbedderIsIndexedAtHalfPrecision(t *testing.T) {
	b := setup(t)
	wide := newResized(t, "test-wide", 3072)
	useEmbedder(t, b.pool, wide)
	require.NotEmpty(t, indexes(t, b.pool, wide.name))
	_, err := knowledge.IngestDir(b.ctx, b.pool, wide, b.tenant, b.dir, "", nil)
	require.NoError(t, err)
	res, err := knowledge.Search(b.ctx, b.pool, wide, b.tenant, "quanto costa la CIE e in quanti giorni arriva?", 5)
	require.NoError(t, err)
	require.Equal(t, "anagrafe/carta-identita.md", res[0].SourceName)
	require.NotZero(t, res[0].VectorRank)
}
