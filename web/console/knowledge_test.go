package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/knowledge"
	"github.com/dialogo-pa/dialogo/web/console"
)

const cartaIdentita = `# Carta d'identità elettronica

La carta d'identità elettronica (CIE) è il documento di riconoscimento dei cittadini.

## Come richiederla

Prenota un appuntamento allo sportello anagrafe con il sistema Agenda CIE.
Porta una fototessera recente e il vecchio documento.

## Costo

Il costo è di 22,21 euro, pagati con pagoPA.
`

func (e *env) editor() crm.Staff { return e.staff[crm.RoleKnowledgeEditor] }

// sourceChunks reads the number of passages the sources page shows for a
// source, or -1 when the page does not list it.
func sourceChunks(t *testing.T, page *response, name string) int {
	t.Helper()
	row := regexp.MustCompile(`(?s)<td class="dlg-mono small text-break">` + regexp.QuoteMeta(name) +
		`</td>.*?data-chunks="(\d+)"`).FindStringSubmatch(page.body)
	if row == nil {
		return -1
	}
	n, err := strconv.Atoi(row[1])
	require.NoError(t, err)
	return n
}

// auditActions lists the actions of the ente's audit log, newest first.
func (e *env) auditActions(action string) []crm.AuditEntry {
	e.t.Helper()
	entries, err := e.store.AuditLog(e.ctx, e.supervisor().Actor(), crm.AuditQuery{Action: action})
	require.NoError(e.t, err)
	return entries
}

func TestKnowledgePagesAreForTheirRoles(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tests := []struct {
		role             crm.Role
		sources, answers int
	}{
		{crm.RoleOperator, http.StatusForbidden, http.StatusForbidden},
		{crm.RoleCommunication, http.StatusForbidden, http.StatusForbidden},
		{crm.RoleSupervisor, http.StatusForbidden, http.StatusOK},
		{crm.RoleKnowledgeEditor, http.StatusOK, http.StatusOK},
		{crm.RoleAdmin, http.StatusOK, http.StatusOK},
	}
	for _, tt := range tests {
		c := e.login(e.staff[tt.role])
		require.Equal(t, tt.sources, c.get("/console/knowledge").status, tt.role)
		require.Equal(t, tt.answers, c.get("/console/knowledge/answers").status, tt.role)
		upload := c.postMultipart("/console/knowledge/upload", "file", "carta.md", []byte(cartaIdentita), nil)
		require.Equal(t, tt.sources == http.StatusOK, upload.status == http.StatusSeeOther, "%s: %d", tt.role, upload.status)
		remove := c.post("/console/knowledge/remove", url.Values{"name": {"carta.md"}})
		require.Equal(t, tt.sources == http.StatusOK, remove.status == http.StatusSeeOther, "%s: %d", tt.role, remove.status)
	}
	operator := e.login(e.operator()).get("/console")
	require.NotContains(t, operator.body, "/console/knowledge", "no knowledge section in an operator's navigation")
	supervisor := e.login(e.supervisor()).get("/console")
	require.Contains(t, supervisor.body, `href="/console/knowledge/answers"`)
}

func TestKnowledgeEditorsSignInToTheKnowledgeBase(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.anonymous()
	login := c.get("/console/login")

	res := c.postForm("/console/login", url.Values{"csrf": {login.field("csrf")}, "email": {e.editor().Email},
		"password": {testPassword}})

	require.Equal(t, "/console/knowledge", res.location)
	page := c.follow(res)
	require.Equal(t, http.StatusOK, page.status)
	require.Regexp(t, `href="/console/knowledge" aria-current="page"`, page.body)
	require.NotContains(t, page.body, `action="/console/availability"`, "editors take no conversations")
}

