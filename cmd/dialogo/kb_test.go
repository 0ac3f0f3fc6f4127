package main

import (
	"bytes"
	"fmt"
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
