package citizenauth

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dialogo-pa/dialogo/crm"
)

// The claims that carry the fiscal number, in order of preference: the
// eIDAS-style name SPID and CIE use today, the older SPID name still found in
// the SPID docs' userinfo example, and what some brokers send.
const (
	claimFiscalNumber       = "https://attributes.eid.gov.it/fiscal_number"
	claimFiscalNumberSPID   = "https://attributes.spid.gov.it/fiscal_number"
	claimFiscalNumberPlain  = "fiscal_number"
	acrPrefixSPID           = "https://www.spid.gov.it/"
	acrPrefixCIE            = "https://www.cie.gov.it/"
	italianTaxNumberPrefix  = "TINIT-"
	etsiNaturalPersonPrefix = "TIN" // ETSI EN 319 412-1: "TIN" + ISO 3166 country + "-"
)

var fiscalNumberClaims = []string{claimFiscalNumber, claimFiscalNumberSPID, claimFiscalNumberPlain}

// ErrCodiceFiscale means the provider returned no codice fiscale, or one that
// is not a valid Italian codice fiscale. The citizen cannot be identified: the
// pairwise "sub" is never a substitute.
var ErrCodiceFiscale = errors.New("citizenauth: the identity provider returned no valid Italian codice fiscale")

// claimSet is a decoded JSON object of claims: an ID token's or a userinfo
// response's.
type claimSet map[string]any

// str returns the claim as a trimmed string, or "" when it is absent or not a
// string.
func (c claimSet) str(name string) string {
	s, _ := c[name].(string)
	return strings.TrimSpace(s)
}

// first returns the first non-empty string claim among names in any of sets,
// trying every name in the first set before the second set.
func first(sets []claimSet, names ...string) string {
	for _, set := range sets {
		for _, n := range names {
			if v := set.str(n); v != "" {
				return v
			}
		}
	}
	return ""
}

// codiceFiscaleFrom returns the canonical codice fiscale of a fiscal number
// claim value such as "TINIT-RSSMRA80A01H501U".
func codiceFiscaleFrom(fiscalNumber string) (string, error) {
	if fiscalNumber == "" {
		return "", fmt.Errorf("%w: none of the claims %s is present (is the claims request parameter or the profile scope granted?)",
			ErrCodiceFiscale, strings.Join(fiscalNumberClaims, ", "))
	}
	v := fiscalNumber
	if len(v) >= len(italianTaxNumberPrefix) && strings.EqualFold(v[:len(italianTaxNumberPrefix)], italianTaxNumberPrefix) {
		v = v[len(italianTaxNumberPrefix):]
	} else if isForeignTaxNumber(v) {
		return "", fmt.Errorf("%w: %q is a foreign tax identification number", ErrCodiceFiscale, v[:len(italianTaxNumberPrefix)])
	}
	cf, err := crm.NormalizeCodiceFiscale(v)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrCodiceFiscale, err)
	}
	return cf, nil
}

// isForeignTaxNumber reports whether v has an ETSI prefix for a country other
// than Italy, e.g. "TINES-…". No codice fiscale starts with "TIN" and a dash.
func isForeignTaxNumber(v string) bool {
	return len(v) > 6 && strings.EqualFold(v[:3], etsiNaturalPersonPrefix) && isASCIILetter(v[3]) && isASCIILetter(v[4]) && v[5] == '-'
}

func isASCIILetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// methodOf says how the provider verified the citizen. CIE logins often carry
// SPID acr values (CIE uses the SPID levels of assurance, and brokers pass
// them on), so an explicit CIE sign — an acr under www.cie.gov.it, or an
// "idp"/"provider" claim naming CIE — wins over a SPID acr.
func methodOf(sets []claimSet) string {
	acr := first(sets, "acr")
	idp := strings.ToLower(first(sets, "idp", "provider"))
	switch {
	case strings.HasPrefix(acr, acrPrefixCIE), namesCIE(idp):
		return crm.VerifiedCIE
	case strings.HasPrefix(acr, acrPrefixSPID), idp == "spid", strings.HasPrefix(idp, "spid:"), strings.HasPrefix(idp, "spid-"):
		return crm.VerifiedSPID
	default:
		return crm.VerifiedOIDC
	}
}

// namesCIE reports whether an "idp" or "provider" claim (lower case) names the
// CIE: "cie", "cie-id", "cieid", or the entity id of the Ministry of the
// Interior's CIE identity provider (idserver.servizicie.interno.gov.it).
func namesCIE(idp string) bool {
	return idp == "cie" || idp == "cieid" || strings.HasPrefix(idp, "cie:") || strings.HasPrefix(idp, "cie-") ||
		strings.Contains(idp, "servizicie.interno.gov.it") || strings.HasPrefix(idp, acrPrefixCIE)
}
