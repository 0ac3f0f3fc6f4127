package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/testdb"
)

func TestKBIngestsTheDemoBaseOnceAndSearchesIt(t *testing.T) {
	store := crm.NewStore(testdb.New(t))
	slug := fmt.Sprintf("kb-%d", time.Now().UnixNano())
	_, err := store.EnsureTenant(t.Context(), slug, "Comune di Prova", "01199250158")
	require.NoError(t, err)

	var out bytes.Buffer
	env := testEnv(t, &out)
	require.NoError(t, runKB(t.Context(), env, []string{"ingest", "-tenant", slug, "../../knowledge/demo"}))
	first := out.String()
	out.Reset()
	require.NoError(t, runKB(t.Context(), env, []string{"ingest", "-tenant", slug, "../../knowledge/demo"}))
	require.NotEqual(t, first, out.String(), "the second ingest reports the sources unchanged")

	out.Reset()
	require.NoError(t, runKB(t.Context(), env, []string{"search", "-tenant", slug, "-k", "3", "quanto costa la carta d'identità elettronica"}))
	require.Contains(t, out.String(), "cie.md")

	require.Error(t, runKB(t.Context(), env, []string{"search", "-tenant", "no-such-ente", "TARI"}))
}

func TestKBIngestsAListOfURLs(t *testing.T) {
	store := crm.NewStore(testdb.New(t))
	slug := fmt.Sprintf("kb-urls-%d", time.Now().UnixNano())
	_, err := store.EnsureTenant(t.Context(), slug, "Comune di Prova", "01199250158")
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /servizi/passaporto", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><body><nav>Home Servizi Contatti</nav><main><h1>Passaporto</h1>
<p>Il passaporto si chiede in Questura; il Comune rilascia l'assenso per i figli minori.</p></main>
<footer>Comune di Prova</footer></body></html>`)
	})
	mux.HandleFunc("GET /rotta", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "errore", http.StatusInternalServerError)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	list := filepath.Join(t.TempDir(), "urls.txt")
	require.NoError(t, os.WriteFile(list, []byte("# Pagine del sito\n\n"+srv.URL+"/rotta\n  "+srv.URL+"/servizi/passaporto  \n"), 0o644))

	var out bytes.Buffer
	env := testEnv(t, &out)
	err = runKB(t.Context(), env, []string{"ingest", "-tenant", slug, "-urls", list})
	require.ErrorContains(t, err, "1 of the URLs listed in "+list+" failed", "a failed URL makes the command fail")
	require.Contains(t, out.String(), "failed: "+srv.URL+"/rotta: the server answered 500 Internal Server Error")
	require.Contains(t, out.String(), slug+": 1 added, 0 replaced, 0 unchanged, 0 removed, 1 failed")

	out.Reset()
	require.NoError(t, runKB(t.Context(), env, []string{"search", "-tenant", slug, "-k", "1", "passaporto figli minori"}))
	require.Contains(t, out.String(), srv.URL+"/servizi/passaporto", "the page was ingested after the failed one")
	require.Contains(t, out.String(), "Passaporto")
	require.NotContains(t, out.String(), "Contatti", "the navigation is not part of the page")
}

func TestReadURLListSkipsBlankLinesAndComments(t *testing.T) {
	urls, err := readURLList("-", strings.NewReader("\uFEFFhttps://comune.example/a\n\n# commento\n  https://comune.example/b  \r\n"))
	require.NoError(t, err)
	require.Equal(t, []string{"https://comune.example/a", "https://comune.example/b"}, urls)

	_, err = readURLList("-", strings.NewReader("# solo commenti\n"))
	require.ErrorContains(t, err, "lists no URLs")
	_, err = readURLList(filepath.Join(t.TempDir(), "manca.txt"), nil)
	require.Error(t, err)
}
