package widget

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/knowledge"
)

func text(s string) []span { return []span{{Text: s}} }

func TestSourceTextBlocks(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, text string
		want       []textBlock
	}{
		{"paragraphs are split on blank lines and joined within",
			"Prima riga\nseconda riga.\n\n\nAltro paragrafo.",
			[]textBlock{{Kind: "p", Spans: text("Prima riga seconda riga.")}, {Kind: "p", Spans: text("Altro paragrafo.")}}},
		{"a list goes on after a blank line, and ends at a paragraph",
			"- uno\n- due\n  e mezzo\n\n- tre\n\nFine.",
			[]textBlock{{Kind: "ul", Items: [][]span{text("uno"), text("due e mezzo"), text("tre")}}, {Kind: "p", Spans: text("Fine.")}}},
		{"a numbered list keeps its first number",
			"4. quarto\n5) quinto",
			[]textBlock{{Kind: "ol", Start: 4, Items: [][]span{text("quarto"), text("quinto")}}}},
		{"a list of another kind is another list",
			"- punto\n1. primo",
			[]textBlock{{Kind: "ul", Items: [][]span{text("punto")}}, {Kind: "ol", Start: 1, Items: [][]span{text("primo")}}}},
		{"a quotation takes its lines",
			"> Pagina dimostrativa:\n>\n> importi di esempio.\nIntro.",
			[]textBlock{{Kind: "quote", Spans: text("Pagina dimostrativa: importi di esempio. Intro.")}}},
		{"strong text and links, and what only looks like them",
			"Allo **Sportello** o su [ANPR](https://www.anpr.interno.it/), non [qui](javascript:alert(1)); 2 ** 3",
			[]textBlock{{Kind: "p", Spans: []span{
				{Text: "Allo "}, {Text: "Sportello", Strong: true}, {Text: " o su "},
				{Text: "ANPR", URL: "https://www.anpr.interno.it/"},
				{Text: ", non [qui](javascript:alert(1)); 2 ** 3"},
			}}}},
		{"HTML is text", `<a href="x">y</a>`, []textBlock{{Kind: "p", Spans: text(`<a href="x">y</a>`)}}},
	} {
		require.Equal(t, c.want, textBlocks(c.text), c.name)
	}
}

func TestSourceSectionsHaveTheHeadingsTheyAdd(t *testing.T) {
	t.Parallel()
	chunks := []knowledge.Chunk{
		{Text: "Introduzione."},
		{SectionPath: "Come fare", Text: "Passi."},
		{SectionPath: "Come fare", Text: "Altri passi."},
		{SectionPath: "Come fare > Online", Text: "Con SPID."},
		{SectionPath: "Come fare > Allo sportello", Text: "Con un documento."},
		{SectionPath: "Costi > Esenzioni > Casi > Altri > Ancora", Text: "Nessuno."},
		{SectionPath: "Costi", Text: "Di nuovo."},
	}
	var got [][]sourceHeading
	for _, s := range sections(chunks) {
		got = append(got, s.Headings)
	}
	require.Equal(t, [][]sourceHeading{
		nil,
		{{2, "Come fare"}},
		{{3, "Online"}},
		{{3, "Allo sportello"}},
		{{2, "Costi"}, {3, "Esenzioni"}, {4, "Casi"}, {5, "Altri"}, {6, "Ancora"}},
		{{2, "Costi"}},
	}, got)
	require.Len(t, sections(chunks)[1].Blocks, 2, "passages of one section are one section")
}
