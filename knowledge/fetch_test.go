package knowledge_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/knowledge"
)

// bonusPage is a Comune's page with the navigation, header, footer and
// cookie banner around its main content.
const bonusPage = `<!DOCTYPE html>
<html lang="it"><head><title>Bonus idrico | Comune di Prova</title></head>
<body>
<header><a href="/">Comune di Prova</a><nav><ul><li>Amministrazione</li><li>Novità</li><li>Servizi</li></ul></nav></header>
<div class="cookiebar"><form><p>Questo sito usa cookie tecnici.</p><button>Accetto</button></form></div>
<main>
<h1>Bonus idrico</h1>
<p>Il bonus idrico rimborsa fino a 50 euro della bolletta dell'acqua alle famiglie con ISEE basso.</p>
<h2>Come si chiede</h2>
<p>La domanda si presenta all'Ufficio Servizi Sociali entro il 31 ottobre.</p>
</main>
<aside>Potrebbe interessarti anche: Tari</aside>
<footer><p>Comune di Prova - P.IVA 01199250158 - Privacy - Note legali</p></footer>
</body></html>`

// site is a Comune's web site for the tests, whose pages can break.
type site struct {
	*httptest.Server
	gone    atomic.Bool // /avviso answers 404
	failing atomic.Bool // /bonus answers 500
}

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /bonus", func(w http.ResponseWriter, r *http.Request) {
		if s.failing.Load() {
			http.Error(w, "manutenzione", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, bonusPage)
	})
	mux.HandleFunc("GET /bando.pdf", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write(bando.build())
	})
	mux.HandleFunc("GET /scarica", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(pdfFile{pages: [][]pdfLine{{{text: "Il modulo di iscrizione al centro estivo va consegnato in biblioteca."}}}}.build())
	})
	mux.HandleFunc("GET /orari.md", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "# Orari della biblioteca\n\n## Sabato\n\nIl sabato la biblioteca apre alle 9 e chiude alle 13.\n")
	})
	mux.HandleFunc("GET /storia", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=ISO-8859-1")
		fmt.Fprint(w, "<html><body><main><h1>Storia</h1><p>La citt\xe0 fu fondata nel Medioevo attorno alla pieve.</p></main></body></html>")
	})
	mux.HandleFunc("GET /avviso", func(w http.ResponseWriter, r *http.Request) {
		if s.gone.Load() {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<main><h1>Avviso</h1><p>Lo sportello anagrafe resta chiuso il 2 novembre per la ricorrenza dei defunti.</p></main>")
	})
	mux.HandleFunc("GET /vecchio-indirizzo", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/nuovo-indirizzo", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /nuovo-indirizzo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<main><h1>Isola ecologica</h1><p>L'isola ecologica di via Roma accoglie gli ingombranti il mercoledì.</p></main>")
	})
	mux.HandleFunc("GET /giro", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/giro", http.StatusFound)
	})
	mux.HandleFunc("GET /enorme", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		chunk := strings.Repeat("<p>testo</p>", 1000)
		for written := 0; written <= knowledge.MaxTextSize; written += len(chunk) {
			if _, err := fmt.Fprint(w, chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("GET /stemma.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	})
	mux.HandleFunc("GET /archivio", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write([]byte("PK\x03\x04\x14\x00\x00\x00"))
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (b *bundle) ingestURLs(t *testing.T, urls ...string) knowledge.URLReport {
	t.Helper()
	rep, err := knowledge.IngestURLs(b.ctx, b.pool, b.emb, b.tenant, urls, nil, nil)
	require.NoError(t, err)
	require.Len(t, rep.Results, len(urls))
	return rep
}

func TestIngestURLsReportsWhatItDidWithEachURL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := newSite(t)
	tests := []struct {
		path    string
		outcome knowledge.Outcome
		err     error  // the error expected, when errText is empty
		errText string // what the error says, for errors without a sentinel
	}{
		{path: "/bonus", outcome: knowledge.Added},
		{path: "/bando.pdf", outcome: knowledge.Added},
		{path: "/scarica", outcome: knowledge.Added},
		{path: "/orari.md", outcome: knowledge.Added},
		{path: "/storia", outcome: knowledge.Added},
		{path: "/vecchio-indirizzo", outcome: knowledge.Added},
		{path: "/giro", errText: "stopped after 5 redirects"},
		{path: "/enorme", err: knowledge.ErrTooLarge},
		{path: "/stemma.png", err: knowledge.ErrUnsupportedType},
		{path: "/archivio", err: knowledge.ErrUnsupportedType},
		{path: "/mai-esistita", errText: "404 Not Found"},
	}
	urls := make([]string, len(tests))
	for i, tt := range tests {
		urls[i] = s.URL + tt.path
	}
	urls = append(urls, "ftp://example.com/bando.pdf", "file:///etc/passwd", "  "+urls[0]+"  ")

	var progress [][2]int
	rep, err := knowledge.IngestURLs(b.ctx, b.pool, b.emb, b.tenant, urls, s.Client(), func(done, total int) {
		progress = append(progress, [2]int{done, total})
	})
	require.NoError(t, err)
	require.Len(t, rep.Results, len(tests)+2, "the repeated URL is fetched once")
	for i, tt := range tests {
		res := rep.Results[i]
		require.Equal(t, s.URL+tt.path, res.URL)
		switch {
		case tt.errText != "":
			require.ErrorContains(t, res.Err, tt.errText, tt.path)
		case tt.err != nil:
			require.ErrorIs(t, res.Err, tt.err, tt.path)
		default:
			require.NoError(t, res.Err, tt.path)
			require.Equal(t, tt.outcome, res.Outcome, tt.path)
			require.Equal(t, "200 OK", res.Status)
		}
		require.False(t, res.Removed)
	}
	for _, res := range rep.Results[len(tests):] {
		require.ErrorIs(t, res.Err, knowledge.ErrUnsupportedType, res.URL)
	}
	require.Equal(t, 6, rep.Added)
	require.Equal(t, 7, rep.Failed)
	require.Len(t, progress, len(tests)+2)
	require.Equal(t, [2]int{len(tests) + 2, len(tests) + 2}, progress[len(progress)-1])

	// Each page is found, named and linked by the URL as given.
	for query, path := range map[string]string{
		"bonus idrico bolletta acqua":             "/bonus",
		"domanda contributo affitto ISEE":         "/bando.pdf",
		"modulo centro estivo biblioteca":         "/scarica",
		"a che ora apre la biblioteca il sabato?": "/orari.md",
		"quando fu fondata la città":              "/storia",
		"dove si portano gli ingombranti":         "/vecchio-indirizzo",
	} {
		res := b.search(t, b.tenant, query)
		require.NotEmpty(t, res, query)
		require.Equal(t, s.URL+path, res[0].SourceName, query)
		require.Equal(t, s.URL+path, res[0].URL, query)
	}
	require.Contains(t, b.search(t, b.tenant, "fondata nel Medioevo")[0].Text, "La città fu fondata", "the page's charset is honoured")
	require.Equal(t, "Sabato", b.search(t, b.tenant, "biblioteca sabato")[0].SectionPath, "Markdown served as text/plain is Markdown")

	// Fetching again changes nothing.
	rep = b.ingestURLs(t, urls[:6]...)
	require.Equal(t, 6, rep.Unchanged)
}

func TestIngestURLsKeepsOnlyAPagesMainContent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := newSite(t)
	rep := b.ingestURLs(t, s.URL+"/bonus")
	require.Equal(t, 1, rep.Added)

	rows, err := b.pool.Query(b.ctx, `SELECT title, section_path, text FROM knowledge_chunks WHERE tenant_id = $1 ORDER BY ordinal`, b.tenant)
	require.NoError(t, err)
	var all []string
	for rows.Next() {
		var title, section, text string
		require.NoError(t, rows.Scan(&title, &section, &text))
		require.Equal(t, "Bonus idrico", title)
		all = append(all, section+": "+text)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{
		": Il bonus idrico rimborsa fino a 50 euro della bolletta dell'acqua alle famiglie con ISEE basso.",
		"Come si chiede: La domanda si presenta all'Ufficio Servizi Sociali entro il 31 ottobre.",
	}, all)
}

func TestAURLThatIsGoneIsRemovedAndOneMissingFromTheListIsKept(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := newSite(t)
	rep := b.ingestURLs(t, s.URL+"/avviso", s.URL+"/bonus")
	require.Equal(t, 2, rep.Added)
	require.Equal(t, s.URL+"/avviso", b.search(t, b.tenant, "sportello anagrafe chiuso 2 novembre")[0].SourceName)

	s.gone.Store(true)
	rep = b.ingestURLs(t, s.URL+"/avviso")
	require.Equal(t, knowledge.URLReport{Removed: 1, Results: []knowledge.URLResult{
		{URL: s.URL + "/avviso", Removed: true, Status: "404 Not Found"},
	}}, rep)
	for _, r := range b.search(t, b.tenant, "sportello anagrafe chiuso 2 novembre") {
		require.NotEqual(t, s.URL+"/avviso", r.SourceName)
	}
	require.Equal(t, s.URL+"/bonus", b.search(t, b.tenant, "bonus idrico")[0].SourceName, "a URL missing from the list stays")

	rep = b.ingestURLs(t, s.URL+"/avviso")
	require.Equal(t, 1, rep.Failed, "a page gone and already removed is a mistake in the list")
	require.ErrorContains(t, rep.Results[0].Err, "404 Not Found")
}

func TestAURLThatFailsKeepsItsPreviousVersion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := newSite(t)
	b.ingestURLs(t, s.URL+"/bonus")
	before := b.chunkIDs(t)

	s.failing.Store(true)
	rep := b.ingestURLs(t, s.URL+"/bonus", s.URL+"/avviso")
	require.Equal(t, 1, rep.Failed)
	require.Equal(t, 1, rep.Added, "the next URL is still ingested")
	require.ErrorContains(t, rep.Results[0].Err, "500 Internal Server Error")
	require.Equal(t, "500 Internal Server Error", rep.Results[0].Status)
	require.Subset(t, b.chunkIDs(t), before)
	require.Equal(t, s.URL+"/bonus", b.search(t, b.tenant, "bonus idrico")[0].SourceName)
}

func TestIngestURLsStopsWhenItsContextEnds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := newSite(t)
	ctx, cancel := context.WithCancel(b.ctx)
	rep, err := knowledge.IngestURLs(ctx, b.pool, b.emb, b.tenant, []string{s.URL + "/bonus", s.URL + "/avviso"}, nil,
		func(done, total int) { cancel() })
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, rep.Results, 1)
}
