package widget_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/channels/webchat/widget"
	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/testdb"
	"github.com/dialogo-pa/dialogo/knowledge"
)

// cieName is the name of cieSource: a folder and a file name with spaces,
// an apostrophe and an accent, as an uploaded or ingested file may have.
const cieName = "servizi anagrafici/carta d'identità.md"

// cieSource has the parts a source page shows: a quotation, paragraphs with
// strong text, sections two levels deep, both kinds of list, and text that
// looks like HTML.
const cieSource = `# Carta d'identità elettronica

> Pagina dimostrativa: importi e orari sono esempi.

La carta d'identità elettronica è il documento di riconoscimento.
Si richiede allo **Sportello anagrafe**, su appuntamento, dall'[Agenda CIE](https://www.prenotazionicie.interno.gov.it/).

## Cosa serve

- Una fototessera recente.
- La tessera sanitaria
  con il codice fiscale.

## Come fare

1. Prenota un appuntamento.
2. Presentati allo sportello.

### Quanto costa

Costa 22,21 euro. Non scrivere <script>alert("x")</script> né <b>grassetto</b> qui, né [un link](javascript:alert(1)).
`

// ingest adds a source to the tenant's knowledge base, and dates its last
// update when updatedAt is not zero.
func ingest(t *testing.T, tenantID int64, src knowledge.Source, updatedAt time.Time) {
	t.Helper()
	pool := testdb.New(t)
	_, err := knowledge.Ingest(t.Context(), pool, knowledge.LocalEmbedder{}, tenantID, src)
	require.NoError(t, err)
	if !updatedAt.IsZero() {
		_, err = pool.Exec(t.Context(), `UPDATE knowledge_sources SET updated_at = $3 WHERE tenant_id = $1 AND name = $2`,
			tenantID, src.Name, updatedAt)
		require.NoError(t, err)
	}
}

// newEnte makes another ente, with a knowledge base of its own.
func newEnte(t *testing.T, e *env, name string) crm.Tenant {
	t.Helper()
	other, err := e.store.EnsureTenant(t.Context(), "ente-"+randomHex(4), name, "01199250158")
	require.NoError(t, err)
	return other
}

func TestSourcePageShowsTheSourceAsTheAssistantReadsIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Just before midnight in UTC is the next day in Rome.
	ingest(t, e.tenant.ID, knowledge.Source{Name: cieName, Format: knowledge.Markdown, Body: cieSource}, time.Date(2026, 3, 4, 23, 30, 0, 0, time.UTC))

	res, body := get(t, e.url+widget.SourcePath(e.tenant.Slug, cieName))

	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	require.Equal(t, "public, max-age=300", res.Header.Get("Cache-Control"))
	require.Contains(t, res.Header.Get("Content-Security-Policy"), "frame-ancestors 'self'")
	require.Empty(t, res.Header.Values("Set-Cookie"), "a page that caches may set no cookie")

	t.Run("is Italian first, with the title and the ente", func(t *testing.T) {
		require.Contains(t, body, `<html lang="it">`)
		require.Contains(t, body, "<title>Carta d&#39;identità elettronica – Comune di Milano</title>")
		require.Contains(t, body, `<h1 id="dlg-source-title" lang="it">Carta d&#39;identità elettronica</h1>`)
		require.Contains(t, body, `<div class="it-brand-title">Comune di Milano</div>`)
		require.Contains(t, body, `href="/chat/`+e.tenant.Slug+`"`, "a way back to the chat")
	})
	t.Run("says which version it is and when it was updated", func(t *testing.T) {
		require.Contains(t, body, "Questa è la versione della pagina che l&#39;assistente virtuale consulta.")
		require.Contains(t, body, `Ultimo aggiornamento: <time datetime="2026-03-05">5 marzo 2026</time>.`)
		require.NotContains(t, body, "condivise da", "the ente's own source")
	})
	t.Run("has a heading where the section changes, in the order of the document", func(t *testing.T) {
		var at []int
		for _, part := range []string{
			`<p>Pagina dimostrativa: importi e orari sono esempi.</p>`,
			`<p>La carta d&#39;identità elettronica è il documento di riconoscimento. Si richiede allo <strong>Sportello anagrafe</strong>, su appuntamento, dall&#39;<a href="https://www.prenotazionicie.interno.gov.it/">Agenda CIE</a>.</p>`,
			`<h2>Cosa serve</h2>`,
			`<ul><li>Una fototessera recente.</li><li>La tessera sanitaria con il codice fiscale.</li></ul>`,
			`<h2>Come fare</h2>`,
			`<ol><li>Prenota un appuntamento.</li><li>Presentati allo sportello.</li></ol>`,
			`<h3>Quanto costa</h3>`,
			`<p>Costa 22,21 euro.`,
		} {
			i := strings.Index(body, part)
			require.GreaterOrEqual(t, i, 0, "missing: %s", part)
			at = append(at, i)
		}
		require.IsIncreasing(t, at)
		require.Contains(t, body, `<blockquote class="dlg-source__quote"><p>Pagina dimostrativa`)
		require.Equal(t, 1, strings.Count(body, "<h2>Cosa serve</h2>"), "one heading for a section")
	})
	t.Run("escapes the text that looks like HTML", func(t *testing.T) {
		require.Contains(t, body, `Non scrivere &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; né &lt;b&gt;grassetto&lt;/b&gt; qui, né [un link](javascript:alert(1)).`)
		require.NotContains(t, body, `href="javascript:`)
		require.NotContains(t, body, "<script>alert")
		require.NotContains(t, body, "<b>grassetto")
	})

	t.Run("in English", func(t *testing.T) {
		res, body := get(t, e.url+widget.SourcePath(e.tenant.Slug, cieName)+"?lang=en")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `<html lang="en">`)
		require.Contains(t, body, "This is the version of the page that the virtual assistant consults.")
		require.Contains(t, body, `Last updated: <time datetime="2026-03-05">5 March 2026</time>.`)
		require.Contains(t, body, "<h2>Cosa serve</h2>", "the source is as it was written")
		require.Contains(t, body, `<div class="dlg-source__text" lang="it">`, "and says it is in Italian")
	})
}

