package citizenauth_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/internal/browsertest"
)

// A real browser follows the redirects to the fake provider and back, and
// keeps and sends the login cookie on the way, as citizens' browsers will.
func TestLoginInARealBrowser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := browsertest.New(t)

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(b.rp.URL+loginPath+"?data=tenant%3Droma")))
	body, err := chromedp.Run(ctx, chromedp.Text("body"))
	require.NoError(t, err)

	require.Equal(t, "welcome", strings.TrimSpace(body))
	b.mu.Lock()
	defer b.mu.Unlock()
	require.NotNil(t, b.result)
	require.NoError(t, b.result.err)
	require.Equal(t, mario, b.result.citizen.CodiceFiscale)
	require.Equal(t, "tenant=roma", b.result.data)
}
