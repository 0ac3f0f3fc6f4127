package knowledge_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/knowledge"
)

// pdfLine is a line of text of a hand-made PDF.
type pdfLine struct {
	text   string
	size   float64 // font size in points; 11 when zero
	bold   bool
	gap    float64 // extra space above the line, in points: a new paragraph
	kerned bool    // words positioned one by one (a TJ array), without spaces
}

// pdfFile describes a hand-made PDF.
type pdfFile struct {
	version   string // "1.4" when empty
	title     string // the Info dictionary's Title, if any
	pages     [][]pdfLine
	contents  []string // raw content streams, used instead of pages when set
	count     int      // the page count the page tree claims, when not zero
	encrypted bool     // protected by a (unknown) user password
}

// build writes the PDF: Helvetica and Helvetica-Bold with WinAnsiEncoding and
// a width of 500 for every character, one line per text object, from the top
// of an A4 page down.
func (f pdfFile) build() []byte {
	contents := f.contents
	for _, lines := range f.pages {
		var c strings.Builder
		y := 800.0
		for _, l := range lines {
			size := l.size
			if size == 0 {
				size = 11
			}
			y -= size*1.2 + l.gap
			font := "F1"
			if l.bold {
				font = "F2"
			}
			show := "(" + pdfString(l.text) + ") Tj"
			if l.kerned {
				words := strings.Fields(l.text)
				for i := range words {
					words[i] = "(" + pdfString(words[i]) + ")"
				}
				show = "[" + strings.Join(words, " -300 ") + "] TJ"
			}
			fmt.Fprintf(&c, "BT /%s %g Tf 1 0 0 1 72 %g Tm %s ET\n", font, size, y, show)
		}
		contents = append(contents, c.String())
	}

	var objs []string
	add := func(o string) int { objs = append(objs, o); return len(objs) }
	add("<< /Type /Catalog /Pages 2 0 R >>")
	add("") // the page tree, once the pages are known
	widths := strings.TrimSpace(strings.Repeat("500 ", 224))
	add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 255 /Widths [" + widths + "] >>")
	add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 255 /Widths [" + widths + "] >>")
	info := add(fmt.Sprintf("<< /Title (%s) /Producer (Dialogo tests) >>", pdfString(f.title)))
	var kids []string
	for _, c := range contents {
		stream := add(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(c), c))
		page := add(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>", stream))
		kids = append(kids, fmt.Sprintf("%d 0 R", page))
	}
	count := f.count
	if count == 0 {
		count = len(kids)
	}
	objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), count)
	trailer := fmt.Sprintf("/Size %d /Root 1 0 R /Info %d 0 R", len(objs)+1, info)
	if f.encrypted {
		// Any O and U entries that the empty password does not open.
		enc := add("<< /Filter /Standard /V 1 /R 2 /O <" + strings.Repeat("ab", 32) + "> /U <" + strings.Repeat("cd", 32) + "> /P -4 >>")
		trailer = fmt.Sprintf("/Size %d /Root 1 0 R /Info %d 0 R /Encrypt %d 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]", len(objs)+1, info, enc)
	}

	version := f.version
	if version == "" {
		version = "1.4"
	}
	var b bytes.Buffer
	b.WriteString("%PDF-" + version + "\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< %s >>\nstartxref\n%d\n%%%%EOF\n", trailer, xref)
	return b.Bytes()
}

// pdfString writes text as a PDF literal string in WinAnsiEncoding.
func pdfString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '’':
			b.WriteByte(0x92)
		case r == '•':
			b.WriteByte(0x95)
		case r == '€':
			b.WriteByte(0x80)
		case r < 256:
			b.WriteByte(byte(r))
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// bando is a two-page notice of a Comune: a title, headings in a larger font
// and in bold, paragraphs spread over lines (one word hyphenated), a list,
// and words positioned one by one.
var bando = pdfFile{title: "Microsoft Word - bando_affitti_2026.docx", pages: [][]pdfLine{{
	{text: "Contributo per l’affitto 2026", size: 20, bold: true},
	{text: "Il Comune di Prova sostiene le famiglie che pagano un affitto.", gap: 10},
	{text: "Requisiti", size: 14, bold: true, gap: 10},
	{text: "Possono chiedere il contri-", gap: 6},
	{text: "buto i residenti con un ISEE fino a 15.000 euro e un contratto"},
	{text: "di locazione registrato per un’abitazione in città."},
	{text: "Documenti necessari", bold: true, gap: 10},
	{text: "• copia del contratto di locazione", gap: 6},
	{text: "• attestazione ISEE in corso di validità"},
	{text: "• ricevute del canone pagato"},
}, {
	{text: "Come presentare la domanda", size: 14, bold: true},
	{text: "La domanda si presenta online con SPID o CIE entro il 30 settembre 2026", gap: 6, kerned: true},
	{text: "dallo sportello telematico del Comune."},
}}}

