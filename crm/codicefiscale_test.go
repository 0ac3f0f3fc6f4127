package crm_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

// withCheck completes the first 15 characters of a codice fiscale with their
// correct check character, so a test can break one rule at a time.
func withCheck(first15 string) string {
	return first15 + string(crm.CodiceFiscaleCheckChar(first15))
}

// requireFieldError asserts that err is a *FieldError on field with reason
// and that it matches ErrInvalid.
func requireFieldError(t *testing.T, err error, field, reason string) {
	t.Helper()
	require.ErrorIs(t, err, crm.ErrInvalid)
	var fe *crm.FieldError
	require.True(t, errors.As(err, &fe), "want *crm.FieldError, got %T", err)
	require.Equal(t, field, fe.Field)
	require.Equal(t, reason, fe.Reason)
	require.Equal(t, field+": "+reason, err.Error())
}

func TestNormalizeCodiceFiscaleAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"canonical", "RSSMRA80A01H501U", "RSSMRA80A01H501U"},
		{"lower case and surrounding spaces", "  rssmra80a01h501u\t", "RSSMRA80A01H501U"},
		{"spaces between groups", "RSS MRA 80A01 H501U", "RSSMRA80A01H501U"},
		{"non-breaking space", "\u00a0RSSMRA80A01H501U", "RSSMRA80A01H501U"},
		{"woman's day of birth", withCheck("RSSMRA80A41H501"), withCheck("RSSMRA80A41H501")},
		{"last day of a woman's month", withCheck("RSSMRA80T71H501"), withCheck("RSSMRA80T71H501")},
		{"omocodia letter in a single middle position", withCheck("RSSMRA80AM1H501"), "RSSMRA80A11H501" + string(crm.CodiceFiscaleCheckChar("RSSMRA80A11H501"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := crm.NormalizeCodiceFiscale(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestNormalizeCodiceFiscaleMapsEveryOmocodiaVariantToTheCanonicalCode(t *testing.T) {
	t.Parallel()
	const canonical = "RSSMRA80A01H501U"
	seen := map[string]bool{canonical: true}
	for n := 1; n <= 7; n++ {
		variant := crm.OmocodiaVariant(canonical, n)
		require.False(t, seen[variant], "variant %d %s repeats an earlier one", n, variant)
		seen[variant] = true

		got, err := crm.NormalizeCodiceFiscale(variant)
		require.NoError(t, err, "variant %d %s", n, variant)
		require.Equal(t, canonical, got, "variant %d %s", n, variant)
	}
}

func TestOmocodiaVariant(t *testing.T) {
	t.Parallel()
	const canonical = "RSSMRA80A01H501U"
	tests := []struct {
		n    int
		want string // without the check character
	}{
		{0, "RSSMRA80A01H501"},
		{1, "RSSMRA80A01H50M"},
		{2, "RSSMRA80A01H5LM"},
		{3, "RSSMRA80A01HRLM"},
		{4, "RSSMRA80A0MHRLM"},
		{7, "RSSMRAULALMHRLM"},
		{8, "RSSMRAULALMHRLM"},  // clamped to 7
		{-1, "RSSMRA80A01H501"}, // clamped to 0
	}
	for _, tt := range tests {
		require.Equal(t, withCheck(tt.want), crm.OmocodiaVariant(canonical, tt.n), "n=%d", tt.n)
	}
	// Any variant can be the starting point.
	require.Equal(t, crm.OmocodiaVariant(canonical, 2), crm.OmocodiaVariant(crm.OmocodiaVariant(canonical, 7), 2))
}

func TestOmocodiaVariantMatchesAnIndependentImplementation(t *testing.T) {
	t.Parallel()
	// The omocodes listed for this code in the README of
	// fabiocaccamo/python-codicefiscale, in order of substitution.
	want := []string{
		"CCCFBA85D03L219P",
		"CCCFBA85D03L21VE",
		"CCCFBA85D03L2MVP",
		"CCCFBA85D03LNMVE",
		"CCCFBA85D0PLNMVA",
		"CCCFBA85DLPLNMVL",
		"CCCFBA8RDLPLNMVX",
		"CCCFBAURDLPLNMVU",
	}
	for n, code := range want {
		require.Equal(t, code, crm.OmocodiaVariant(want[0], n), "n=%d", n)
		got, err := crm.NormalizeCodiceFiscale(code)
		require.NoError(t, err, code)
		require.Equal(t, want[0], got, code)
	}
}

func TestNormalizeCodiceFiscaleRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, reason string
	}{
		{"empty", "   ", "is required"},
		{"wrong check character", "RSSMRA80A01H501X", "wrong check character"},
		// The sample in App IO's API documentation is not a valid code.
		{"IO documentation sample", "SPNDNL80R13C555X", "wrong check character"},
		{"omocodia variant with the canonical check character", "RSSMRA80A01H50MU", "wrong check character"},
		{"too short", "RSSMRA80A01H501", "must be 16 characters long"},
		{"too long", "RSSMRA80A01H501UU", "must be 16 characters long"},
		{"non-ASCII letter", "RSSMRÀ80A01H501U", "must contain only letters and digits"},
		{"punctuation", "RSSMRA80-A01H501U", "must contain only letters and digits"},
		{"digit in a name position", withCheck("R5SMRA80A01H501"), "does not follow the codice fiscale layout"},
		{"non-omocodia letter in a digit position", withCheck("RSSMRA8AA01H501"), "does not follow the codice fiscale layout"},
		{"digit in the month position", withCheck("RSSMRA80101H501"), "does not follow the codice fiscale layout"},
		{"digit as the check character", "RSSMRA80A01H5011", "does not follow the codice fiscale layout"},
		{"month letter F", withCheck("RSSMRA80F01H501"), "invalid month of birth"},
		{"month letter Z", withCheck("RSSMRA80Z01H501"), "invalid month of birth"},
		{"day 00", withCheck("RSSMRA80A00H501"), "invalid day of birth"},
		{"day 32", withCheck("RSSMRA80A32H501"), "invalid day of birth"},
		{"day 40", withCheck("RSSMRA80A40H501"), "invalid day of birth"},
		{"day 72", withCheck("RSSMRA80A72H501"), "invalid day of birth"},
		{"day 32 written with omocodia letters", withCheck("RSSMRA80APNH501"), "invalid day of birth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := crm.NormalizeCodiceFiscale(tt.in)
			requireFieldError(t, err, "codice_fiscale", tt.reason)
			require.Empty(t, got)
		})
	}
}

func TestCodiceFiscaleCheckCharRejectsMalformedInput(t *testing.T) {
	t.Parallel()
	require.Equal(t, byte('U'), crm.CodiceFiscaleCheckChar("RSSMRA80A01H501"))
	for _, in := range []string{"", "RSSMRA80A01H50", "rssmra80a01h501", "RSSMRA80A01H50-"} {
		require.Zero(t, crm.CodiceFiscaleCheckChar(in), "%q", in)
	}
}

func FuzzNormalizeCodiceFiscale(f *testing.F) {
	for _, seed := range []string{
		"RSSMRA80A01H501U", "rssmra80a01h501u", "RSSMRAUL ALMHRLM" + "X", "SPNDNL80R13C555X",
		"RSSMRA80A01H501", "RSSMRÀ80A01H501U", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := crm.NormalizeCodiceFiscale(in)
		if err != nil {
			require.ErrorIs(t, err, crm.ErrInvalid)
			return
		}
		again, err := crm.NormalizeCodiceFiscale(got)
		require.NoError(t, err, "canonical form %q of %q", got, in)
		require.Equal(t, got, again, "normalizing %q is not idempotent", in)
		for n := 1; n <= 7; n++ {
			variant := crm.OmocodiaVariant(got, n)
			back, err := crm.NormalizeCodiceFiscale(variant)
			require.NoError(t, err, "variant %d %q of %q", n, variant, got)
			require.Equal(t, got, back, "variant %d %q of %q", n, variant, got)
		}
	})
}
