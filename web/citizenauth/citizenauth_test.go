package citizenauth_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/web/citizenauth"
)

func TestSignIdentityIsHexHMACSHA256(t *testing.T) {
	t.Parallel()
	// RFC 4231, test case 2.
	require.Equal(t,
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		citizenauth.SignIdentity([]byte("Jefe"), "what do ya want for nothing?"))
}

func TestVerifyIdentity(t *testing.T) {
	t.Parallel()
	secret := []byte("tenant-secret-0123456789abcdef!!")
	hash := citizenauth.SignIdentity(secret, "user-42")
	tests := []struct {
		name   string
		secret []byte
		userID string
		hash   string
		want   bool
	}{
		{"the signed user", secret, "user-42", hash, true},
		{"upper-case hex", secret, "user-42", strings.ToUpper(hash), true},
		{"another user", secret, "user-43", hash, false},
		{"another secret", []byte("another-secret-0123456789abcdef!"), "user-42", hash, false},
		{"empty secret", nil, "user-42", citizenauth.SignIdentity(nil, "user-42"), false},
		{"empty user id", secret, "", citizenauth.SignIdentity(secret, ""), false},
		{"empty hash", secret, "user-42", "", false},
		{"one digit changed", secret, "user-42", flipLastHex(hash), false},
		{"truncated", secret, "user-42", hash[:62], false},
		{"longer", secret, "user-42", hash + "00", false},
		{"not hex", secret, "user-42", strings.Repeat("zz", 32), false},
		{"with spaces", secret, "user-42", " " + hash, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, citizenauth.VerifyIdentity(tt.secret, tt.userID, tt.hash))
		})
	}
}

func flipLastHex(h string) string {
	last := h[len(h)-1]
	if last == '0' {
		return h[:len(h)-1] + "1"
	}
	return h[:len(h)-1] + "0"
}