func TestSplitExtractsAPDFsTextWithHeadingsAndPages(t *testing.T) {
	t.Parallel()
	title, chunks, err := knowledge.Split(knowledge.Source{Name: "bando.pdf", Format: knowledge.PDF, Body: string(bando.build())})
	require.NoError(t, err)
	require.Equal(t, "Contributo per l’affitto 2026", title, "the opening heading, not the Title property of a Word file")

	sections := map[string]string{}
	for _, c := range chunks {
		require.Equal(t, title, c.Title)
		sections[c.SectionPath] += c.Text
	}
	require.Equal(t, map[string]string{
		"Pagina 1": "Il Comune di Prova sostiene le famiglie che pagano un affitto.",
		"Requisiti > Pagina 1": "Possono chiedere il contributo i residenti con un ISEE fino a 15.000 euro e un contratto " +
			"di locazione registrato per un’abitazione in città.",
		"Requisiti > Documenti necessari > Pagina 1": "- copia del contratto di locazione\n" +
			"- attestazione ISEE in corso di validità\n- ricevute del canone pagato",
		"Come presentare la domanda > Pagina 2": "La domanda si presenta online con SPID o CIE entro il 30 settembre 2026 " +
			"dallo sportello telematico del Comune.",
	}, sections)
}

func TestSplitTakesAPDFsTitleFromItsPropertiesWithoutAnOpeningHeading(t *testing.T) {
	t.Parallel()
	doc := pdfFile{title: "Orari degli uffici", pages: [][]pdfLine{{
		{text: "Gli uffici sono aperti dal lunedì al venerdì dalle 9 alle 12."},
	}}}
	title, chunks, err := knowledge.Split(knowledge.Source{Name: "orari.pdf", Format: knowledge.PDF, Body: string(doc.build())})
	require.NoError(t, err)
	require.Equal(t, "Orari degli uffici", title)
	require.Len(t, chunks, 1)
	require.Equal(t, "Pagina 1", chunks[0].SectionPath)
	require.Equal(t, "Gli uffici sono aperti dal lunedì al venerdì dalle 9 alle 12.", chunks[0].Text)
}

func TestSplitDropsAPDFsRunningHeadersAndPageNumbers(t *testing.T) {
	t.Parallel()
	var doc pdfFile
	for i, text := range []string{
		"La raccolta della carta è il martedì.",
		"La raccolta del vetro è il giovedì.",
		"La raccolta dell’umido è il lunedì e il venerdì.",
	} {
		doc.pages = append(doc.pages, []pdfLine{
			{text: "Comune di Prova - Calendario della raccolta " + fmt.Sprint(2026), size: 9},
			{text: text, gap: 20},
			{text: fmt.Sprintf("Pagina %d di 3", i+1), size: 9, gap: 600},
		})
	}
	_, chunks, err := knowledge.Split(knowledge.Source{Name: "raccolta.pdf", Format: knowledge.PDF, Body: string(doc.build())})
	require.NoError(t, err)
	var texts []string
	for _, c := range chunks {
		texts = append(texts, c.SectionPath+": "+c.Text)
	}
	require.Equal(t, []string{
		"Pagina 1: La raccolta della carta è il martedì.",
		"Pagina 2: La raccolta del vetro è il giovedì.",
		"Pagina 3: La raccolta dell’umido è il lunedì e il venerdì.",
	}, texts)
}

