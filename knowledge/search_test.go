package knowledge_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/knowledge"
)

// The tests of the shared knowledge base mark a tenant shared, which every
// search of the package's database then sees, so they do not run in parallel
// (Go runs them before the parallel tests) and unmark it when they end.

// metropolitan makes a tenant with a shared knowledge base of the given pages.
func (b *bundle) metropolitan(t *testing.T, pages map[string]string) int64 {
	t.Helper()
	id := newTenant(t, b.pool)
	for name, body := range pages {
		_, err := knowledge.Ingest(b.ctx, b.pool, b.emb, id, knowledge.Source{Name: name, Format: knowledge.Markdown, Body: body})
		require.NoError(t, err)
	}
	require.NoError(t, knowledge.SetShared(b.ctx, b.pool, id, true))
	t.Cleanup(func() { require.NoError(t, knowledge.SetShared(context.Background(), b.pool, id, false)) })
	return id
}

// describe lists search results, for failure messages.
func describe(res []knowledge.Result) string {
	var b strings.Builder
	for _, r := range res {
		fmt.Fprintf(&b, "%.4f sim=%.3f shared=%t v%d t%d %s > %s\n", r.Score, r.Similarity, r.Shared, r.VectorRank, r.TextRank, r.SourceName, r.SectionPath)
	}
	return b.String()
}

var metropolitanPages = map[string]string{
	"tari.md": `# TARI nei Comuni della Città Metropolitana

## Scadenze e pagamento

Ogni Comune fissa le proprie scadenze della TARI; di solito si paga in due rate, con l'avviso pagoPA.
`,
	"trasporti/abbonamento.md": `# Abbonamento ai trasporti pubblici metropolitani

## Studenti

Gli studenti under 26 residenti nella Città Metropolitana hanno l'abbonamento annuale ai mezzi pubblici
(metro, tram, autobus e treni suburbani) a prezzo ridotto: 200 euro invece di 330.
Si richiede online con SPID, allegando il certificato di iscrizione alla scuola o all'università.
`,
}

func TestOwnAnswersComeBeforeTheSharedOnes(t *testing.T) {
	b := setup(t)
	b.ingestDir(t, b.tenant)
	metro := b.metropolitan(t, metropolitanPages)

	for _, q := range []string{"quando si paga la TARI?", "scadenze della tassa sui rifiuti", "TARI pagamento"} {
		res := b.search(t, b.tenant, q)
		require.NotEmpty(t, res)
		require.Equal(t, b.tenant, res[0].TenantID, "%s\n%s", q, describe(res))
		require.False(t, res[0].Shared)
		require.Equal(t, "tributi/tari.md", res[0].SourceName, q)
		var shared *knowledge.Result
		for i, r := range res {
			if r.Shared {
				shared = &res[i]
				break
			}
		}
		require.NotNil(t, shared, "the shared base answers too: %s", q)
		require.Equal(t, metro, shared.TenantID)
		require.Equal(t, "tari.md", shared.SourceName)
	}
}

func TestTheSharedBaseAnswersWhatTheOwnOneDoesNot(t *testing.T) {
	b := setup(t)
	b.ingestDir(t, b.tenant)
	metro := b.metropolitan(t, metropolitanPages)

	for _, q := range []string{"abbonamento ai mezzi pubblici per studenti", "quanto costa l'abbonamento del tram per uno studente universitario?"} {
		res := b.search(t, b.tenant, q)
		require.NotEmpty(t, res)
		require.True(t, res[0].Shared, "%s\n%s", q, describe(res))
		require.Equal(t, metro, res[0].TenantID)
		require.Equal(t, "trasporti/abbonamento.md", res[0].SourceName)
	}
	// The shared tenant searches its own base as any tenant does.
	res := b.search(t, metro, "abbonamento studenti")
	require.Equal(t, metro, res[0].TenantID)
	require.False(t, res[0].Shared)
}

func TestOnlySharedBasesAreSearchedBesideTheOwnOne(t *testing.T) {
	b := setup(t)
	b.ingestDir(t, b.tenant)
	other := newTenant(t, b.pool)
	_, err := knowledge.Ingest(b.ctx, b.pool, b.emb, other, knowledge.Source{Name: "abbonamento.md", Format: knowledge.Markdown,
		Body: "# Abbonamento ai mezzi pubblici\n\nGli studenti del Comune vicino hanno l'abbonamento ai mezzi pubblici gratis."})
	require.NoError(t, err)

	seen := func(q string) map[int64]bool {
		tenants := map[int64]bool{}
		for _, r := range b.search(t, b.tenant, q) {
			tenants[r.TenantID] = true
		}
		return tenants
	}
	require.Equal(t, map[int64]bool{b.tenant: true}, seen("abbonamento ai mezzi pubblici per studenti"))

	metro := b.metropolitan(t, metropolitanPages)
	require.Equal(t, map[int64]bool{b.tenant: true, metro: true}, seen("abbonamento ai mezzi pubblici per studenti"))

	require.NoError(t, knowledge.SetShared(b.ctx, b.pool, metro, false))
	require.Equal(t, map[int64]bool{b.tenant: true}, seen("abbonamento ai mezzi pubblici per studenti"))

	require.ErrorIs(t, knowledge.SetShared(b.ctx, b.pool, -1, true), knowledge.ErrNotFound)
}