func TestUploadedMarkdownIsListedAndRemoved(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.login(e.editor())

	res := c.postMultipart("/console/knowledge/upload", "file", "carta-identita.md", []byte(cartaIdentita), nil)

	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	require.Equal(t, "/console/knowledge", res.location)
	page := c.follow(res)
	require.Contains(t, page.body, "«carta-identita.md» è stato aggiunto alla base di conoscenza.")
	require.Contains(t, page.body, "Carta d&#39;identità elettronica")
	require.Greater(t, sourceChunks(t, page, "carta-identita.md"), 0)
	uploads := e.auditActions("knowledge.upload")
	require.Len(t, uploads, 1)
	require.Equal(t, "carta-identita.md", uploads[0].Detail["source"])
	require.Equal(t, "added", uploads[0].Detail["outcome"])
	require.Equal(t, e.editor().ID, uploads[0].ActorID)

	again := c.follow(c.postMultipart("/console/knowledge/upload", "file", "carta-identita.md", []byte(cartaIdentita), nil))
	require.Contains(t, again.body, "era già nella base di conoscenza, identico")
	require.Len(t, e.auditActions("knowledge.upload"), 1, "nothing changed, nothing to record")

	confirm := c.get("/console/knowledge?remove=carta-identita.md")
	require.Contains(t, confirm.body, "Rimuovere la fonte?")
	require.Contains(t, confirm.body, `<input type="hidden" name="name" value="carta-identita.md">`)
	require.Greater(t, sourceChunks(t, confirm, "carta-identita.md"), 0, "not removed until confirmed")

	removed := c.post("/console/knowledge/remove", url.Values{"name": {"carta-identita.md"}})
	require.Equal(t, "/console/knowledge", removed.location)
	after := c.follow(removed)
	require.Contains(t, after.body, "«carta-identita.md» è stata rimossa dalla base di conoscenza.")
	require.Equal(t, -1, sourceChunks(t, after, "carta-identita.md"))
	require.Contains(t, after.body, "La base di conoscenza è vuota")
	removals := e.auditActions("knowledge.remove")
	require.Len(t, removals, 1)
	require.Equal(t, "carta-identita.md", removals[0].Detail["source"])
}

func TestUploadRefusesWhatIsNotADocument(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.login(e.editor())
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	tests := []struct {
		name     string
		filename string
		content  []byte
		message  string
	}{
		{"no file", "", nil, "Scegli il file da caricare."},
		{"an empty file", "vuoto.md", nil, "Il file è vuoto."},
		{"an image", "foto.png", png, "sono accettati solo documenti Markdown"},
		{"an image named as Markdown", "foto.md", png, "sono accettati solo documenti Markdown"},
		{"text named as PDF", "finto.pdf", []byte("non sono un PDF"), "sono accettati solo documenti Markdown"},
		{"a Markdown file over the limit", "enorme.md", []byte(strings.Repeat("parola ", knowledge.MaxTextSize/7+10)),
			"il documento supera il limite di dimensione"},
	}
	for _, tt := range tests {
		field := "file"
		if tt.filename == "" {
			field = ""
		}
		res := c.postMultipart("/console/knowledge/upload", field, tt.filename, tt.content, nil)
		require.Equal(t, "/console/knowledge", res.location, "%s: %d %s", tt.name, res.status, res.body)
		page := c.follow(res)
		require.Contains(t, page.body, tt.message, tt.name)
		require.Contains(t, page.body, `alert-danger`, tt.name)
	}
	page := c.get("/console/knowledge")
	require.Contains(t, page.body, "La base di conoscenza è vuota")
	require.Empty(t, e.auditActions("knowledge.upload"))
}

func TestUploadNeedsTheFormsToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.login(e.editor())

	res := c.postMultipart("/console/knowledge/upload", "file", "carta.md", []byte(cartaIdentita),
		url.Values{"csrf": {"forged"}})

	require.Equal(t, http.StatusForbidden, res.status)
	sources, err := knowledge.Sources(e.ctx, e.pool, e.tenant.ID)
	require.NoError(t, err)
	require.Empty(t, sources)
}

