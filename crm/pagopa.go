package crm

import (
	"fmt"
	"strconv"
)

const (
	fieldNoticeNumber       = "notice_number"
	fieldCreditorFiscalCode = "creditor_fiscal_code"
)

// ValidateNoticeNumber checks a pagoPA notice number (NAV, "numero avviso"):
// 18 digits, an aux digit from 0 to 3, then the IUV. For aux digit 3, the form
// pagoPA requires today, the last two digits must be the first 16 taken as a
// number modulo 93. Aux digits 0, 1 and 2 are legacy layouts that may still
// appear on old notices; they are accepted on their 18 digits alone.
//
// Errors are *FieldError values on field "notice_number" and match ErrInvalid.
func ValidateNoticeNumber(nav string) error {
	if len(nav) != 18 || !allDigits(nav) {
		return Invalid(fieldNoticeNumber, "must be 18 digits")
	}
	switch nav[0] {
	case '0', '1', '2':
		return nil
	case '3':
		if noticeCheckDigits(nav[:16]) != nav[16:] {
			return Invalid(fieldNoticeNumber, "wrong check digits")
		}
		return nil
	default:
		return Invalid(fieldNoticeNumber, "must start with 0, 1, 2 or 3")
	}
}

// NoticeNumberWithCheck builds a NAV from its aux digit (1 digit), segregation
// code (2 digits) and IUV base (13 digits) by appending the two mod-93 check
// digits. It is meant for demo data and tests with literal inputs, so it
// panics if the parts do not have those lengths or contain non-digits.
func NoticeNumberWithCheck(aux, segregation, base string) string {
	first16 := aux + segregation + base
	if len(aux) != 1 || len(segregation) != 2 || len(base) != 13 || !allDigits(first16) {
		panic(fmt.Sprintf("crm.NoticeNumberWithCheck(%q, %q, %q): want 1, 2 and 13 digits", aux, segregation, base))
	}
	return first16 + noticeCheckDigits(first16)
}

// noticeCheckDigits returns the two check digits for the first 16 digits of a
// NAV. Sixteen digits always fit in a uint64.
func noticeCheckDigits(first16 string) string {
	n, err := strconv.ParseUint(first16, 10, 64)
	if err != nil {
		panic("crm: noticeCheckDigits called with non-digits: " + err.Error())
	}
	return fmt.Sprintf("%02d", n%93)
}

// ValidateCreditorFiscalCode checks the fiscal code of a creditor organization
// (the payee of a pagoPA notice, e.g. a municipality): 11 digits whose last is
// the check digit of the partita IVA algorithm.
//
// Errors are *FieldError values on field "creditor_fiscal_code" and match
// ErrInvalid.
func ValidateCreditorFiscalCode(s string) error {
	if len(s) != 11 || !allDigits(s) {
		return Invalid(fieldCreditorFiscalCode, "must be 11 digits")
	}
	// Digits in odd 1-based positions count as they are; digits in even
	// positions are doubled, less 9 when the double exceeds 9.
	sum := 0
	for i := 0; i < 10; i++ {
		d := int(s[i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	if check := (10 - sum%10) % 10; int(s[10]-'0') != check {
		return Invalid(fieldCreditorFiscalCode, "wrong check digit")
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
