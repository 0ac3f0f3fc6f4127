package knowledge_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/knowledge"
)

func TestSourcePageHasTheChunksInTheOrderOfTheDocument(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.ingestDir(t, b.tenant)
	const name = "anagrafe/carta-identita.md"

	page, err := knowledge.SourcePage(b.ctx, b.pool, b.tenant, name)

	require.NoError(t, err)
	title, chunks, err := knowledge.Split(knowledge.Source{Name: name, Format: knowledge.Markdown, Body: fixture[name]})
	require.NoError(t, err)
	require.Equal(t, b.tenant, page.TenantID)
	require.Equal(t, name, page.Name)
	require.Equal(t, "Carta d'identità elettronica", page.Title)
	require.Equal(t, title, page.Title)
	require.Empty(t, page.URL)
	require.False(t, page.UpdatedAt.IsZero())
	require.Equal(t, chunks, page.Chunks)
	var sections []string
	for _, c := range page.Chunks {
		sections = append(sections, c.SectionPath)
	}
	require.Equal(t, []string{"", "Come richiederla", "Smarrimento o furto"}, sections)
}

func TestSourcePageGivesTheAddressOfASourceThatHasOne(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const url = "https://www.comune.example.it/servizi/tari"
	_, err := knowledge.Ingest(b.ctx, b.pool, b.emb, b.tenant, knowledge.Source{
		Name: url, URL: url, Title: "TARI online", Format: knowledge.Text, Body: "La TARI si paga con pagoPA.",
	})
	require.NoError(t, err)

	page, err := knowledge.SourcePage(b.ctx, b.pool, b.tenant, url)

	require.NoError(t, err)
	require.Equal(t, url, page.URL)
	require.Equal(t, []knowledge.Chunk{{Title: "TARI online", Text: "La TARI si paga con pagoPA."}}, page.Chunks)
}

func TestSourcePageOfAnUnknownNameIsErrNoSource(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.ingestDir(t, b.tenant)

	for _, name := range []string{"anagrafe/nessuna.md", "carta-identita.md", "ANAGRAFE/carta-identita.md", ""} {
		_, err := knowledge.SourcePage(b.ctx, b.pool, b.tenant, name)
		require.ErrorIs(t, err, knowledge.ErrNoSource, name)
		require.ErrorIs(t, err, knowledge.ErrNotFound, name)
	}
}

func TestSourcePageNeverShowsTheSourceOfAnotherTenant(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := newTenant(t, b.pool)
	b.ingestDir(t, other)

	_, err := knowledge.SourcePage(b.ctx, b.pool, b.tenant, "tributi/tari.md")
	require.ErrorIs(t, err, knowledge.ErrNoSource)

	page, err := knowledge.SourcePage(b.ctx, b.pool, other, "tributi/tari.md")
	require.NoError(t, err)
	require.Equal(t, other, page.TenantID)
}

// A shared knowledge base is seen by every tenant's search, so this test does
// not run in parallel with the others, and unshares the tenant when it ends
// (see search_test.go).
func TestSourcePageShowsTheSourcesOfASharedKnowledgeBase(t *testing.T) {
	b := setup(t)
	b.ingestDir(t, b.tenant)
	metro := newTenant(t, b.pool)
	for name, body := range map[string]string{
		"trasporti/abbonamento.md": "# Abbonamento metropolitano\n\n## Studenti\n\nGli studenti under 26 pagano 200 euro.\n",
		"tributi/tari.md":          "# TARI nella Città Metropolitana\n\nOgni Comune fissa le proprie scadenze.\n",
	} {
		_, err := knowledge.Ingest(b.ctx, b.pool, b.emb, metro, knowledge.Source{Name: name, Format: knowledge.Markdown, Body: body})
		require.NoError(t, err)
	}
	require.NoError(t, knowledge.SetShared(b.ctx, b.pool, metro, true))
	t.Cleanup(func() { require.NoError(t, knowledge.SetShared(context.Background(), b.pool, metro, false)) })

	t.Run("a source only the shared base has is the shared tenant's", func(t *testing.T) {
		page, err := knowledge.SourcePage(b.ctx, b.pool, b.tenant, "trasporti/abbonamento.md")
		require.NoError(t, err)
		require.Equal(t, metro, page.TenantID)
		require.Equal(t, "Abbonamento metropolitano", page.Title)
		require.Equal(t, []knowledge.Chunk{{Title: "Abbonamento metropolitano", SectionPath: "Studenti",
			Text: "Gli studenti under 26 pagano 200 euro."}}, page.Chunks)
	})
	t.Run("the tenant's own source comes before the shared one of the same name", func(t *testing.T) {
		page, err := knowledge.SourcePage(b.ctx, b.pool, b.tenant, "tributi/tari.md")
		require.NoError(t, err)
		require.Equal(t, b.tenant, page.TenantID)
		require.Equal(t, "TARI - Tassa sui rifiuti", page.Title)
	})
	t.Run("a base that is not shared any more is not shown", func(t *testing.T) {
		require.NoError(t, knowledge.SetShared(b.ctx, b.pool, metro, false))
		_, err := knowledge.SourcePage(b.ctx, b.pool, b.tenant, "trasporti/abbonamento.md")
		require.ErrorIs(t, err, knowledge.ErrNoSource)
	})
}

func TestSourcePageDoesNotRepeatTheOverlapOfAParagraphCutForLength(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var sentences []string
	for i := range 40 {
		sentences = append(sentences, "La frase numero "+strings.Repeat("molto ", i%5)+"lunga del regolamento comunale sui rifiuti ingombranti, "+
			"che vale per il quartiere "+string(rune('A'+i%26))+".")
	}
	paragraph := strings.Join(sentences, " ")
	src := knowledge.Source{Name: "regolamento.txt", Title: "Regolamento", Format: knowledge.Text,
		Body: "Introduzione breve.\n\n" + paragraph}
	_, err := knowledge.Ingest(b.ctx, b.pool, b.emb, b.tenant, src)
	require.NoError(t, err)
	_, stored, err := knowledge.Split(src)
	require.NoError(t, err)
	require.Greater(t, len(stored), 2, "the paragraph is cut for length")
	require.Greater(t, len(strings.Join(chunkTexts(stored), " ")), len(src.Body), "the stored chunks repeat the overlap")

	page, err := knowledge.SourcePage(b.ctx, b.pool, b.tenant, "regolamento.txt")

	require.NoError(t, err)
	require.Len(t, page.Chunks, len(stored))
	require.Equal(t, "Introduzione breve. "+paragraph, strings.Join(chunkTexts(page.Chunks), " "),
		"the passages read one after the other are the document, once")
}

func chunkTexts(chunks []knowledge.Chunk) []string {
	var out []string
	for _, c := range chunks {
		out = append(out, c.Text)
	}
	return out
}
