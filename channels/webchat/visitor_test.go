package webchat

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestVisitorTokensAreRandomAndTheirIdentitiesDerived(t *testing.T) {
	t.Parallel()
	a, b := newVisitorToken(), newVisitorToken()

	require.NotEqual(t, a, b)
	require.True(t, validVisitorToken(a))
	require.False(t, validVisitorToken(a[:42]))
	require.False(t, validVisitorToken(strings.Repeat("!", 43)))
	id := visitorID(a)
	require.Equal(t, id, visitorID(a))
	require.NotContains(t, id, a)
	_, err := crm.NormalizeIdentity(crm.IdentityWebchat, id)
	require.NoError(t, err, "a valid web-chat identity")
	_, err = crm.NormalizeIdentity(crm.IdentityWebchat, signedUserID("mario@example.org"))
	require.NoError(t, err)
}

func TestTheRateLimitRefillsAtItsRate(t *testing.T) {
	t.Parallel()
	l := newRateLimits(20.0/60, 5)
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	b := l.acquire("visitor", start)
	for i := 0; i < 5; i++ {
		ok, _ := l.take(b, start)
		require.True(t, ok, "message %d of the burst", i)
	}

	ok, wait := l.take(b, start)
	require.False(t, ok)
	require.Equal(t, 3*time.Second, wait)
	ok, _ = l.take(b, start.Add(3*time.Second))
	require.True(t, ok)
	ok, _ = l.take(b, start.Add(4*time.Second))
	require.False(t, ok)
}

func TestAReleasedBucketIsForgottenOnlyOnceFull(t *testing.T) {
	t.Parallel()
	l := newRateLimits(1, 2)
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	b := l.acquire("visitor", start)
	l.take(b, start)
	l.take(b, start)
	l.release(b)

	// Reconnecting at once does not refill the bucket.
	again := l.acquire("visitor", start.Add(100*time.Millisecond))
	require.Same(t, b, again)
	l.release(again)
	l.acquire("other", start.Add(4*time.Minute)) // sweeps
	require.NotContains(t, l.buckets, "visitor")
}

func TestEveryTextIsInEveryLanguage(t *testing.T) {
	t.Parallel()
	require.Empty(t, texts.Missing())
}
