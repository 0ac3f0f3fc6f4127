package knowledge_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/internal/testdb"
	"github.com/dialogo-pa/dialogo/knowledge"
)

// The fixture: three short pages of a Comune's knowledge base.
var fixture = map[string]string{
	"anagrafe/carta-identita.md": `# Carta d'identità elettronica

La carta d'identità elettronica (CIE) è il documento di riconoscimento dei cittadini.

## Come richiederla

Prenota un appuntamento allo sportello anagrafe con il sistema Agenda CIE.
Porta una fototessera recente e il vecchio documento.

- costo: 22,21 euro, pagati con pagoPA;
- la carta arriva per posta entro sei giorni lavorativi.

## Smarrimento o furto

In caso di smarrimento serve la denuncia ai Carabinieri prima di chiedere la nuova carta.
`,
	"tributi/tari.md": `# TARI - Tassa sui rifiuti

La TARI finanzia la raccolta e lo smaltimento dei rifiuti urbani.

## Scadenze e pagamento

Si paga in due rate, il 16 maggio e il 16 novembre, con l'avviso pagoPA inviato a casa.
Il codice tributo per il modello F24 è 3944.

## Riduzioni

Chi vive da solo ha diritto a una riduzione del 30 per cento.
`,
	"scuola/mensa.md": `# Mensa scolastica

Il servizio di ristorazione scolastica è per i bambini delle scuole dell'infanzia e primarie.

## Iscrizione

L'iscrizione si fa online ogni anno entro il 30 giugno, con SPID o CIE.
Le diete speciali per allergie richiedono il certificato del pediatra.
`,
}

type bundle struct {
	ctx    context.Context
	pool   *pgxpool.Pool
	emb    knowledge.LocalEmbedder
	tenant int64
	dir    string
}

func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{ctx: t.Context(), pool: testdb.New(t), tenant: 0, dir: t.TempDir()}
	b.tenant = newTenant(t, b.pool)
	for name, body := range fixture {
		b.write(t, name, body)
	}
	return b
}

func newTenant(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	var id int64
	err := pool.QueryRow(t.Context(), `INSERT INTO tenants (slug, name, fiscal_code) VALUES ($1, 'Comune di Prova', '01199250158') RETURNING id`,
		"kb-"+hex.EncodeToString(suffix)).Scan(&id)
	require.NoError(t, err)
	return id
}

func (b *bundle) write(t *testing.T, name, body string) {
	t.Helper()
	path := filepath.Join(b.dir, filepath.FromSlash(name))
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
}

func (b *bundle) ingestDir(t *testing.T, tenant int64) knowledge.DirReport {
	t.Helper()
	rep, err := knowledge.IngestDir(b.ctx, b.pool, b.emb, tenant, b.dir, "", nil)
	require.NoError(t, err)
	return rep
}

func (b *bundle) search(t *testing.T, tenant int64, query string) []knowledge.Result {
	t.Helper()
	res, err := knowledge.Search(b.ctx, b.pool, b.emb, tenant, query, 5)
	require.NoError(t, err)
	return res
}

func (b *bundle) chunkIDs(t *testing.T) []int64 {
	t.Helper()
	rows, err := b.pool.Query(b.ctx, `SELECT id FROM knowledge_chunks WHERE tenant_id = $1 ORDER BY id`, b.tenant)
	require.NoError(t, err)
	var ids []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}

func TestSearchFindsTheRightChunk(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, knowledge.DirReport{Added: 3}, b.ingestDir(t, b.tenant))

	tests := []struct {
		name, query, source, section string
	}{
		{"paraphrase", "quanto costa la CIE e in quanti giorni arriva?", "anagrafe/carta-identita.md", "Come richiederla"},
		{"paraphrase with typos", "quando si paga la tassa dei rifuti", "tributi/tari.md", "Scadenze e pagamento"},
		{"exact code", "3944", "tributi/tari.md", "Scadenze e pagamento"},
		{"exact name", "Agenda CIE", "anagrafe/carta-identita.md", "Come richiederla"},
		{"question", "come faccio l'iscrizione di mio figlio alla mensa?", "scuola/mensa.md", "Iscrizione"},
		{"inflection", "cosa fare se ho smarrito la carta", "anagrafe/carta-identita.md", "Smarrimento o furto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := b.search(t, b.tenant, tt.query)
			require.NotEmpty(t, res)
			for _, r := range res {
				t.Logf("%.4f v%d t%d %s > %s", r.Score, r.VectorRank, r.TextRank, r.SourceName, r.SectionPath)
			}
			require.Equal(t, tt.source, res[0].SourceName, "%+v", res[0])
			require.Equal(t, tt.section, res[0].SectionPath)
			require.NotZero(t, res[0].ChunkID)
			require.Greater(t, res[0].Score, 0.0)
			require.NotEmpty(t, res[0].Title)
			require.NotEmpty(t, res[0].Text)
		})
	}
}

func TestReingestingUnchangedContentChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.ingestDir(t, b.tenant)
	before := b.chunkIDs(t)
	require.Equal(t, knowledge.DirReport{Unchanged: 3}, b.ingestDir(t, b.tenant))
	require.Equal(t, before, b.chunkIDs(t))
}

