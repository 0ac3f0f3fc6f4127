package crm

import (
	"strings"
)

// fieldCodiceFiscale is the field name reported in codice fiscale errors.
const fieldCodiceFiscale = "codice_fiscale"

// omocodiaPositions are the 0-based positions of the digits that the Agenzia
// delle Entrate replaces with letters when two people would otherwise share a
// code, listed from right to left because substitution starts at the right.
var omocodiaPositions = [...]int{14, 13, 12, 10, 9, 7, 6}

// omocodiaLetters[d] is the letter that replaces digit d.
const omocodiaLetters = "LMNPQRSTUV"

// monthLetters are the letters that encode the month of birth, January first.
const monthLetters = "ABCDEHLMPRST"

// oddValues[v] is what a character is worth in the odd positions (1-based,
// as in DM 23/12/1976) when its index is v: the digit v or the letter 'A'+v.
// Digits and the letters A-J share the first ten values.
var oddValues = [26]int{
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // A-J and 0-9
	2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23, // K-Z
}

// NormalizeCodiceFiscale validates a codice fiscale and returns its canonical
// form: upper case, without spaces, with omocodia letters turned back into
// digits and the check character recomputed. Two codes that belong to the same
// person therefore have the same canonical form, which is what the CRM stores
// and compares.
//
// Errors are *FieldError values on field "codice_fiscale" and match ErrInvalid.
func NormalizeCodiceFiscale(s string) (string, error) {
	// People paste codes with spaces between the groups, or with a non-breaking
	// space around them; a codice fiscale never contains whitespace.
	s = strings.Join(strings.Fields(s), "")
	if s == "" {
		return "", Invalid(fieldCodiceFiscale, "is required")
	}
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		default:
			return "", Invalid(fieldCodiceFiscale, "must contain only letters and digits")
		}
	}
	if len(b) != 16 {
		return "", Invalid(fieldCodiceFiscale, "must be 16 characters long")
	}

	canonical := make([]byte, 16)
	copy(canonical, b)
	for i, c := range b {
		switch {
		case isOmocodiaPosition(i):
			d, ok := omocodiaDigit(c)
			if !ok {
				return "", Invalid(fieldCodiceFiscale, "does not follow the codice fiscale layout")
			}
			canonical[i] = d
		case isLetter(c):
		default:
			return "", Invalid(fieldCodiceFiscale, "does not follow the codice fiscale layout")
		}
	}
	if strings.IndexByte(monthLetters, b[8]) < 0 {
		return "", Invalid(fieldCodiceFiscale, "invalid month of birth")
	}
	// Women have 40 added to the day of birth.
	day := int(canonical[9]-'0')*10 + int(canonical[10]-'0')
	if !(1 <= day && day <= 31 || 41 <= day && day <= 71) {
		return "", Invalid(fieldCodiceFiscale, "invalid day of birth")
	}
	// The check character covers the code as issued, omocodia letters included.
	if CodiceFiscaleCheckChar(string(b[:15])) != b[15] {
		return "", Invalid(fieldCodiceFiscale, "wrong check character")
	}
	canonical[15] = CodiceFiscaleCheckChar(string(canonical[:15]))
	return string(canonical), nil
}

// CodiceFiscaleCheckChar returns the check character (an upper-case letter)
// for the first 15 characters of a codice fiscale. It returns 0 if first15 is
// not exactly 15 upper-case ASCII letters or digits, so a comparison with a
// real check character fails.
func CodiceFiscaleCheckChar(first15 string) byte {
	if len(first15) != 15 {
		return 0
	}
	sum := 0
	for i := 0; i < 15; i++ {
		c := first15[i]
		var v int // the character's index: digit value or letter offset from 'A'
		switch {
		case '0' <= c && c <= '9':
			v = int(c - '0')
		case isLetter(c):
			v = int(c - 'A')
		default:
			return 0
		}
		if i%2 == 0 { // odd in the 1-based numbering of the decree
			sum += oddValues[v]
		} else {
			sum += v
		}
	}
	return byte('A' + sum%26)
}

// OmocodiaVariant returns the n-th omocodia variant of cf: the code the Agenzia
// delle Entrate would issue after replacing the rightmost n substitutable
// digits with letters, with the check character recomputed. Variant 0 is the
// canonical form; n is clamped to 0..7. cf is expected to be an upper-case
// 16-character code (any variant); anything else is returned unchanged.
func OmocodiaVariant(cf string, n int) string {
	if len(cf) != 16 || CodiceFiscaleCheckChar(cf[:15]) == 0 {
		return cf
	}
	n = min(max(n, 0), len(omocodiaPositions))
	b := []byte(cf)
	for k, pos := range omocodiaPositions {
		d, ok := omocodiaDigit(b[pos])
		if !ok {
			return cf
		}
		if k < n {
			b[pos] = omocodiaLetters[d-'0']
		} else {
			b[pos] = d
		}
	}
	b[15] = CodiceFiscaleCheckChar(string(b[:15]))
	return string(b)
}

func isOmocodiaPosition(i int) bool {
	switch i {
	case 6, 7, 9, 10, 12, 13, 14:
		return true
	}
	return false
}

// omocodiaDigit returns the digit that c stands for in a position subject to
// omocodia: c itself if it is a digit, or the digit its letter replaced.
func omocodiaDigit(c byte) (byte, bool) {
	if '0' <= c && c <= '9' {
		return c, true
	}
	if i := strings.IndexByte(omocodiaLetters, c); i >= 0 {
		return byte('0' + i), true
	}
	return 0, false
}

func isLetter(c byte) bool {
	return 'A' <= c && c <= 'Z'
}
