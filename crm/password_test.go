package crm_test

import (
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestHashPasswordProducesAnArgon2idPHCString(t *testing.T) {
	t.Parallel()
	encoded, err := crm.HashPassword("correct horse battery staple")
	require.NoError(t, err)
	require.Regexp(t, `^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`, encoded)
}

func TestHashPasswordUsesAFreshSalt(t *testing.T) {
	t.Parallel()
	a, err := crm.HashPassword("correct horse battery staple")
	require.NoError(t, err)
	b, err := crm.HashPassword("correct horse battery staple")
	require.NoError(t, err)
	require.NotEqual(t, a, b)
}

func TestVerifyPassword(t *testing.T) {
	t.Parallel()
	encoded, err := crm.HashPassword("correct horse battery staple")
	require.NoError(t, err)

	ok, err := crm.VerifyPassword(encoded, "correct horse battery staple")
	require.NoError(t, err)
	require.True(t, ok)

	for _, wrong := range []string{"correct horse battery stapl", "Correct horse battery staple", "", strings.Repeat("x", 2000)} {
		ok, err := crm.VerifyPassword(encoded, wrong)
		require.NoError(t, err)
		require.False(t, ok, "%q", wrong)
	}
}

func TestVerifyPasswordReadsParametersFromTheHash(t *testing.T) {
	t.Parallel()
	// A vector from the argon2 reference implementation's test suite
	// (P-H-C/phc-winner-argon2, src/test.c), with other parameters than
	// HashPassword's, as an old row would have after the defaults change.
	const encoded = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	ok, err := crm.VerifyPassword(encoded, "password")
	require.NoError(t, err)
	require.True(t, ok)

	ok, err = crm.VerifyPassword(encoded, "passwore")
	require.NoError(t, err)
	require.False(t, ok)
}

func TestVerifyPasswordRejectsMalformedHashes(t *testing.T) {
	t.Parallel()
	valid, err := crm.HashPassword("correct horse battery staple")
	require.NoError(t, err)
	params := regexp.MustCompile(`m=\d+,t=\d+,p=\d+`)
	for name, encoded := range map[string]string{
		"empty":             "",
		"bcrypt":            "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":           strings.Replace(valid, "$argon2id$", "$argon2i$", 1),
		"other version":     strings.Replace(valid, "$v=19$", "$v=16$", 1),
		"missing parameter": params.ReplaceAllString(valid, "m=19456,t=2"),
		"trailing garbage":  params.ReplaceAllString(valid, "m=19456,t=2,p=1,x=1"),
		"huge memory":       params.ReplaceAllString(valid, "m=4194304,t=2,p=1"),
		"zero passes":       params.ReplaceAllString(valid, "m=19456,t=0,p=1"),
		"bad salt":          strings.Replace(valid, "$", "$!", 4),
		"truncated hash":    valid[:len(valid)-30],
	} {
		ok, err := crm.VerifyPassword(encoded, "correct horse battery staple")
		require.Error(t, err, name)
		require.NotErrorIs(t, err, crm.ErrInvalid, name)
		require.False(t, ok, name)
	}
}

func TestHashPasswordRejectsBadLengths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pw, reason string
	}{
		{"empty", "", "must be at least 8 characters long"},
		{"7 characters", "1234567", "must be at least 8 characters long"},
		// Eight bytes but only four characters.
		{"4 two-byte characters", "àèìò", "must be at least 8 characters long"},
		{"1025 bytes", strings.Repeat("a", 1025), "must be at most 1024 bytes long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			encoded, err := crm.HashPassword(tt.pw)
			requireFieldError(t, err, "password", tt.reason)
			require.Empty(t, encoded)
		})
	}

	for _, pw := range []string{"12345678", strings.Repeat("a", 1024)} {
		_, err := crm.HashPassword(pw)
		require.NoError(t, err, "%d bytes", len(pw))
	}
}

func TestNewSecretToken(t *testing.T) {
	t.Parallel()
	token, hash := crm.NewSecretToken("dlg_")
	require.True(t, strings.HasPrefix(token, "dlg_"), token)

	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, "dlg_"))
	require.NoError(t, err)
	require.Len(t, raw, 32)

	want := sha256.Sum256([]byte(token))
	require.Equal(t, want[:], hash)
	require.Equal(t, hash, crm.HashToken(token))

	other, _ := crm.NewSecretToken("dlg_")
	require.NotEqual(t, token, other)
	require.NotEqual(t, hash, crm.HashToken(other))
}