func TestAnotherEntesSourcesNeverAppear(t *testing.T) {
	t.Parallel()
	e := setup(t)
	other, _, _ := e.newTenant(" Altro")
	_, err := knowledge.Ingest(e.ctx, e.pool, knowledge.LocalEmbedder{}, other.ID, knowledge.Source{
		Name: "segreto/altro-ente.md", Format: knowledge.Markdown, Body: "# Pagina di un altro ente\n\nNon per voi.",
	})
	require.NoError(t, err)
	c := e.login(e.editor())
	c.postMultipart("/console/knowledge/upload", "file", "carta.md", []byte(cartaIdentita), nil)

	page := c.get("/console/knowledge")
	confirm := c.get("/console/knowledge?remove=segreto/altro-ente.md")
	remove := c.post("/console/knowledge/remove", url.Values{"name": {"segreto/altro-ente.md"}})

	require.Greater(t, sourceChunks(t, page, "carta.md"), 0)
	require.NotContains(t, page.body, "altro-ente")
	require.NotContains(t, page.body, "Pagina di un altro ente")
	require.NotContains(t, confirm.body, `name="name" value="segreto/altro-ente.md"`)
	require.Contains(t, confirm.body, "non è nella base di conoscenza")
	require.Equal(t, "/console/knowledge", remove.location)
	require.Contains(t, c.follow(remove).body, "La fonte «segreto/altro-ente.md» non è nella base di conoscenza.")
	theirs, err := knowledge.Sources(e.ctx, e.pool, other.ID)
	require.NoError(t, err)
	require.Len(t, theirs, 1, "still there")
}

// pages serves a small web site for the URL lists.
func pages(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/tari", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html lang="it"><head><title>TARI - Comune di Prova</title></head><body>
			<main><h1>TARI</h1><p>La TARI si paga in due rate, il 16 maggio e il 16 novembre.</p>
			<h2>Riduzioni</h2><p>Chi vive da solo ha diritto a una riduzione del 30 per cento.</p></main></body></html>`))
	})
	mux.HandleFunc("/logo.png", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write([]byte("\x89PNG\r\n\x1a\n"))
	})
	srv := httptest.NewServer(mux) // anything else: 404
	t.Cleanup(srv.Close)
	return srv
}

func TestIngestURLsShowsTheOutcomeOfEach(t *testing.T) {
	t.Parallel()
	e := setup(t)
	site := pages(t)
	c := e.login(e.editor())
	list := strings.Join([]string{site.URL + "/tari", site.URL + "/logo.png", site.URL + "/sparita", "ftp://example.org/file"}, "\r\n")

	page := c.post("/console/knowledge/urls", url.Values{"urls": {list}})

	require.Equal(t, http.StatusOK, page.status, page.body)
	results := regexp.MustCompile(`(?s)<section class="mb-4" aria-labelledby="dlg-url-results-title".*?</section>`).FindString(page.body)
	require.Regexp(t, `(?s)`+regexp.QuoteMeta(site.URL+"/tari")+`</th>\s*<td><span class="badge bg-success">Fatto</span> aggiunta alla base di conoscenza.`, results)
	require.Regexp(t, `(?s)`+regexp.QuoteMeta(site.URL+"/logo.png")+`</th>\s*<td><span class="badge bg-danger">Non acquisito</span> rifiutata: sono accettati solo`, results)
	require.Regexp(t, `(?s)`+regexp.QuoteMeta(site.URL+"/sparita")+`</th>\s*<td><span class="badge bg-danger">Non acquisito</span> il sito ha risposto 404 Not Found`, results)
	require.Regexp(t, `(?s)ftp://example.org/file</th>\s*<td><span class="badge bg-danger">Non acquisito</span> non è un indirizzo http o https.`, results)
	require.Contains(t, results, "Indirizzi: 4. Aggiunti: 1, aggiornati: 0, invariati: 0, rimossi: 0, non acquisiti: 3.")
	require.Greater(t, sourceChunks(t, page, site.URL+"/tari"), 0)
	require.Contains(t, page.body, `<a href="`+site.URL+`/tari" target="_blank" rel="noopener noreferrer">TARI<span`)
	require.Contains(t, page.body, site.URL+"/sparita\r\nftp://example.org/file</textarea>", "the list comes back, to correct")
	audit := e.auditActions("knowledge.ingest_urls")
	require.Len(t, audit, 1)
	require.Equal(t, []any{site.URL + "/tari"}, audit[0].Detail["urls"])

	again := c.post("/console/knowledge/urls", url.Values{"urls": {site.URL + "/tari"}})
	require.Contains(t, again.body, "invariata.")
	require.Len(t, e.auditActions("knowledge.ingest_urls"), 1, "nothing changed, nothing to record")
}

