package oidctest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/dialogo-pa/dialogo/web/citizenauth/oidctest"
)

const redirectURI = "http://127.0.0.1:9/callback"

// noRedirects sees the provider's redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorizeParams is a valid authorization request for verifier.
func authorizeParams(p *oidctest.Provider, verifier string) url.Values {
	return url.Values{
		"client_id":             {p.ClientID},
		"redirect_uri":          {redirectURI},
		"response_type":         {"code"},
		"scope":                 {"openid profile"},
		"state":                 {"STATE0123456789STATE0123456789STATE"},
		"nonce":                 {"NONCE0123456789NONCE0123456789NONCE"},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"},
	}
}

// authorize sends params to /authorize and returns the response, which is not
// followed.
func authorize(t *testing.T, p *oidctest.Provider, params url.Values) *http.Response {
	t.Helper()
	resp, err := noRedirects.Get(p.URL + "/authorize?" + params.Encode())
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

// redirectedBack returns the query of the redirect back to the client.
func redirectedBack(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := resp.Location()
	require.NoError(t, err)
	require.Equal(t, redirectURI, loc.Scheme+"://"+loc.Host+loc.Path)
	return loc.Query()
}

type tokenResponse struct {
	status int
	body   map[string]any
}

// exchange posts form to /token with the client's secret in Basic auth.
func exchange(t *testing.T, p *oidctest.Provider, form url.Values) tokenResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.URL+"/token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(p.ClientID), url.QueryEscape(p.ClientSecret))
	return doToken(t, req)
}

func doToken(t *testing.T, req *http.Request) tokenResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return tokenResponse{status: resp.StatusCode, body: body}
}

func codeForm(code, verifier string) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {redirectURI},
		"code_verifier": {verifier},
	}
}

func TestAuthorizeRedirectsBackWithACodeAndTheState(t *testing.T) {
	t.Parallel()
	p := oidctest.New(t)
	verifier := oauth2.GenerateVerifier()

	back := redirectedBack(t, authorize(t, p, authorizeParams(p, verifier)))

	require.NotEmpty(t, back.Get("code"))
	require.Equal(t, "STATE0123456789STATE0123456789STATE", back.Get("state"))
	require.Equal(t, "openid profile", p.LastAuthorization().Get("scope"))

	tok := exchange(t, p, codeForm(back.Get("code"), verifier))
	require.Equal(t, http.StatusOK, tok.status, tok.body)
	require.NotEmpty(t, tok.body["id_token"])
	require.NotEmpty(t, tok.body["access_token"])
	require.Equal(t, "Bearer", tok.body["token_type"])
}

func TestAuthorizeRefusesRequestsWithoutPKCES256(t *testing.T) {
	t.Parallel()
	p := oidctest.New(t)
	verifier := oauth2.GenerateVerifier()
	tests := []struct {
		name   string
		change func(url.Values)
		want   string
	}{
		{"no challenge", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, "invalid_request"},
		{"plain method", func(v url.Values) { v.Set("code_challenge", verifier); v.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"no method", func(v url.Values) { v.Del("code_challenge_method") }, "invalid_request"},
		{"malformed challenge", func(v url.Values) { v.Set("code_challenge", "short") }, "invalid_request"},
		{"implicit flow", func(v url.Values) { v.Set("response_type", "id_token") }, "unsupported_response_type"},
		{"no openid scope", func(v url.Values) { v.Set("scope", "profile") }, "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			params := authorizeParams(p, verifier)
			tt.change(params)

			back := redirectedBack(t, authorize(t, p, params))

			require.Equal(t, tt.want, back.Get("error"))
			require.Empty(t, back.Get("code"))
			require.Equal(t, params.Get("state"), back.Get("state"))
		})
	}
}

func TestAuthorizeDoesNotRedirectForAnUnknownClientOrRedirectURI(t *testing.T) {
	t.Parallel()
	p := oidctest.New(t)
	tests := []struct {
		name   string
		change func(url.Values)
	}{
		{"unknown client", func(v url.Values) { v.Set("client_id", "someone-else") }},
		{"redirect off loopback", func(v url.Values) { v.Set("redirect_uri", "https://attacker.example/callback") }},
		{"no redirect", func(v url.Values) { v.Del("redirect_uri") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			params := authorizeParams(p, oauth2.GenerateVerifier())
			tt.change(params)
			resp := authorize(t, p, params)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			require.Empty(t, resp.Header.Get("Location"))
		})
	}
}

func TestAuthorizeAcceptsOnlyRegisteredRedirectURIsOnceSet(t *testing.T) {
	t.Parallel()
	p := oidctest.New(t)
	p.SetRedirectURIs("http://127.0.0.1:9/other")
	resp := authorize(t, p, authorizeParams(p, oauth2.GenerateVerifier()))
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)

	p.SetRedirectURIs(redirectURI)
	redirectedBack(t, authorize(t, p, authorizeParams(p, oauth2.GenerateVerifier())))
}

