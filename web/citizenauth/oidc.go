package citizenauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDCConfig configures NewOIDC.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL, exactly as its discovery document
	// and ID tokens spell it; discovery is at Issuer + "/.well-known/openid-configuration".
	Issuer string
	// ClientID and ClientSecret are the credentials the provider issued to
	// Dialogo; the secret authenticates at the token endpoint
	// (client_secret_basic, or client_secret_post when that is all the provider
	// supports).
	ClientID     string
	ClientSecret string
	// RedirectURL is the absolute URL of the handler that calls Complete, as
	// registered at the provider, e.g. https://dialogo.comune.example.it/chat/login/callback.
	RedirectURL string
	// Scopes requested; default openid, profile and email. openid is added
	// when missing.
	Scopes []string
	// ACRValues, when set, are sent as acr_values in order of preference, e.g.
	// https://www.spid.gov.it/SpidL2.
	ACRValues []string
	// Prompt, when set, is sent as the prompt parameter: "consent" or
	// "consent login" for a SPID/CIE provider that requires it. Default: none.
	Prompt string
	// StateKey signs the login cookie with HMAC-SHA256; at least 32 bytes, the
	// same on every instance behind one load balancer.
	StateKey []byte
	// SecureCookies marks the login cookie Secure (HTTPS only).
	SecureCookies bool
	// HTTPClient talks to the provider; default: a client with a 15 second
	// timeout.
	HTTPClient *http.Client
}

// ProviderError is an error the identity provider sent back to the callback
// instead of a code, e.g. "access_denied" when the citizen cancelled.
type ProviderError struct {
	Code        string // the "error" parameter, e.g. access_denied, login_required
	Description string // the "error_description" parameter, possibly empty
}

func (e *ProviderError) Error() string {
	if e.Description == "" {
		return "citizenauth: the identity provider refused the login: " + e.Code
	}
	return fmt.Sprintf("citizenauth: the identity provider refused the login: %s (%s)", e.Code, e.Description)
}

// requestedClaims is the OpenID Connect "claims" request parameter. SPID
// releases user attributes only when they are asked for this way; CIE and
// brokers that ignore it (OAuth 2.0 requires unknown parameters to be
// ignored) fall back on the profile and email scopes.
var requestedClaims = func() string {
	attrs := map[string]any{
		claimFiscalNumber: map[string]bool{"essential": true},
		"given_name":      nil,
		"family_name":     nil,
		"email":           nil,
	}
	b, err := json.Marshal(map[string]any{"userinfo": attrs, "id_token": attrs})
	if err != nil {
		panic(err) // a constant map always marshals
	}
	return string(b)
}()

// validPrompts are the prompt values of OpenID Connect Core 3.1.2.1.
var validPrompts = []string{"none", "login", "consent", "select_account"}

type oidcProvider struct {
	provider      *oidc.Provider
	oauth         oauth2.Config
	verifier      *oidc.IDTokenVerifier
	client        *http.Client // the configured client, refusing encrypted userinfo
	acrValues     string
	prompt        string
	stateKey      []byte
	cookiePath    string
	secureCookies bool
}