func TestIngestURLsRefusesLongLists(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.login(e.editor())
	var list []string
	for i := range 21 {
		list = append(list, "https://www.comune.example.it/pagina-"+strconv.Itoa(i))
	}

	long := c.post("/console/knowledge/urls", url.Values{"urls": {strings.Join(list, "\n")}})
	require.Equal(t, "/console/knowledge", long.location)
	require.Contains(t, c.follow(long).body, "Al massimo 20 indirizzi alla volta (ne hai scritti 21).")
	empty := c.post("/console/knowledge/urls", url.Values{"urls": {" \n "}})
	require.Contains(t, c.follow(empty).body, "Scrivi almeno un indirizzo.")
}

func TestTheConsolesOwnClientDoesNotFetchInternalAddresses(t *testing.T) {
	t.Parallel()
	e := setupWith(t, func(*console.Config) {}) // the console's own client
	site := pages(t)
	c := e.login(e.editor())

	page := c.post("/console/knowledge/urls", url.Values{"urls": {site.URL + "/tari"}})

	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, "l&#39;indirizzo porta a una rete interna")
	require.Equal(t, -1, sourceChunks(t, page, site.URL+"/tari"))
}

func TestKnowledgeSectionWithoutEmbedderOnlyListsAndRemoves(t *testing.T) {
	t.Parallel()
	e := setupWith(t, func(cfg *console.Config) { cfg.Embedder = nil })
	_, err := knowledge.Ingest(e.ctx, e.pool, knowledge.LocalEmbedder{}, e.tenant.ID, knowledge.Source{
		Name: "carta.md", Format: knowledge.Markdown, Body: cartaIdentita,
	})
	require.NoError(t, err)
	c := e.login(e.editor())

	page := c.get("/console/knowledge")
	upload := c.follow(c.postMultipart("/console/knowledge/upload", "file", "altro.md", []byte(cartaIdentita), nil))
	remove := c.follow(c.post("/console/knowledge/remove", url.Values{"name": {"carta.md"}}))

	require.Greater(t, sourceChunks(t, page, "carta.md"), 0)
	require.NotContains(t, page.body, `action="/console/knowledge/upload"`)
	require.Contains(t, page.body, "manca il modello di embedding")
	require.Contains(t, upload.body, "manca il modello di embedding")
	require.Contains(t, remove.body, "è stata rimossa")
}

func TestUploadOverTheLimitGoesBackWithAMessage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.login(e.editor())
	pdf := append([]byte("%PDF-1.7\n"), make([]byte, knowledge.MaxPDFSize+128<<10)...)

	res := c.postMultipart("/console/knowledge/upload", "file", "enorme.pdf", pdf, nil)

	require.Equal(t, "/console/knowledge", res.location, "%d %s", res.status, res.body)
	require.Contains(t, c.follow(res).body, "Il file è troppo grande: un PDF può arrivare a 20 MB")
	require.Empty(t, e.auditActions("knowledge.upload"))
}