func TestFailNextFailsOneAuthorization(t *testing.T) {
	t.Parallel()
	p := oidctest.New(t)
	p.FailNext("access_denied")

	back := redirectedBack(t, authorize(t, p, authorizeParams(p, oauth2.GenerateVerifier())))
	require.Equal(t, "access_denied", back.Get("error"))
	require.Equal(t, "STATE0123456789STATE0123456789STATE", back.Get("state"))

	back = redirectedBack(t, authorize(t, p, authorizeParams(p, oauth2.GenerateVerifier())))
	require.Empty(t, back.Get("error"))
	require.NotEmpty(t, back.Get("code"))
}

func TestTokenRefusesAMissingOrWrongPKCEVerifier(t *testing.T) {
	t.Parallel()
	p := oidctest.New(t)
	tests := []struct {
		name     string
		verifier func(right string) string
	}{
		{"missing", func(string) string { return "" }},
		{"another verifier", func(string) string { return oauth2.GenerateVerifier() }},
		{"the challenge instead", oauth2.S256ChallengeFromVerifier},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			verifier := oauth2.GenerateVerifier()
			back := redirectedBack(t, authorize(t, p, authorizeParams(p, verifier)))

			tok := exchange(t, p, codeForm(back.Get("code"), tt.verifier(verifier)))

			require.Equal(t, http.StatusBadRequest, tok.status)
			require.Equal(t, "invalid_grant", tok.body["error"])
			require.Nil(t, tok.body["id_token"])
		})
	}
}

func TestTokenRefusesAReplayedCodeAndRevokesItsAccessToken(t *testing.T) {
	t.Parallel()
	p := oidctest.New(t)
	verifier := oauth2.GenerateVerifier()
	back := redirectedBack(t, authorize(t, p, authorizeParams(p, verifier)))
	first := exchange(t, p, codeForm(back.Get("code"), verifier))
	require.Equal(t, http.StatusOK, first.status)
	accessToken := first.body["access_token"].(string)
	require.Equal(t, http.StatusOK, userinfoStatus(t, p, accessToken))

	again := exchange(t, p, codeForm(back.Get("code"), verifier))

	require.Equal(t, http.StatusBadRequest, again.status)
	require.Equal(t, "invalid_grant", again.body["error"])
	require.Equal(t, http.StatusUnauthorized, userinfoStatus(t, p, accessToken))
}

func TestTokenRefusesAnotherRedirectURI(t *testing.T) {
	t.Parallel()
	p := oidctest.New(t)
	verifier := oauth2.GenerateVerifier()
	back := redirectedBack(t, authorize(t, p, authorizeParams(p, verifier)))
	form := codeForm(back.Get("code"), verifier)
	form.Set("redirect_uri", "http://127.0.0.1:9/elsewhere")

	tok := exchange(t, p, form)

	require.Equal(t, "invalid_grant", tok.body["error"])
}

func TestTokenAuthenticatesTheClient(t *testing.T) {
	t.Parallel()
	p := oidctest.New(t)
	tests := []struct {
		name       string
		authorize  func(req *http.Request, form url.Values)
		wantStatus int
	}{
		{"client_secret_basic", func(req *http.Request, _ url.Values) {
			req.SetBasicAuth(p.ClientID, p.ClientSecret)
		}, http.StatusOK},
		{"client_secret_post", func(_ *http.Request, form url.Values) {
			form.Set("client_id", p.ClientID)
			form.Set("client_secret", p.ClientSecret)
		}, http.StatusOK},
		{"wrong secret", func(req *http.Request, _ url.Values) {
			req.SetBasicAuth(p.ClientID, "wrong")
		}, http.StatusUnauthorized},
		{"no credentials", func(*http.Request, url.Values) {}, http.StatusUnauthorized},
		{"both methods", func(req *http.Request, form url.Values) {
			req.SetBasicAuth(p.ClientID, p.ClientSecret)
			form.Set("client_secret", p.ClientSecret)
		}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			verifier := oauth2.GenerateVerifier()
			back := redirectedBack(t, authorize(t, p, authorizeParams(p, verifier)))
			form := codeForm(back.Get("code"), verifier)
			req, err := http.NewRequest(http.MethodPost, p.URL+"/token", nil)
			require.NoError(t, err)
			tt.authorize(req, form)
			body := form.Encode()
			req.Body = io.NopCloser(strings.NewReader(body))
			req.ContentLength = int64(len(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")

			tok := doToken(t, req)

			require.Equal(t, tt.wantStatus, tok.status, tok.body)
			require.NotContains(t, p.LastTokenRequest(), "client_secret")
		})
	}
}

func TestUserinfoNeedsABearerToken(t *testing.T) {
	t.Parallel()
	p := oidctest.New(t)
	require.Equal(t, http.StatusUnauthorized, userinfoStatus(t, p, ""))
	require.Equal(t, http.StatusUnauthorized, userinfoStatus(t, p, "not-a-token"))
}

func userinfoStatus(t *testing.T, p *oidctest.Provider, accessToken string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, p.URL+"/userinfo", nil)
	require.NoError(t, err)
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}