// NewOIDC returns a Provider for an OpenID Connect provider found through
// discovery. It fails when the provider cannot be reached, or its discovery
// document shows it cannot do what this client needs (PKCE S256, a client
// secret at the token endpoint).
func NewOIDC(ctx context.Context, cfg OIDCConfig) (Provider, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("citizenauth: OIDC issuer, client id and client secret are required")
	}
	redirect, err := url.Parse(cfg.RedirectURL)
	if err != nil || (redirect.Scheme != "https" && redirect.Scheme != "http") || redirect.Host == "" {
		return nil, fmt.Errorf("citizenauth: OIDC redirect URL %q: use an absolute http(s) URL", cfg.RedirectURL)
	}
	if len(cfg.StateKey) < 32 {
		return nil, errors.New("citizenauth: the OIDC state key must be at least 32 bytes")
	}
	for _, p := range strings.Fields(cfg.Prompt) {
		if !slices.Contains(validPrompts, p) {
			return nil, fmt.Errorf("citizenauth: OIDC prompt %q: use %s", p, strings.Join(validPrompts, ", "))
		}
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "profile", "email"}
	}
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}

	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("citizenauth: OIDC discovery for %s: %w", cfg.Issuer, err)
	}
	var meta struct {
		CodeChallengeMethods []string `json:"code_challenge_methods_supported"`
		TokenAuthMethods     []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, fmt.Errorf("citizenauth: OIDC discovery for %s: %w", cfg.Issuer, err)
	}
	// Providers that support PKCE do not always say so; one that lists its
	// methods without S256 would reject every login.
	if len(meta.CodeChallengeMethods) > 0 && !slices.Contains(meta.CodeChallengeMethods, "S256") {
		return nil, fmt.Errorf("citizenauth: %s does not support PKCE S256 (code_challenge_methods_supported: %v)", cfg.Issuer, meta.CodeChallengeMethods)
	}
	endpoint := provider.Endpoint()
	// Without the list the default is client_secret_basic (OpenID Connect
	// Discovery 1.0, section 3). Choosing up front avoids oauth2's
	// auto-detection, which retries a refused exchange with the same code.
	switch {
	case len(meta.TokenAuthMethods) == 0, slices.Contains(meta.TokenAuthMethods, "client_secret_basic"):
		endpoint.AuthStyle = oauth2.AuthStyleInHeader
	case slices.Contains(meta.TokenAuthMethods, "client_secret_post"):
		endpoint.AuthStyle = oauth2.AuthStyleInParams
	default:
		return nil, fmt.Errorf("citizenauth: %s accepts only %v at the token endpoint, not a client secret (a native SPID/CIE federation provider needs private_key_jwt, another Provider)",
			cfg.Issuer, meta.TokenAuthMethods)
	}

	path := redirect.EscapedPath()
	if path == "" {
		path = "/"
	}
	return &oidcProvider{
		provider: provider,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     endpoint,
			RedirectURL:  cfg.RedirectURL,
			Scopes:       scopes,
		},
		verifier:      provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		client:        refuseEncryptedUserinfo(client, provider.UserInfoEndpoint()),
		acrValues:     strings.Join(cfg.ACRValues, " "),
		prompt:        strings.Join(strings.Fields(cfg.Prompt), " "),
		stateKey:      slices.Clone(cfg.StateKey),
		cookiePath:    path,
		secureCookies: cfg.SecureCookies,
	}, nil
}

// Begin remembers a fresh state, nonce and PKCE verifier in the login cookie
// and redirects the browser to the provider's authorization endpoint.
func (o *oidcProvider) Begin(w http.ResponseWriter, r *http.Request, data string) error {
	if len(data) > maxDataLen {
		return fmt.Errorf("citizenauth: begin login: data is %d bytes, at most %d fit in the login cookie", len(data), maxDataLen)
	}
	expires := time.Now().Add(loginLifetime)
	st := loginState{
		State:    randomToken(),
		Nonce:    randomToken(),
		Verifier: oauth2.GenerateVerifier(),
		Data:     data,
		Expires:  expires.Unix(),
	}
	value, err := seal(o.stateKey, st)
	if err != nil {
		return fmt.Errorf("citizenauth: begin login: %w", err)
	}
	opts := []oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(st.Verifier),
		oidc.Nonce(st.Nonce),
		oauth2.SetAuthURLParam("claims", requestedClaims),
	}
	if o.acrValues != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", o.acrValues))
	}
	if o.prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", o.prompt))
	}
	http.SetCookie(w, o.loginCookie(value, expires))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, o.oauth.AuthCodeURL(st.State, opts...), http.StatusFound)
	return nil
}

// Complete checks the callback against the login cookie, which it deletes
// whatever happens, exchanges the code and reads the citizen's identity.
//
// The data given to Begin is returned, on failure too, whenever the callback
// matches the login cookie, so that the caller can send the citizen back to
// where they were, e.g. after a *ProviderError with code access_denied (the
// citizen cancelled).
func (o *oidcProvider) Complete(w http.ResponseWriter, r *http.Request) (Citizen, string, error) {
	http.SetCookie(w, o.loginCookie("", time.Time{}))
	w.Header().Set("Cache-Control", "no-store")

	q := r.URL.Query()
	st, stateErr := o.loginStateOf(r, q.Get("state"))
	if code := q.Get("error"); code != "" {
		return Citizen{}, st.Data, &ProviderError{Code: truncate(code), Description: truncate(q.Get("error_description"))}
	}
	if stateErr != nil {
		return Citizen{}, "", stateErr
	}
	code := q.Get("code")
	if code == "" {
		return Citizen{}, st.Data, errors.New("citizenauth: the callback has neither a code nor an error")
	}
	c, err := o.citizenFor(r.Context(), code, st)
	return c, st.Data, err
}