func TestSplitReadsAPDF20(t *testing.T) {
	t.Parallel()
	doc := pdfFile{version: "2.0", pages: [][]pdfLine{{{text: "Il mercato settimanale si tiene il sabato."}}}}
	_, chunks, err := knowledge.Split(knowledge.Source{Name: "mercato.pdf", Format: knowledge.PDF, Body: string(doc.build())})
	require.NoError(t, err)
	require.Len(t, chunks, 1)
	require.Equal(t, "Il mercato settimanale si tiene il sabato.", chunks[0].Text)
}

func TestSplitRefusesPDFsItCannotRead(t *testing.T) {
	t.Parallel()
	good := bando.build()
	tests := []struct {
		name string
		body string
		want error
	}{
		{"not a PDF", "# Titolo\n\nTesto.", knowledge.ErrInvalidPDF},
		{"truncated", string(good[:len(good)/2]), knowledge.ErrInvalidPDF},
		{"damaged cross-reference table", strings.Replace(string(good), "xref\n0 ", "xref\nx ", 1), knowledge.ErrInvalidPDF},
		// A Tf operator with one operand makes the library panic.
		{"malformed content stream", string(pdfFile{contents: []string{"BT /F1 Tf (Testo) Tj ET"}}.build()), knowledge.ErrInvalidPDF},
		{"protected by a password", string(pdfFile{encrypted: true, pages: bando.pages}.build()), knowledge.ErrEncryptedPDF},
		{"without text", string(pdfFile{contents: []string{"0 0 m 100 100 l S"}}.build()), knowledge.ErrNoText},
		{"too many pages", string(pdfFile{count: knowledge.MaxPDFPages + 1, pages: bando.pages}.build()), knowledge.ErrTooLarge},
		{"too many bytes", string(good) + strings.Repeat(" ", knowledge.MaxPDFSize), knowledge.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := knowledge.Split(knowledge.Source{Name: "bando.pdf", Format: knowledge.PDF, Body: tt.body})
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestIngestDirIngestsPDFsAndSkipsThemWhenUnchanged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.write(t, "casa/bando-affitti.pdf", string(bando.build()))
	require.Equal(t, knowledge.DirReport{Added: 4}, b.ingestDir(t, b.tenant))

	res := b.search(t, b.tenant, "quali documenti servono per il contributo affitto?")
	require.NotEmpty(t, res)
	require.Equal(t, "casa/bando-affitti.pdf", res[0].SourceName)
	require.Equal(t, "Contributo per l’affitto 2026", res[0].Title)
	require.Equal(t, "Requisiti > Documenti necessari > Pagina 1", res[0].SectionPath)
	require.Contains(t, res[0].Text, "attestazione ISEE")

	before := b.chunkIDs(t)
	require.Equal(t, knowledge.DirReport{Unchanged: 4}, b.ingestDir(t, b.tenant))
	require.Equal(t, before, b.chunkIDs(t))
}

func TestACorruptPDFLeavesThePreviousVersionOfItsSource(t *testing.T) {
	t.Parallel()
	b := setup(t)
	good := bando.build()
	out, err := knowledge.Ingest(b.ctx, b.pool, b.emb, b.tenant, knowledge.Source{Name: "bando.pdf", Format: knowledge.PDF, Body: string(good)})
	require.NoError(t, err)
	require.Equal(t, knowledge.Added, out)
	before := b.chunkIDs(t)

	_, err = knowledge.Ingest(b.ctx, b.pool, b.emb, b.tenant, knowledge.Source{Name: "bando.pdf", Format: knowledge.PDF, Body: string(good[:len(good)-200])})
	require.ErrorIs(t, err, knowledge.ErrInvalidPDF)
	require.Equal(t, before, b.chunkIDs(t))
	require.Equal(t, "bando.pdf", b.search(t, b.tenant, "contributo affitto ISEE")[0].SourceName)

	out, err = knowledge.Ingest(b.ctx, b.pool, b.emb, b.tenant, knowledge.Source{Name: "bando.pdf", Format: knowledge.PDF, Body: string(good)})
	require.NoError(t, err)
	require.Equal(t, knowledge.Unchanged, out, "the stored hash is still the good file's")
}

func TestFormatOfKnowsPDFs(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"bando.pdf", "BANDO.PDF"} {
		f, ok := knowledge.FormatOf(name)
		require.True(t, ok)
		require.Equal(t, knowledge.PDF, f)
	}
	_, ok := knowledge.FormatOf("foto.png")
	require.False(t, ok)
}
