// Package oidctest is a fake OpenID Provider on loopback for tests of the
// citizen login. It speaks the real protocol over HTTP — discovery, JWKS, the
// authorization endpoint, the token endpoint and userinfo — so production code
// runs against it unchanged, whether a Go http.Client or a real browser follows
// its redirects.
//
// It has no login page: /authorize checks the request and at once redirects
// back to the relying party with a code for the user set with SetUser, or with
// the error set with FailNext. It enforces what a strict SPID/CIE provider
// would: a registered client and redirect URI, response_type=code, PKCE with
// S256, single-use codes bound to their redirect URI and verifier, and client
// authentication with client_secret_basic or client_secret_post.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// UserinfoFormat is how the fake's userinfo endpoint answers.
type UserinfoFormat int

const (
	// UserinfoJSON is a plain JSON object (application/json), the default.
	UserinfoJSON UserinfoFormat = iota
	// UserinfoSignedJWT is a JWT signed with the provider's key
	// (application/jwt), with iss and aud.
	UserinfoSignedJWT
	// UserinfoEncryptedJWT is that signed JWT encrypted as a JWE (RSA-OAEP,
	// A256CBC-HS512), as native SPID/CIE federation providers answer. It is
	// encrypted to the fake's own key, since the relying party registers none:
	// it exists to test that such a response is refused clearly.
	UserinfoEncryptedJWT
)

// DefaultSubject is the pairwise sub of a user set without one.
const DefaultSubject = "pairwise-test-citizen"

const (
	codeLifetime  = time.Minute
	tokenLifetime = 5 * time.Minute
)

// Provider is a running fake OpenID Provider. Its methods are safe for
// concurrent use.
type Provider struct {
	// URL is the issuer, e.g. http://127.0.0.1:41234; the discovery document
	// is at URL + "/.well-known/openid-configuration".
	URL string
	// ClientID and ClientSecret are the one client the provider knows.
	ClientID     string
	ClientSecret string

	key   *rsa.PrivateKey
	keyID string

	mu                sync.Mutex
	user              map[string]any
	userinfoOnly      bool
	userinfoFormat    UserinfoFormat
	failNext          string
	nonce             string
	redirectURIs      []string
	codes             map[string]*grant
	accessTokens      map[string]*grant
	lastAuthorization url.Values
	lastTokenRequest  url.Values
}

// grant is one successful authorization: what its code is bound to and who
// logged in.
type grant struct {
	redirectURI string
	challenge   string
	nonce       string
	claims      map[string]any // the user at authorization time
	expires     time.Time
	used        bool
	accessToken string
	tokenExpiry time.Time
}

// New starts a fake provider on loopback, stopped when the test ends. Its user
// is Mario Rossi, logged in with SPID level 2: see SetUser.
func New(t testing.TB) *Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("oidctest: generate the signing key: %v", err)
	}
	p := &Provider{
		ClientID:     "dialogo-test-client",
		ClientSecret: rand.Text(),
		key:          key,
		keyID:        rand.Text()[:8],
		codes:        map[string]*grant{},
		accessTokens: map[string]*grant{},
		user: map[string]any{
			"sub": DefaultSubject,
			"https://attributes.eid.gov.it/fiscal_number": "TINIT-RSSMRA80A01H501U",
			"given_name":  "Mario",
			"family_name": "Rossi",
			"email":       "mario.rossi@example.it",
			"acr":         "https://www.spid.gov.it/SpidL2",
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("/authorize", p.authorize)
	mux.HandleFunc("/token", p.token)
	mux.HandleFunc("/userinfo", p.userinfo)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// SetUser sets the claims of whoever logs in next, e.g.
//
//	map[string]any{
//		"sub": "pairwise-123",
//		"https://attributes.eid.gov.it/fiscal_number": "TINIT-RSSMRA80A01H501U",
//		"given_name": "Mario", "family_name": "Rossi",
//		"acr": "https://www.spid.gov.it/SpidL2",
//	}
//
// "sub" defaults to DefaultSubject. The protocol claims (iss, aud, exp, iat,
// nonce, at_hash) are the provider's and are overwritten.
func (p *Provider) SetUser(claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = maps.Clone(claims)
	if p.user == nil {
		p.user = map[string]any{}
	}
	if s, _ := p.user["sub"].(string); s == "" {
		p.user["sub"] = DefaultSubject
	}
}

// ClaimsInUserinfoOnly makes ID tokens carry only sub, the protocol claims and
// acr, amr and auth_time, as SPID does: the other claims come from userinfo.
func (p *Provider) ClaimsInUserinfoOnly(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.userinfoOnly = on
}

// SetUserinfoFormat sets how userinfo answers; the default is UserinfoJSON.
func (p *Provider) SetUserinfoFormat(f UserinfoFormat) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.userinfoFormat = f
}

// FailNext makes the next authorization request redirect back with this
// OAuth error code (e.g. "access_denied", a citizen who cancelled) instead of
// a code.
func (p *Provider) FailNext(errorCode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failNext = errorCode
}

// OverrideNonce makes ID tokens carry nonce instead of the one in their
// authorization request, as a replayed or injected token would; "" restores
// the requested nonce.
func (p *Provider) OverrideNonce(nonce string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nonce = nonce
}

// SetRedirectURIs registers the client's redirect URIs, which must then match
// exactly. Until it is called, any http(s) URI on a loopback host is accepted.
func (p *Provider) SetRedirectURIs(uris ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.redirectURIs = slices.Clone(uris)
}

// LastAuthorization returns the parameters of the last request to /authorize
// (query or form), nil before the first.
func (p *Provider) LastAuthorization() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return cloneValues(p.lastAuthorization)
}