// loginStateOf returns the login state in r's cookie when it is authentic,
// unexpired and for state; otherwise the zero loginState and ErrLoginState.
func (o *oidcProvider) loginStateOf(r *http.Request, state string) (loginState, error) {
	cookie, err := r.Cookie(loginCookieName)
	if err != nil {
		return loginState{}, fmt.Errorf("%w: no login cookie", ErrLoginState)
	}
	st, err := open(o.stateKey, cookie.Value, time.Now())
	if err != nil {
		return loginState{}, err
	}
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(st.State)) != 1 {
		return loginState{}, fmt.Errorf("%w: the state parameter differs from the cookie's", ErrLoginState)
	}
	return st, nil
}

// citizenFor exchanges code and reads the citizen from the ID token and, for
// what the ID token lacks, the userinfo endpoint.
func (o *oidcProvider) citizenFor(ctx context.Context, code string, st loginState) (Citizen, error) {
	ctx = oidc.ClientContext(ctx, o.client)
	token, err := o.oauth.Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return Citizen{}, fmt.Errorf("citizenauth: exchange the authorization code: %w", err)
	}
	rawIDToken, _ := token.Extra("id_token").(string)
	if rawIDToken == "" {
		return Citizen{}, errors.New("citizenauth: the token response has no id_token")
	}
	idToken, err := o.verifier.Verify(ctx, rawIDToken)
	if err != nil {
		return Citizen{}, fmt.Errorf("citizenauth: verify the ID token: %w", err)
	}
	// go-oidc leaves the nonce to the caller: it is what ties the ID token to
	// this login rather than to one replayed from another.
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(st.Nonce)) != 1 {
		return Citizen{}, errors.New("citizenauth: verify the ID token: its nonce differs from this login's")
	}
	if idToken.AccessTokenHash != "" {
		if err := idToken.VerifyAccessToken(token.AccessToken); err != nil {
			return Citizen{}, fmt.Errorf("citizenauth: verify the ID token: %w", err)
		}
	}
	var idClaims claimSet
	if err := idToken.Claims(&idClaims); err != nil {
		return Citizen{}, fmt.Errorf("citizenauth: read the ID token claims: %w", err)
	}
	// With several audiences the token must have been issued to us (OpenID
	// Connect Core 3.1.3.7, points 4 and 5).
	if len(idToken.Audience) > 1 && idClaims.str("azp") != o.oauth.ClientID {
		return Citizen{}, fmt.Errorf("citizenauth: verify the ID token: it has several audiences and azp %q is not this client", idClaims.str("azp"))
	}
	if idToken.Subject == "" {
		return Citizen{}, errors.New("citizenauth: verify the ID token: it has no sub")
	}

	sets := []claimSet{idClaims}
	// SPID releases its attributes only from userinfo; CIE and most brokers
	// put them in the ID token too, which saves the round trip.
	if first(sets, fiscalNumberClaims...) == "" || first(sets, "given_name") == "" || first(sets, "family_name") == "" {
		if o.provider.UserInfoEndpoint() != "" {
			userClaims, err := o.userinfo(ctx, token, idToken.Subject)
			if err != nil {
				return Citizen{}, err
			}
			sets = append(sets, userClaims)
		}
	}
	cf, err := codiceFiscaleFrom(first(sets, fiscalNumberClaims...))
	if err != nil {
		return Citizen{}, err
	}
	return Citizen{
		CodiceFiscale: cf,
		GivenName:     first(sets, "given_name"),
		FamilyName:    first(sets, "family_name"),
		Email:         first(sets, "email"),
		Method:        methodOf(sets),
		Subject:       idToken.Subject,
	}, nil
}

// userinfo reads the userinfo endpoint: JSON, or a signed JWT that go-oidc
// checks against the provider's keys.
func (o *oidcProvider) userinfo(ctx context.Context, token *oauth2.Token, subject string) (claimSet, error) {
	info, err := o.provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
	if err != nil {
		return nil, fmt.Errorf("citizenauth: read userinfo: %w", err)
	}
	// OpenID Connect Core 5.3.2: a userinfo response about someone else must
	// not be used.
	if info.Subject != subject {
		return nil, fmt.Errorf("citizenauth: read userinfo: its sub %q differs from the ID token's %q", info.Subject, subject)
	}
	var claims claimSet
	if err := info.Claims(&claims); err != nil {
		return nil, fmt.Errorf("citizenauth: read userinfo: %w", err)
	}
	return claims, nil
}

// truncate bounds what the callback's query puts in an error, and so in logs:
// anyone can send a browser to the callback with any parameters.
func truncate(s string) string {
	const limit = 200
	if len(s) <= limit {
		return s
	}
	return strings.ToValidUTF8(s[:limit], "") + "…"
}
