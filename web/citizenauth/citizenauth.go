// Package citizenauth logs citizens in with a verified identity: "Accedi con
// SPID/CIE" through an OpenID Connect provider, and identities that a
// municipal website vouches for with an HMAC (SignIdentity, VerifyIdentity).
//
// # The login seam
//
// The web chat only knows the Provider interface: Begin sends the browser to
// the identity provider, Complete handles the callback and returns the Citizen
// with a canonical codice fiscale. NewOIDC implements it for a plain OpenID
// Connect provider — in production usually the city's SPID/CIE identity broker
// — with the authorization code flow, PKCE S256, state and nonce, the SPID
// "claims" request parameter and the fiscal number taken from the
// https://attributes.eid.gov.it/fiscal_number claim (or its older SPID name),
// never from the pairwise "sub".
//
// The state of a login in progress (state, nonce, PKCE verifier and the
// caller's data) lives in a short-lived HttpOnly cookie signed with HMAC, so
// the callback may land on any instance that shares the key and nothing is
// stored server-side.
//
// # A native SPID/CIE OpenID Connect Federation client
//
// Talking to the SPID and CIE providers directly, without a broker, needs more
// than this package's OIDC client does, and would be another implementation of
// Provider next to it, leaving the chat untouched:
//   - the relying party is an OpenID Federation entity: it publishes an entity
//     configuration at /.well-known/openid-federation, holds a trust mark, and
//     resolves each provider's metadata through a trust chain (which has "jwks",
//     not "jwks_uri") instead of plain discovery;
//   - Begin sends a signed request object (the "request" JWT) carrying client_id
//     (the relying party's HTTPS URL), state, nonce, PKCE, acr_values, prompt
//     "consent login" and the claims parameter;
//   - Complete authenticates at the token endpoint with private_key_jwt instead
//     of a client secret, and decrypts the userinfo response, which is a signed
//     and encrypted JWT (JWE, e.g. RSA-OAEP with A256CBC-HS512) that go-oidc
//     does not handle (NewOIDC's Complete fails on it with
//     ErrEncryptedUserinfo).
//
// Everything after the tokens — the fiscal number claims, TINIT- stripping and
// canonicalisation with crm.NormalizeCodiceFiscale, the SPID/CIE method — is
// the same and would be shared.
package citizenauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
)

// Citizen is who logged in.
type Citizen struct {
	// CodiceFiscale is the canonical codice fiscale (crm.NormalizeCodiceFiscale):
	// upper case, without the "TINIT-" prefix, omocodia letters turned back
	// into digits.
	CodiceFiscale string
	GivenName     string
	FamilyName    string
	Email         string
	// Method is how the identity was verified: "spid", "cie" or "oidc"
	// (crm.VerifiedSPID, crm.VerifiedCIE, crm.VerifiedOIDC).
	Method string
	// Subject is the provider's pairwise "sub", for logs only: it differs for
	// every relying party and is never the codice fiscale.
	Subject string
}

// Provider logs a citizen in through an identity provider.
type Provider interface {
	// Begin redirects the browser to the identity provider; data (opaque to the
	// provider, e.g. tenant + return path) comes back from Complete.
	Begin(w http.ResponseWriter, r *http.Request, data string) error
	// Complete handles the callback request. It returns the data given to
	// Begin, on failure too when the callback matches a login begun in this
	// browser, so that the caller can send the citizen back to where they were.
	Complete(w http.ResponseWriter, r *http.Request) (Citizen, string, error)
}

// SignIdentity returns hex(HMAC-SHA256(secret, userID)): what a municipal
// website that already knows its user passes to the widget next to the user
// id, so that the widget cannot be used to claim someone else's identity.
// Sites compute the same in their own language, e.g. PHP's
// hash_hmac('sha256', $userId, $secret).
func SignIdentity(secret []byte, userID string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(userID))
	return hex.EncodeToString(mac.Sum(nil))
}

// VerifyIdentity reports whether hash is SignIdentity(secret, userID). Hex is
// accepted in either case. It is false for an empty secret (a tenant without
// one cannot vouch for anybody) and for an empty user id. The comparison takes
// the same time wherever the hashes differ.
func VerifyIdentity(secret []byte, userID, hash string) bool {
	if len(secret) == 0 || userID == "" {
		return false
	}
	got, err := hex.DecodeString(hash)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(userID))
	return hmac.Equal(got, mac.Sum(nil))
}