// LastTokenRequest returns the form of the last request to /token without
// client_secret, nil before the first.
func (p *Provider) LastTokenRequest() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return cloneValues(p.lastTokenRequest)
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = slices.Clone(vs)
	}
	return c
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/authorize",
		"token_endpoint":                        p.URL + "/token",
		"userinfo_endpoint":                     p.URL + "/userinfo",
		"jwks_uri":                              p.URL + "/jwks",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"userinfo_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_parameter_supported":            true,
		"acr_values_supported": []string{
			"https://www.spid.gov.it/SpidL1", "https://www.spid.gov.it/SpidL2", "https://www.spid.gov.it/SpidL3",
		},
		"claims_supported": []string{
			"sub", "acr", "given_name", "family_name", "email",
			"https://attributes.eid.gov.it/fiscal_number", "https://attributes.spid.gov.it/fiscal_number",
		},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key:       &p.key.PublicKey,
		KeyID:     p.keyID,
		Algorithm: string(jose.RS256),
		Use:       "sig",
	}}})
}

// authorize validates an authorization request and redirects back at once.
// Errors about the client or the redirect URI are shown as a page: redirecting
// to an unverified URI would make the provider an open redirector.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "malformed request", http.StatusBadRequest)
		return
	}
	q := r.Form
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastAuthorization = cloneValues(q)

	if q.Get("client_id") != p.ClientID {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	redirectURI := q.Get("redirect_uri")
	back, err := url.Parse(redirectURI)
	if err != nil || !p.redirectAllowed(back) {
		http.Error(w, "redirect_uri is not registered for this client", http.StatusBadRequest)
		return
	}
	fail := func(code, description string) {
		v := back.Query()
		v.Set("error", code)
		v.Set("error_description", description)
		if s := q.Get("state"); s != "" {
			v.Set("state", s)
		}
		u := *back
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	if code := p.failNext; code != "" {
		p.failNext = ""
		fail(code, "oidctest: failing as told")
		return
	}
	if q.Get("response_type") != "code" {
		fail("unsupported_response_type", "only response_type=code is supported")
		return
	}
	if !slices.Contains(strings.Fields(q.Get("scope")), "openid") {
		fail("invalid_scope", "the openid scope is required")
		return
	}
	if q.Get("code_challenge_method") != "S256" {
		fail("invalid_request", "PKCE with code_challenge_method=S256 is required")
		return
	}
	challenge := q.Get("code_challenge")
	if b, err := base64.RawURLEncoding.DecodeString(challenge); err != nil || len(b) != sha256.Size {
		fail("invalid_request", "code_challenge must be a base64url SHA-256 digest")
		return
	}
	code := rand.Text() + rand.Text()
	p.codes[code] = &grant{
		redirectURI: redirectURI,
		challenge:   challenge,
		nonce:       q.Get("nonce"),
		claims:      maps.Clone(p.user),
		expires:     time.Now().Add(codeLifetime),
	}
	v := back.Query()
	v.Set("code", code)
	if s := q.Get("state"); s != "" {
		v.Set("state", s)
	}
	u := *back
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// redirectAllowed reports whether u is a registered redirect URI or, with
// none registered, an http(s) URI on a loopback host. Callers hold p.mu.
func (p *Provider) redirectAllowed(u *url.URL) bool {
	if u.Fragment != "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	if len(p.redirectURIs) > 0 {
		return slices.Contains(p.redirectURIs, u.String())
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// token exchanges a code for an ID token and an access token.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "malformed form")
		return
	}
	form := r.PostForm
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastTokenRequest = cloneValues(form)
	p.lastTokenRequest.Del("client_secret")

	// RFC 6749 2.3.1: the Basic credentials are form-urlencoded first.
	id, secret := form.Get("client_id"), form.Get("client_secret")
	user, pass, basic := r.BasicAuth()
	if basic {
		if secret != "" {
			tokenError(w, http.StatusBadRequest, "invalid_request", "use one client authentication method")
			return
		}
		var errID, errSecret error
		id, errID = url.QueryUnescape(user)
		secret, errSecret = url.QueryUnescape(pass)
		if errID != nil || errSecret != nil {
			id, secret = "", ""
		}
	}
	if id != p.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.ClientSecret)) != 1 {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="oidctest"`)
		}
		tokenError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	if form.Get("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code is supported")
		return
	}
	g := p.codes[form.Get("code")]
	if g == nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown code")
		return
	}
	if g.used {
		// RFC 6749 4.1.2: a code used twice revokes what it was exchanged for.
		delete(p.accessTokens, g.accessToken)
		tokenError(w, http.StatusBadRequest, "invalid_grant", "code already used")
		return
	}
	g.used = true
	if time.Now().After(g.expires) {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "code expired")
		return
	}
	if form.Get("redirect_uri") != g.redirectURI {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request's")
		return
	}
	verifier := form.Get("code_verifier")
	if verifier == "" {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "PKCE code_verifier is required")
		return
	}
	sum := sha256.Sum256([]byte(verifier))
	if len(verifier) < 43 || len(verifier) > 128 ||
		subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.challenge)) != 1 {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "PKCE code_verifier does not match the code_challenge")
		return
	}

	g.accessToken = rand.Text() + rand.Text()
	g.tokenExpiry = time.Now().Add(tokenLifetime)
	p.accessTokens[g.accessToken] = g
	idToken, err := p.sign(p.idTokenClaims(g))
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": g.accessToken,
		"token_type":   "Bearer",
		"expires_in":   int(tokenLifetime.Seconds()),
		"id_token":     idToken,
	})
}

// idTokenOnly are the claims an ID token carries even when the others come
// from userinfo only.
var idTokenOnly = []string{"sub", "acr", "amr", "auth_time"}

// idTokenClaims returns the ID token of g. Callers hold p.mu.
func (p *Provider) idTokenClaims(g *grant) map[string]any {
	claims := map[string]any{}
	for k, v := range g.claims {
		if !p.userinfoOnly || slices.Contains(idTokenOnly, k) {
			claims[k] = v
		}
	}
	now := time.Now()
	claims["iss"] = p.URL
	claims["aud"] = p.ClientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(tokenLifetime).Unix()
	// The at_hash ties the access token to this ID token (OpenID Connect Core
	// 3.1.3.6): the left half of its SHA-256, base64url.
	sum := sha256.Sum256([]byte(g.accessToken))
	claims["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	delete(claims, "nonce")
	if p.nonce != "" {
		claims["nonce"] = p.nonce
	} else if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	return claims
}

// userinfo returns the claims of the access token's user.
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
		return
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.accessTokens[token]
	if !strings.EqualFold(scheme, "Bearer") || g == nil || time.Now().After(g.tokenExpiry) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "invalid access token", http.StatusUnauthorized)
		return
	}
	claims := maps.Clone(g.claims)
	if p.userinfoFormat == UserinfoJSON {
		writeJSON(w, http.StatusOK, claims)
		return
	}
	claims["iss"] = p.URL
	claims["aud"] = p.ClientID
	jwt, err := p.sign(claims)
	if err == nil && p.userinfoFormat == UserinfoEncryptedJWT {
		jwt, err = p.encrypt(jwt)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/jwt")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(jwt))
}

// sign returns claims as a JWT signed RS256 with the provider's key.
func (p *Provider) sign(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: p.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", p.keyID))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// encrypt wraps a signed JWT in a JWE, as SPID/CIE userinfo responses are.
func (p *Provider) encrypt(jwt string) (string, error) {
	enc, err := jose.NewEncrypter(jose.A256CBC_HS512,
		jose.Recipient{Algorithm: jose.RSA_OAEP, Key: &p.key.PublicKey},
		(&jose.EncrypterOptions{}).WithContentType("JWT"))
	if err != nil {
		return "", err
	}
	jwe, err := enc.Encrypt([]byte(jwt))
	if err != nil {
		return "", err
	}
	return jwe.CompactSerialize()
}

func tokenError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