func TestSourcePageOfASourceWithAnAddressRedirectsThere(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const page = "https://www.comune.milano.it/servizi/tari?tab=scadenze"
	ingest(t, e.tenant.ID, knowledge.Source{Name: page, URL: page, Title: "TARI", Format: knowledge.Text, Body: "La TARI si paga in due rate."}, time.Time{})
	ingest(t, e.tenant.ID, knowledge.Source{Name: "strano.txt", URL: "javascript:alert(1)", Title: "Un indirizzo strano",
		Format: knowledge.Text, Body: "Un testo."}, time.Time{})

	res, _ := get(t, e.url+widget.SourcePath(e.tenant.Slug, page))
	require.Equal(t, http.StatusFound, res.StatusCode)
	require.Equal(t, page, res.Header.Get("Location"))
	require.Equal(t, "public, max-age=300", res.Header.Get("Cache-Control"))

	// An address that is not a web page's is never where a citizen is sent:
	// the page shows the source instead.
	res, body := get(t, e.url+widget.SourcePath(e.tenant.Slug, "strano.txt"))
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Empty(t, res.Header.Get("Location"))
	require.Contains(t, body, "<p>Un testo.</p>")
	require.NotContains(t, body, "javascript:")
}

func TestSourcePageNamesRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, name := range []string{
		cieName,
		"moduli/domanda 50% #2?.txt",
		"a/./b/../c.txt",
		"//doppia//barra/",
		"Più parole, e; punteggiatura & simboli=+@:$.txt",
	} {
		t.Run(name, func(t *testing.T) {
			ingest(t, e.tenant.ID, knowledge.Source{Name: name, Title: "Pagina " + name, Format: knowledge.Text, Body: "Testo di " + name}, time.Time{})
			res, body := get(t, e.url+widget.SourcePath(e.tenant.Slug, name))
			require.Equal(t, http.StatusOK, res.StatusCode, widget.SourcePath(e.tenant.Slug, name))
			require.Contains(t, html.UnescapeString(body), "<h1 id=\"dlg-source-title\" lang=\"it\">Pagina "+name+"</h1>")
			require.Contains(t, html.UnescapeString(body), "<p>Testo di "+name+"</p>")
		})
	}
}

