package knowledge_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/knowledge"
)

func (b *bundle) upload(t *testing.T, filename string, data []byte) (knowledge.Outcome, error) {
	t.Helper()
	return knowledge.IngestUpload(b.ctx, b.pool, b.emb, b.tenant, filename, bytes.NewReader(data))
}

func (b *bundle) sourceNames(t *testing.T) []string {
	t.Helper()
	rows, err := b.pool.Query(b.ctx, `SELECT name FROM knowledge_sources WHERE tenant_id = $1 ORDER BY name`, b.tenant)
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

func TestIngestUploadStoresAFileByItsName(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := []byte("# Passo carrabile\n\n## Come si chiede\n\nIl passo carrabile si chiede all'ufficio tecnico con la marca da bollo.\n")
	out, err := b.upload(t, `C:\fakepath\passo-carrabile.md`, body)
	require.NoError(t, err)
	require.Equal(t, knowledge.Added, out)
	require.Equal(t, []string{"passo-carrabile.md"}, b.sourceNames(t))

	res := b.search(t, b.tenant, "come chiedo il passo carrabile")
	require.Equal(t, "passo-carrabile.md", res[0].SourceName)
	require.Equal(t, "Come si chiede", res[0].SectionPath)

	out, err = b.upload(t, "passo-carrabile.md", body)
	require.NoError(t, err)
	require.Equal(t, knowledge.Unchanged, out)

	out, err = b.upload(t, "passo-carrabile.md", append(body, "\nServe anche la planimetria.\n"...))
	require.NoError(t, err)
	require.Equal(t, knowledge.Replaced, out)
}

func TestIngestUploadIngestsAPDF(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out, err := b.upload(t, "bando affitti.pdf", bando.build())
	require.NoError(t, err)
	require.Equal(t, knowledge.Added, out)
	res := b.search(t, b.tenant, "entro quando si presenta la domanda per il contributo affitto?")
	require.Equal(t, "bando affitti.pdf", res[0].SourceName)
	require.Equal(t, "Come presentare la domanda > Pagina 2", res[0].SectionPath)
}

func TestIngestUploadReadsWindows1252Text(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// "Il certificato è gratuito per la città." in Windows-1252.
	_, err := b.upload(t, "certificati.txt", []byte("Il certificato \xe8 gratuito per la citt\xe0."))
	require.NoError(t, err)
	res := b.search(t, b.tenant, "certificato gratuito")
	require.Equal(t, "Il certificato è gratuito per la città.", res[0].Text)
}

func TestIngestUploadRefusesWhatIsNotADocument(t *testing.T) {
	t.Parallel()
	b := setup(t)
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")
	tests := []struct {
		name     string
		filename string
		data     []byte
		want     error
	}{
		{"an image", "stemma.png", png, knowledge.ErrUnsupportedType},
		{"a word processor file", "delibera.docx", []byte("PK\x03\x04"), knowledge.ErrUnsupportedType},
		{"no extension", "README", []byte("Testo."), knowledge.ErrUnsupportedType},
		{"an image named as text", "stemma.txt", png, knowledge.ErrUnsupportedType},
		{"a PDF named as Markdown", "bando.md", bando.build(), knowledge.ErrUnsupportedType},
		{"text named as a PDF", "bando.pdf", []byte("Contributo per l'affitto"), knowledge.ErrUnsupportedType},
		{"a damaged PDF", "bando.pdf", bando.build()[:400], knowledge.ErrInvalidPDF},
		{"too large a text", "grande.txt", bytes.Repeat([]byte("a"), knowledge.MaxTextSize+1), knowledge.ErrTooLarge},
		{"too large a PDF", "grande.pdf", append(bando.build(), bytes.Repeat([]byte(" "), knowledge.MaxPDFSize)...), knowledge.ErrTooLarge},
		{"no name", `C:\fakepath\`, []byte("Testo."), knowledge.ErrInvalidName},
		{"a directory's name", "../..", []byte("Testo."), knowledge.ErrInvalidName},
		{"too long a name", strings.Repeat("a", 300) + ".txt", []byte("Testo."), knowledge.ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.upload(t, tt.filename, tt.data)
			require.ErrorIs(t, err, tt.want)
		})
	}
	require.Empty(t, b.sourceNames(t), "nothing was stored")
}

func TestSanitizeFileName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"tari.md", "tari.md"},
		{`C:\fakepath\bando.pdf`, "bando.pdf"},
		{"documenti/scuola/mensa.html", "mensa.html"},
		{"  orari uffici.txt ", "orari uffici.txt"},
		{"riga\nnuova\x00.txt", "riganuova.txt"},
		// A right-to-left override would show "evil\u202Efdp.exe" as "evilexe.pdf".
		{"evil\u202Efdp.exe", "evilfdp.exe"},
		{"città è.md", "città è.md"},
	}
	for _, tt := range tests {
		got, err := knowledge.SanitizeFileName(tt.in)
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}
}
