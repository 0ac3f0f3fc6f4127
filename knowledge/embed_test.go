package knowledge

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func cosine(a, b []float32) float64 {
	var dot float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
	}
	return dot
}

func embed(t *testing.T, text string) []float32 {
	t.Helper()
	v, err := LocalEmbedder{}.EmbedQuery(context.Background(), text)
	require.NoError(t, err)
	return v
}

func TestLocalEmbedderIsNormalisedAndDeterministic(t *testing.T) {
	a := embed(t, "Come si richiede la carta d'identità elettronica?")
	b := embed(t, "Come si richiede la carta d'identità elettronica?")
	require.Equal(t, a, b)
	require.Len(t, a, LocalDimensions)
	var sum float64
	for _, x := range a {
		sum += float64(x) * float64(x)
	}
	require.InDelta(t, 1, math.Sqrt(sum), 1e-5)
}

func TestLocalEmbedderOfEmptyTextIsZero(t *testing.T) {
	for _, x := range embed(t, " ... ") {
		require.Zero(t, x)
	}
}

func TestLocalEmbedderRanksSimilarAboveUnrelated(t *testing.T) {
	tests := []struct {
		name, query, similar, unrelated string
	}{
		{"paraphrase", "Come richiedere la carta di identità",
			"Richiesta della carta d'identità elettronica all'anagrafe",
			"Pagamento della tassa sui rifiuti TARI"},
		{"inflection", "iscrizione alla mensa scolastica",
			"Per iscriversi al servizio di mensa delle scuole",
			"Permesso di accesso alla ZTL per i residenti"},
		{"typo", "cambio di residneza",
			"Cambio di residenza: dichiarazione all'anagrafe",
			"Certificato di nascita e stato di famiglia"},
		{"accents", "identita",
			"carta d'identità",
			"mensa scolastica"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := embed(t, tt.query)
			sim, unrel := cosine(q, embed(t, tt.similar)), cosine(q, embed(t, tt.unrelated))
			require.Greater(t, sim, unrel, "similar %.3f, unrelated %.3f", sim, unrel)
		})
	}
}

func TestLocalEmbedderEmbedsDocumentsLikeQueries(t *testing.T) {
	docs, err := LocalEmbedder{}.EmbedDocuments(context.Background(), []string{"TARI", "ZTL"})
	require.NoError(t, err)
	require.Equal(t, [][]float32{embed(t, "TARI"), embed(t, "ZTL")}, docs)
}

func TestStemItalianBringsInflectionsTogether(t *testing.T) {
	require.Equal(t, stemItalian("residenza"), stemItalian("residenze"))
	require.Equal(t, stemItalian("scolastica"), stemItalian("scolastico"))
	require.Equal(t, "tari", stemItalian("tari"), "short words are kept whole")
}
