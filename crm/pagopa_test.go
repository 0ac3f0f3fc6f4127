package crm_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestValidateNoticeNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, nav string
		reason    string // empty when valid
	}{
		// From pagoPA's tutorial: 3010111000073475 mod 93 = 57.
		{"aux digit 3 with correct check digits", "301011100007347557", ""},
		{"legacy aux digit 0", "012345678901234567", ""},
		{"legacy aux digit 1", "112345678901234567", ""},
		{"legacy aux digit 2", "212345678901234567", ""},
		{"wrong check digits", "301011100007347558", "wrong check digits"},
		{"two IUV digits swapped", "301011100007437557", "wrong check digits"},
		{"aux digit 4", "401011100007347557", "must start with 0, 1, 2 or 3"},
		{"17 digits", "30101110000734755", "must be 18 digits"},
		{"19 digits", "3010111000073475570", "must be 18 digits"},
		{"letter", "30101110000734755A", "must be 18 digits"},
		{"spaces", "3010 1110 0007 3475 57", "must be 18 digits"},
		{"empty", "", "must be 18 digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := crm.ValidateNoticeNumber(tt.nav)
			if tt.reason == "" {
				require.NoError(t, err)
				return
			}
			requireFieldError(t, err, "notice_number", tt.reason)
		})
	}
}

func TestNoticeNumberWithCheck(t *testing.T) {
	t.Parallel()
	require.Equal(t, "301011100007347557", crm.NoticeNumberWithCheck("3", "01", "0111000073475"))

	nav := crm.NoticeNumberWithCheck("3", "45", "0000000000001")
	require.NoError(t, crm.ValidateNoticeNumber(nav))

	require.Panics(t, func() { crm.NoticeNumberWithCheck("3", "1", "0111000073475") })
	require.Panics(t, func() { crm.NoticeNumberWithCheck("3", "01", "011100007347X") })
}

func TestValidateCreditorFiscalCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, code string
		reason     string // empty when valid
	}{
		{"Comune di Milano", "01199250158", ""},
		{"Roma Capitale", "02438750586", ""},
		{"wrong check digit", "01199250159", "wrong check digit"},
		{"two digits swapped", "10199250158", "wrong check digit"},
		{"10 digits", "0119925015", "must be 11 digits"},
		{"12 digits", "011992501580", "must be 11 digits"},
		{"letters", "O1199250158", "must be 11 digits"},
		{"personal codice fiscale", "RSSMRA80A01H501U", "must be 11 digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := crm.ValidateCreditorFiscalCode(tt.code)
			if tt.reason == "" {
				require.NoError(t, err)
				return
			}
			requireFieldError(t, err, "creditor_fiscal_code", tt.reason)
		})
	}
}