func TestSourcePageIsNotFoundForAnotherEnteOrAnUnknownSource(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := newEnte(t, e, "Comune di Bergamo")
	ingest(t, other.ID, knowledge.Source{Name: "tributi/tari.md", Format: knowledge.Markdown, Body: "# TARI a Bergamo\n\nSi paga in tre rate.\n"}, time.Time{})

	for name, path := range map[string]string{
		"another ente's source":                 widget.SourcePath(e.tenant.Slug, "tributi/tari.md"),
		"an unknown source":                     widget.SourcePath(e.tenant.Slug, "nessuna.md"),
		"a source of an unknown ente":           widget.SourcePath("nessun-comune", "tributi/tari.md"),
		"the list of sources, which is no page": "/chat/" + e.tenant.Slug + "/fonti/",
	} {
		t.Run(name, func(t *testing.T) {
			res, body := get(t, e.url+path)
			require.Equal(t, http.StatusNotFound, res.StatusCode)
			require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
			require.Equal(t, "no-cache", res.Header.Get("Cache-Control"))
			require.Contains(t, body, "<h1>Pagina non trovata</h1>")
			require.NotContains(t, body, "Bergamo")
		})
	}
	_, body := get(t, e.url+widget.SourcePath(e.tenant.Slug, "nessuna.md"))
	require.Contains(t, body, "Questa pagina non è tra quelle che l&#39;assistente virtuale consulta")
	_, body = get(t, e.url+widget.SourcePath(e.tenant.Slug, "nessuna.md")+"?lang=en")
	require.Contains(t, body, "This page is not one of those the virtual assistant consults")

	// The other ente sees its own.
	res, body := get(t, e.url+widget.SourcePath(other.Slug, "tributi/tari.md"))
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, "<h1 id=\"dlg-source-title\" lang=\"it\">TARI a Bergamo</h1>")
}

// A shared knowledge base is seen from every ente, so this test does not
// run in parallel with the others and unshares its tenant when it ends.
func TestSourcePageShowsTheSourcesOfASharedKnowledgeBase(t *testing.T) {
	e := newEnv(t)
	metro := newEnte(t, e, "Città Metropolitana di Milano")
	ingest(t, metro.ID, knowledge.Source{Name: "trasporti/abbonamento.md", Format: knowledge.Markdown,
		Body: "# Abbonamento metropolitano\n\n## Studenti\n\nGli studenti under 26 pagano 200 euro.\n"}, time.Time{})
	pool := testdb.New(t)
	require.NoError(t, knowledge.SetShared(t.Context(), pool, metro.ID, true))
	t.Cleanup(func() { require.NoError(t, knowledge.SetShared(context.Background(), pool, metro.ID, false)) })

	res, body := get(t, e.url+widget.SourcePath(e.tenant.Slug, "trasporti/abbonamento.md"))

	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, `<div class="it-brand-title">Comune di Milano</div>`, "the page of the ente the citizen chats with")
	require.Contains(t, body, `<h1 id="dlg-source-title" lang="it">Abbonamento metropolitano</h1>`)
	require.Contains(t, body, "<h2>Studenti</h2>")
	require.Contains(t, body, "La pagina fa parte delle informazioni condivise da Città Metropolitana di Milano.")
}

func TestSourcePath(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, want string }{
		{"cie.md", "/chat/milano/fonti/cie.md"},
		{cieName, "/chat/milano/fonti/servizi%20anagrafici/carta%20d%27identit%C3%A0.md"},
		{"moduli/domanda 50% #2?.txt", "/chat/milano/fonti/moduli/domanda%2050%25%20%232%3F.txt"},
		{"https://www.comune.milano.it/tari", "/chat/milano/fonti/https:%2F%2Fwww.comune.milano.it/tari"},
		{"a/./b/../c.txt", "/chat/milano/fonti/a/%2E/b/%2E%2E/c.txt"},
		{"/davanti/e/dietro/", "/chat/milano/fonti/%2Fdavanti/e/dietro%2F"},
	} {
		require.Equal(t, c.want, widget.SourcePath("milano", c.name), c.name)
	}
}

// Whatever the name, the router gives the handler the name back, and cleans
// nothing away from the path.
func TestSourcePathRoundTripsThroughTheRouter(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /chat/{ente}/fonti/{name...}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.PathValue("ente")+"|"+r.PathValue("name"))
	})
	for _, name := range []string{
		"cie.md", cieName, "moduli/domanda 50% #2?.txt", "https://www.comune.milano.it/tari?x=1#y",
		"a/./b/../c.txt", "/davanti/e/dietro/", "//", ".", "..", "a b/ c /d\\e.pdf", "città/perché.md",
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, widget.SourcePath("milano", name), nil))
		require.Equal(t, http.StatusOK, rec.Code, "%s: %s", name, rec.Header().Get("Location"))
		require.Equal(t, "milano|"+name, rec.Body.String())
	}
}
