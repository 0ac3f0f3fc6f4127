package knowledge_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/knowledge"
)

func TestSourcesListsEachSourceWithItsChunks(t *testing.T) {
	b := setup(t)
	b.ingestDir(t, b.tenant)
	_, err := knowledge.Ingest(b.ctx, b.pool, b.emb, b.tenant, knowledge.Source{
		Name: "https://www.comune.example.it/servizi/tari", URL: "https://www.comune.example.it/servizi/tari",
		Title: "TARI online", Format: knowledge.Text, Body: "La TARI si paga con pagoPA.",
	})
	require.NoError(t, err)

	sources, err := knowledge.Sources(b.ctx, b.pool, b.tenant)

	require.NoError(t, err)
	var names []string
	for _, s := range sources {
		names = append(names, s.Name)
	}
	require.Equal(t, []string{"anagrafe/carta-identita.md", "https://www.comune.example.it/servizi/tari",
		"scuola/mensa.md", "tributi/tari.md"}, names, "by name")
	byName := map[string]knowledge.SourceInfo{}
	for _, s := range sources {
		byName[s.Name] = s
	}
	carta := byName["anagrafe/carta-identita.md"]
	require.Equal(t, "Carta d'identità elettronica", carta.Title)
	require.Equal(t, knowledge.Markdown, carta.Format)
	require.Empty(t, carta.URL)
	require.False(t, carta.UpdatedAt.IsZero())
	var chunks int
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*) FROM knowledge_chunks c JOIN knowledge_sources s
		ON s.tenant_id = c.tenant_id AND s.id = c.source_id WHERE s.tenant_id = $1 AND s.name = $2`,
		b.tenant, carta.Name).Scan(&chunks))
	require.Greater(t, chunks, 1)
	require.Equal(t, chunks, carta.Chunks)
	page := byName["https://www.comune.example.it/servizi/tari"]
	require.Equal(t, "TARI online", page.Title)
	require.Equal(t, "https://www.comune.example.it/servizi/tari", page.URL)
	require.Equal(t, knowledge.Text, page.Format)
	require.Equal(t, 1, page.Chunks)
}

func TestSourcesNeverListsAnotherTenantsSources(t *testing.T) {
	b := setup(t)
	other := newTenant(t, b.pool)
	b.ingestDir(t, other)

	mine, err := knowledge.Sources(b.ctx, b.pool, b.tenant)
	require.NoError(t, err)
	theirs, err := knowledge.Sources(b.ctx, b.pool, other)
	require.NoError(t, err)

	require.Empty(t, mine)
	require.Len(t, theirs, len(fixture))
}
