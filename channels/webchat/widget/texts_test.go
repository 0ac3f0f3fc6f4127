package widget

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEveryTextIsInBothLanguages(t *testing.T) {
	require.Empty(t, texts.Missing())
}

// The chat client asks for its texts with t('name'): each must be in the
// catalog, as "js.name".
func TestEveryTextOfTheClientIsInTheCatalog(t *testing.T) {
	src, err := os.ReadFile("assets/chat.js")
	require.NoError(t, err)
	calls := regexp.MustCompile(`\bt\('([a-z_]+)'`).FindAllStringSubmatch(string(src), -1)
	require.NotEmpty(t, calls)
	for _, c := range calls {
		require.Contains(t, texts.Catalog, "js."+c[1])
	}
	// showConnection looks its texts up by the connection's state.
	for _, name := range []string{"connecting", "lost", "offline", "sending", "sent", "waiting", "failed"} {
		require.Contains(t, texts.Catalog, "js."+name)
	}
	require.False(t, strings.Contains(string(src), "innerHTML"), "user text never goes through innerHTML")
}
