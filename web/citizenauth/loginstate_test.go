package citizenauth

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoginStateOpensWhatItSealed(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Now()
	st := loginState{State: randomToken(), Nonce: randomToken(), Verifier: "v", Data: "tenant=roma", Expires: now.Add(loginLifetime).Unix()}
	sealed, err := seal(key, st)
	require.NoError(t, err)

	got, err := open(key, sealed, now)
	require.NoError(t, err)
	require.Equal(t, st, got)
}

func TestLoginStateRefusesAnExpiredOrForeignCookie(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Now()
	sealed, err := seal(key, loginState{State: "s", Expires: now.Add(loginLifetime).Unix()})
	require.NoError(t, err)

	_, err = open(key, sealed, now.Add(loginLifetime+time.Second))
	require.ErrorIs(t, err, ErrLoginState, "expired")
	_, err = open([]byte("another key, also 32 bytes long!"), sealed, now)
	require.ErrorIs(t, err, ErrLoginState, "signed with another key")
}

func TestRandomTokenIsLongAndAlphanumeric(t *testing.T) {
	t.Parallel()
	a, b := randomToken(), randomToken()
	require.Regexp(t, `^[A-Za-z0-9]{32,}$`, a)
	require.NotEqual(t, a, b)
}
