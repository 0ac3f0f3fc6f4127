package knowledge

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestSplitMarkdownKeepsHeadingsWithTheirParagraphs(t *testing.T) {
	body := `# Carta d'identità elettronica

La CIE è il documento di identità dei cittadini italiani.

## Come richiederla

Prenota un appuntamento all'anagrafe.

Porta con te:

- una fototessera recente;
- la vecchia carta d'identità;

- la ricevuta del pagamento di 22,21 euro.

### Per i minori

Serve la presenza di entrambi i genitori.

## Costi

22,21 euro.
`
	title, chunks, err := Split(Source{Name: "cie.md", Format: Markdown, Body: body})
	require.NoError(t, err)
	require.Equal(t, "Carta d'identità elettronica", title)
	var paths []string
	for _, c := range chunks {
		require.Equal(t, title, c.Title)
		paths = append(paths, c.SectionPath)
	}
	require.Equal(t, []string{"", "Come richiederla", "Come richiederla > Per i minori", "Costi"}, paths)
	require.Contains(t, chunks[1].Text, "Prenota un appuntamento")
	require.Contains(t, chunks[1].Text, "- una fototessera recente;\n- la vecchia carta d'identità;\n\n- la ricevuta", "the list stays whole")
}

func TestSplitLongSectionIntoOverlappingChunks(t *testing.T) {
	sentence := "Il servizio è gestito dall'ufficio anagrafe del Comune. "
	var paras []string
	for range 12 {
		paras = append(paras, strings.Repeat(sentence, 4))
	}
	body := "# Anagrafe\n\n## Orari\n\n" + strings.Join(paras, "\n\n") + "\n\n" + strings.Repeat(sentence, 60)
	_, chunks, err := Split(Source{Name: "a.md", Format: Markdown, Body: body})
	require.NoError(t, err)
	require.Greater(t, len(chunks), 3)
	for _, c := range chunks {
		require.Equal(t, "Orari", c.SectionPath)
		require.LessOrEqual(t, utf8.RuneCountInString(c.Text), maxChunk)
	}
	last, prev := chunks[len(chunks)-1], chunks[len(chunks)-2]
	require.True(t, strings.Contains(prev.Text, last.Text[:40]), "a split paragraph overlaps")
}

func TestSplitPlainTextTakesTheTitleFromTheName(t *testing.T) {
	title, chunks, err := Split(Source{Name: "servizi/orari-uffici.txt", Format: Text, Body: "Primo paragrafo.\n\nSecondo paragrafo."})
	require.NoError(t, err)
	require.Equal(t, "orari-uffici", title)
	require.Len(t, chunks, 1)
	require.Equal(t, "Primo paragrafo.\n\nSecondo paragrafo.", chunks[0].Text)
}

func TestSplitHTMLKeepsOnlyTheMainContent(t *testing.T) {
	page := `<!doctype html><html><head><title>TARI | Comune</title><style>p{}</style></head>
<body><header><nav><a href="/">Home</a> <a href="/servizi">Servizi</a></nav></header>
<main><h1>Tassa sui rifiuti (TARI)</h1><p>La TARI si paga in <b>due rate</b>.</p>
<h2>Scadenze</h2><ul><li>16 maggio</li><li>16 novembre</li></ul>
<aside>Potrebbe interessarti anche...</aside><script>track()</script></main>
<footer>Comune di Esempio - P.IVA 00000000000</footer></body></html>`
	title, chunks, err := Split(Source{Name: "https://example.org/tari", Format: HTML, Body: page})
	require.NoError(t, err)
	require.Equal(t, "Tassa sui rifiuti (TARI)", title)
	require.Len(t, chunks, 2)
	require.Equal(t, "La TARI si paga in due rate.", chunks[0].Text)
	require.Equal(t, "Scadenze", chunks[1].SectionPath)
	require.Equal(t, "- 16 maggio\n- 16 novembre", chunks[1].Text)
	all := chunks[0].Text + chunks[1].Text
	for _, junk := range []string{"Home", "Servizi", "interessarti", "track", "P.IVA"} {
		require.NotContains(t, all, junk)
	}
}

func TestSplitRejectsAnUnknownFormat(t *testing.T) {
	_, _, err := Split(Source{Name: "x.docx", Format: "docx"})
	require.ErrorIs(t, err, ErrUnknownFormat)
}