func TestReingestingAChangedSourceReplacesItsChunks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.ingestDir(t, b.tenant)
	old := b.search(t, b.tenant, "3944")[0]

	b.write(t, "tributi/tari.md", `# TARI - Tassa sui rifiuti

## Scadenze e pagamento

Dal 2027 la TARI si paga in un'unica rata il 31 luglio; il codice tributo F24 resta 3944.
`)
	require.Equal(t, knowledge.DirReport{Replaced: 1, Unchanged: 2}, b.ingestDir(t, b.tenant))

	res := b.search(t, b.tenant, "3944")
	require.Equal(t, "tributi/tari.md", res[0].SourceName)
	require.NotEqual(t, old.ChunkID, res[0].ChunkID)
	require.Contains(t, res[0].Text, "unica rata")
	for _, r := range b.search(t, b.tenant, "riduzione per chi vive da solo") {
		require.NotContains(t, r.Text, "30 per cento", "the old chunks are gone")
	}
}

func TestIngestReplacesAtomically(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.ingestDir(t, b.tenant)
	before := b.chunkIDs(t)

	// An embedder that fails makes the replacement fail as a whole: the old
	// chunks stay searchable.
	short := knowledge.NamedEmbedder{Embedder: shortEmbedder{}, Name: knowledge.LocalName, Dimensions: knowledge.LocalDimensions}
	_, err := knowledge.Ingest(b.ctx, b.pool, short, b.tenant, knowledge.Source{
		Name: "tributi/tari.md", Format: knowledge.Markdown, Body: "# TARI\n\nNuovo testo.",
	})
	require.Error(t, err)
	require.Equal(t, before, b.chunkIDs(t))
	require.Equal(t, "tributi/tari.md", b.search(t, b.tenant, "3944")[0].SourceName)
	require.Equal(t, knowledge.DirReport{Unchanged: 3}, b.ingestDir(t, b.tenant), "the stored hash is still the old one")
}

// shortEmbedder returns vectors of the wrong dimension, which Ingest refuses
// inside its transaction.
type shortEmbedder struct{}

func (shortEmbedder) EmbedDocuments(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i := range out {
		out[i] = []float32{1}
	}
	return out, nil
}

func (shortEmbedder) EmbedQuery(context.Context, string) ([]float32, error) { return []float32{1}, nil }

func TestARemovedFileDisappearsFromResults(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.ingestDir(t, b.tenant)
	require.NoError(t, os.Remove(filepath.Join(b.dir, "scuola", "mensa.md")))
	require.Equal(t, knowledge.DirReport{Unchanged: 2, Removed: 1}, b.ingestDir(t, b.tenant))
	for _, r := range b.search(t, b.tenant, "iscrizione mensa scolastica") {
		require.NotEqual(t, "scuola/mensa.md", r.SourceName)
	}
}

func TestSearchNeverReturnsAnotherTenantsChunks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.ingestDir(t, b.tenant)
	other := newTenant(t, b.pool)
	_, err := knowledge.Ingest(b.ctx, b.pool, b.emb, other, knowledge.Source{
		Name: "tributi/tari.md", Format: knowledge.Markdown,
		Body: "# TARI di un altro Comune\n\nIl codice tributo 3944 si usa anche qui; si paga il 3 marzo.",
	})
	require.NoError(t, err)

	mine := b.search(t, b.tenant, "3944 codice tributo TARI")
	theirs := b.search(t, other, "3944 codice tributo TARI")
	require.NotEmpty(t, mine)
	require.Len(t, theirs, 1)
	require.Contains(t, theirs[0].Text, "3 marzo")
	for _, r := range mine {
		require.NotContains(t, r.Text, "3 marzo")
	}
	require.Empty(t, b.search(t, newTenant(t, b.pool), "TARI"), "an empty knowledge base finds nothing")
}

func TestASmallTenantGetsItsNearestChunksBesideALargeOne(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.ingestDir(t, b.tenant)
	// Another tenant's thousands of chunks fill the HNSW graph around the
	// query: whichever plan PostgreSQL picks (the index with an iterative scan,
	// or an exact scan of this tenant's rows), the vector side must still reach
	// this tenant's few chunks.
	big := newTenant(t, b.pool)
	var body strings.Builder
	body.WriteString("# Archivio\n\n")
	for i := range 3000 {
		fmt.Fprintf(&body, "## Pratica %d\n\nCarta d'identità, TARI e mensa scolastica: avviso numero %d.\n\n", i, i)
	}
	_, err := knowledge.Ingest(b.ctx, b.pool, b.emb, big, knowledge.Source{Name: "archivio.md", Format: knowledge.Markdown, Body: body.String()})
	require.NoError(t, err)
	_, err = b.pool.Exec(b.ctx, `ANALYZE knowledge_chunks`)
	require.NoError(t, err)

	res, err := knowledge.Search(b.ctx, b.pool, b.emb, b.tenant, "carta d'identità tari mensa", 10)
	require.NoError(t, err)
	require.Len(t, res, 8, "every chunk of the small tenant")
	for _, r := range res {
		require.NotZero(t, r.VectorRank, "%s > %s", r.SourceName, r.SectionPath)
	}
}

func TestRemoveDeletesASourceAndItsChunks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.ingestDir(t, b.tenant)
	require.NoError(t, knowledge.Remove(b.ctx, b.pool, b.tenant, "tributi/tari.md"))
	for _, r := range b.search(t, b.tenant, "TARI 3944") {
		require.NotEqual(t, "tributi/tari.md", r.SourceName)
	}
	require.ErrorIs(t, knowledge.Remove(b.ctx, b.pool, b.tenant, "tributi/tari.md"), knowledge.ErrNotFound)
	require.ErrorIs(t, knowledge.Remove(b.ctx, b.pool, newTenant(t, b.pool), "scuola/mensa.md"), knowledge.ErrNotFound,
		"another tenant cannot remove this tenant's source")
}
