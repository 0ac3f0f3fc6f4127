package citizenauth_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/web/citizenauth"
	"github.com/dialogo-pa/dialogo/web/citizenauth/oidctest"
)

const (
	loginPath    = "/chat/login"
	callbackPath = "/chat/login/callback"
	cookieName   = "dialogo_citizen_login"
	spidL2       = "https://www.spid.gov.it/SpidL2"
	claimEID     = "https://attributes.eid.gov.it/fiscal_number"
	claimSPID    = "https://attributes.spid.gov.it/fiscal_number"
	mario        = "RSSMRA80A01H501U"
)

// bundle is a relying party wired to a fake provider: a tiny site whose
// /chat/login calls Begin and whose callback calls Complete and records what
// it returned, and a browser-like client with a cookie jar.
type bundle struct {
	idp      *oidctest.Provider
	rp       *httptest.Server
	jar      http.CookieJar
	browser  *http.Client // follows every redirect
	stopping *http.Client // stops before the callback, to tamper with it

	mu     sync.Mutex
	result *loginResult
}

type loginResult struct {
	citizen citizenauth.Citizen
	data    string
	err     error
}

func setup(t *testing.T, configure ...func(*citizenauth.OIDCConfig)) *bundle {
	t.Helper()
	b := &bundle{idp: oidctest.New(t)}
	mux := http.NewServeMux()
	b.rp = httptest.NewServer(mux)
	t.Cleanup(b.rp.Close)

	cfg := citizenauth.OIDCConfig{
		Issuer:       b.idp.URL,
		ClientID:     b.idp.ClientID,
		ClientSecret: b.idp.ClientSecret,
		RedirectURL:  b.rp.URL + callbackPath,
		ACRValues:    []string{spidL2},
		StateKey:     []byte("0123456789abcdef0123456789abcdef"),
	}
	for _, c := range configure {
		c(&cfg)
	}
	provider, err := citizenauth.NewOIDC(t.Context(), cfg)
	require.NoError(t, err)
	b.idp.SetRedirectURIs(cfg.RedirectURL)

	mux.HandleFunc("GET "+loginPath, func(w http.ResponseWriter, r *http.Request) {
		if err := provider.Begin(w, r, r.URL.Query().Get("data")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	mux.HandleFunc("GET "+callbackPath, func(w http.ResponseWriter, r *http.Request) {
		c, data, err := provider.Complete(w, r)
		b.mu.Lock()
		b.result = &loginResult{citizen: c, data: data, err: err}
		b.mu.Unlock()
		if err != nil {
			http.Error(w, "login failed", http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte("welcome"))
	})

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	b.jar = jar
	b.browser = &http.Client{Jar: jar}
	b.stopping = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == callbackPath {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// login runs the whole flow as a browser would and returns what Complete
// returned.
func (b *bundle) login(t *testing.T, data string) loginResult {
	t.Helper()
	return b.visit(t, b.browser, b.rp.URL+loginPath+"?data="+url.QueryEscape(data))
}

// callbackURL starts a login and returns the provider's redirect back to the
// callback, not yet followed.
func (b *bundle) callbackURL(t *testing.T, data string) *url.URL {
	t.Helper()
	resp, err := b.stopping.Get(b.rp.URL + loginPath + "?data=" + url.QueryEscape(data))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	u, err := resp.Location()
	require.NoError(t, err)
	require.Equal(t, callbackPath, u.Path)
	return u
}

// visit gets u with client and returns what Complete returned.
func (b *bundle) visit(t *testing.T, client *http.Client, u string) loginResult {
	t.Helper()
	b.mu.Lock()
	b.result = nil
	b.mu.Unlock()
	resp, err := client.Get(u)
	require.NoError(t, err)
	resp.Body.Close()
	b.mu.Lock()
	defer b.mu.Unlock()
	require.NotNil(t, b.result, "the callback was not reached (status %d at %s)", resp.StatusCode, resp.Request.URL)
	return *b.result
}

// loginCookie returns the login cookie the browser would send to the callback.
func (b *bundle) loginCookie(t *testing.T) *http.Cookie {
	t.Helper()
	u, err := url.Parse(b.rp.URL + callbackPath)
	require.NoError(t, err)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == cookieName {
			return c
		}
	}
	return nil
}

func (b *bundle) setLoginCookie(t *testing.T, value string) {
	t.Helper()
	u, err := url.Parse(b.rp.URL + callbackPath)
	require.NoError(t, err)
	b.jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: value, Path: callbackPath}})
}

func TestLoginReadsTheCitizenFromTheIDToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.idp.SetUser(map[string]any{
		"sub":         "pairwise-123",
		claimEID:      "TINIT-" + mario,
		"given_name":  "Mario",
		"family_name": "Rossi",
		"email":       "mario.rossi@example.it",
		"acr":         spidL2,
	})

	got := b.login(t, "tenant=roma&return=/chat")

	require.NoError(t, got.err)
	require.Equal(t, citizenauth.Citizen{
		CodiceFiscale: mario,
		GivenName:     "Mario",
		FamilyName:    "Rossi",
		Email:         "mario.rossi@example.it",
		Method:        crm.VerifiedSPID,
		Subject:       "pairwise-123",
	}, got.citizen)
	require.Equal(t, "tenant=roma&return=/chat", got.data)
	require.Nil(t, b.loginCookie(t), "Complete deletes the login cookie")
}

func TestBeginSendsPKCEStateNonceACRAndTheClaimsRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)

	got := b.login(t, "")
	require.NoError(t, got.err)

	auth := b.idp.LastAuthorization()
	require.Equal(t, "code", auth.Get("response_type"))
	require.Equal(t, b.idp.ClientID, auth.Get("client_id"))
	require.Equal(t, b.rp.URL+callbackPath, auth.Get("redirect_uri"))
	require.Equal(t, "openid profile email", auth.Get("scope"))
	require.Equal(t, spidL2, auth.Get("acr_values"))
	require.False(t, auth.Has("prompt"), "no prompt unless configured")
	require.Regexp(t, `^[A-Za-z0-9]{32,}$`, auth.Get("state"))
	require.Regexp(t, `^[A-Za-z0-9]{32,}$`, auth.Get("nonce"))
	require.NotEqual(t, auth.Get("state"), auth.Get("nonce"))

	require.Equal(t, "S256", auth.Get("code_challenge_method"))
	verifier := b.idp.LastTokenRequest().Get("code_verifier")
	require.NotEmpty(t, verifier)
	require.Equal(t, oauth2.S256ChallengeFromVerifier(verifier), auth.Get("code_challenge"))

	var claims map[string]map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(auth.Get("claims")), &claims))
	for _, where := range []string{"id_token", "userinfo"} {
		require.JSONEq(t, `{"essential":true}`, string(claims[where][claimEID]), where)
		for _, name := range []string{"given_name", "family_name", "email"} {
			require.Contains(t, claims[where], name, where)
		}
	}
}

func TestBeginUsesFreshStateNonceAndVerifierEachTime(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.login(t, "").err)
	first := b.idp.LastAuthorization()
	require.NoError(t, b.login(t, "").err)
	second := b.idp.LastAuthorization()
	for _, p := range []string{"state", "nonce", "code_challenge"} {
		require.NotEqual(t, first.Get(p), second.Get(p), p)
	}
}

func TestBeginSendsPromptWhenConfigured(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *citizenauth.OIDCConfig) { c.Prompt = "consent login" })
	require.NoError(t, b.login(t, "").err)
	require.Equal(t, "consent login", b.idp.LastAuthorization().Get("prompt"))
}

func TestBeginSetsAShortLivedHttpOnlyLaxCookieOnTheCallbackPath(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		b := setup(t, func(c *citizenauth.OIDCConfig) { c.SecureCookies = secure })
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(b.rp.URL + loginPath)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusFound, resp.StatusCode)
		require.True(t, strings.HasPrefix(resp.Header.Get("Location"), b.idp.URL+"/authorize?"))

		cookies := resp.Cookies()
		require.Len(t, cookies, 1)
		c := cookies[0]
		require.Equal(t, cookieName, c.Name)
		require.Equal(t, callbackPath, c.Path)
		require.True(t, c.HttpOnly)
		require.Equal(t, http.SameSiteLaxMode, c.SameSite)
		require.Equal(t, secure, c.Secure)
		require.InDelta(t, 600, c.MaxAge, 2)
	}
}

func TestBeginRefusesDataTooLargeForTheCookie(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, err := b.browser.Get(b.rp.URL + loginPath + "?data=" + strings.Repeat("x", 1025))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Nil(t, b.loginCookie(t))
}

func TestLoginReadsClaimsMissingFromTheIDTokenFromUserinfo(t *testing.T) {
	t.Parallel()
	for name, format := range map[string]oidctest.UserinfoFormat{
		"json":       oidctest.UserinfoJSON,
		"signed jwt": oidctest.UserinfoSignedJWT,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.idp.ClaimsInUserinfoOnly(true)
			b.idp.SetUserinfoFormat(format)
			b.idp.SetUser(map[string]any{
				"sub":         "pairwise-456",
				claimEID:      "TINIT-" + mario,
				"given_name":  "Mario",
				"family_name": "Rossi",
				"acr":         spidL2,
			})

			got := b.login(t, "d")

			require.NoError(t, got.err)
			require.Equal(t, citizenauth.Citizen{
				CodiceFiscale: mario, GivenName: "Mario", FamilyName: "Rossi",
				Method: crm.VerifiedSPID, Subject: "pairwise-456",
			}, got.citizen)
			require.Equal(t, "d", got.data)
		})
	}
}

func TestLoginRefusesEncryptedUserinfoClearly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.idp.ClaimsInUserinfoOnly(true)
	b.idp.SetUserinfoFormat(oidctest.UserinfoEncryptedJWT)

	got := b.login(t, "")

	require.ErrorIs(t, got.err, citizenauth.ErrEncryptedUserinfo)
	require.Contains(t, got.err.Error(), "JWE")
}

func TestLoginTakesTheCanonicalCodiceFiscaleFromTheFiscalNumberClaims(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		claim string
		value string
	}{
		{"eid claim with TINIT prefix", claimEID, "TINIT-" + mario},
		{"older spid claim", claimSPID, "TINIT-" + mario},
		{"plain fiscal_number claim", "fiscal_number", "TINIT-" + mario},
		{"without prefix", claimEID, mario},
		{"lower case", claimEID, "tinit-" + strings.ToLower(mario)},
		{"omocodia variant", claimEID, "TINIT-" + crm.OmocodiaVariant(mario, 3)},
		{"every omocodia digit replaced", claimSPID, "TINIT-" + crm.OmocodiaVariant(mario, 7)},
	}
	for _, tt := range tests {
		for _, userinfoOnly := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, userinfo only %v", tt.name, userinfoOnly), func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				b.idp.ClaimsInUserinfoOnly(userinfoOnly)
				b.idp.SetUser(map[string]any{"sub": "pairwise-789", tt.claim: tt.value, "given_name": "Mario", "family_name": "Rossi"})

				got := b.login(t, "")

				require.NoError(t, got.err)
				require.Equal(t, mario, got.citizen.CodiceFiscale)
				require.Equal(t, "pairwise-789", got.citizen.Subject)
			})
		}
	}
}

func TestLoginPrefersTheEIDClaim(t *testing.T) {
	t.Parallel()
	other := "VRDGPP70E15F205" + string(crm.CodiceFiscaleCheckChar("VRDGPP70E15F205"))
	b := setup(t)
	b.idp.SetUser(map[string]any{claimSPID: "TINIT-" + mario, claimEID: "TINIT-" + other})

	got := b.login(t, "")

	require.NoError(t, got.err)
	require.Equal(t, other, got.citizen.CodiceFiscale)
}

func TestLoginRefusesAMissingOrInvalidCodiceFiscale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		user map[string]any
	}{
		// The sub is a well-formed codice fiscale here, and still not used.
		{"only sub", map[string]any{"sub": mario}},
		{"sub and names", map[string]any{"sub": mario, "given_name": "Mario", "family_name": "Rossi", "acr": spidL2}},
		{"wrong check character", map[string]any{claimEID: "TINIT-RSSMRA80A01H501A"}},
		{"too short", map[string]any{claimEID: "TINIT-RSSMRA80A01"}},
		{"foreign tax number", map[string]any{claimEID: "TINES-12345678Z"}},
		{"not a string", map[string]any{claimEID: 12345}},
		{"empty", map[string]any{claimEID: "", claimSPID: " "}},
	}
	for _, tt := range tests {
		for _, userinfoOnly := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, userinfo only %v", tt.name, userinfoOnly), func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				b.idp.ClaimsInUserinfoOnly(userinfoOnly)
				b.idp.SetUser(tt.user)

				got := b.login(t, "")

				require.ErrorIs(t, got.err, citizenauth.ErrCodiceFiscale)
				require.Equal(t, citizenauth.Citizen{}, got.citizen)
			})
		}
	}
}

func TestLoginTellsSPIDFromCIE(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		claims map[string]any
		want   string
	}{
		{"spid acr", map[string]any{"acr": spidL2}, crm.VerifiedSPID},
		{"cie acr", map[string]any{"acr": "https://www.cie.gov.it/cie/aa"}, crm.VerifiedCIE},
		{"idp cie wins over a spid acr", map[string]any{"acr": spidL2, "idp": "cie"}, crm.VerifiedCIE},
		{"provider CIE", map[string]any{"provider": "CIE"}, crm.VerifiedCIE},
		{"cie entity id", map[string]any{"idp": "https://idserver.servizicie.interno.gov.it/idp/profile/SAML2/POST/SSO"}, crm.VerifiedCIE},
		{"idp spid", map[string]any{"idp": "spid"}, crm.VerifiedSPID},
		{"no acr", map[string]any{}, crm.VerifiedOIDC},
		{"another acr", map[string]any{"acr": "urn:mace:incommon:iap:silver"}, crm.VerifiedOIDC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			user := map[string]any{claimEID: "TINIT-" + mario}
			for k, v := range tt.claims {
				user[k] = v
			}
			b.idp.SetUser(user)

			got := b.login(t, "")

			require.NoError(t, got.err)
			require.Equal(t, tt.want, got.citizen.Method)
		})
	}
}

func TestCompleteRefusesAWrongState(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cb := b.callbackURL(t, "d")
	q := cb.Query()
	q.Set("state", strings.Repeat("A", 52))
	cb.RawQuery = q.Encode()

	got := b.visit(t, b.browser, cb.String())

	require.ErrorIs(t, got.err, citizenauth.ErrLoginState)
	require.Empty(t, got.data)
	require.Nil(t, b.loginCookie(t), "Complete deletes the login cookie on failure too")
}

func TestCompleteRefusesACallbackWithoutState(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cb := b.callbackURL(t, "")
	q := cb.Query()
	q.Del("state")
	cb.RawQuery = q.Encode()

	got := b.visit(t, b.browser, cb.String())

	require.ErrorIs(t, got.err, citizenauth.ErrLoginState)
}

func TestCompleteRefusesACallbackFromAnotherBrowser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cb := b.callbackURL(t, "")

	got := b.visit(t, &http.Client{}, cb.String())

	require.ErrorIs(t, got.err, citizenauth.ErrLoginState)
}

func TestCompleteRefusesATamperedCookie(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tamper func(t *testing.T, value string) string
	}{
		{"changed signature", func(t *testing.T, v string) string {
			payload, sig, _ := strings.Cut(v, ".")
			return payload + "." + flipFirst(sig)
		}},
		{"changed payload", func(t *testing.T, v string) string {
			payload, sig, _ := strings.Cut(v, ".")
			return flipFirst(payload) + "." + sig
		}},
		{"another data under the old signature", func(t *testing.T, v string) string {
			payload, sig, _ := strings.Cut(v, ".")
			raw, err := base64.RawURLEncoding.DecodeString(payload)
			require.NoError(t, err)
			var st map[string]any
			require.NoError(t, json.Unmarshal(raw, &st))
			st["d"] = "tenant=someone-else"
			raw, err = json.Marshal(st)
			require.NoError(t, err)
			return base64.RawURLEncoding.EncodeToString(raw) + "." + sig
		}},
		{"no signature", func(t *testing.T, v string) string {
			payload, _, _ := strings.Cut(v, ".")
			return payload
		}},
		{"garbage", func(t *testing.T, v string) string { return "garbage" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			cb := b.callbackURL(t, "tenant=roma")
			c := b.loginCookie(t)
			require.NotNil(t, c)
			b.setLoginCookie(t, tt.tamper(t, c.Value))

			got := b.visit(t, b.browser, cb.String())

			require.ErrorIs(t, got.err, citizenauth.ErrLoginState)
			require.Empty(t, got.data)
		})
	}
}

// flipFirst changes the first character of a base64url string.
func flipFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestCompleteRefusesAReplayedCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cb := b.callbackURL(t, "")
	cookie := b.loginCookie(t)
	require.NotNil(t, cookie)
	require.NoError(t, b.visit(t, b.browser, cb.String()).err)

	// The replay carries the original cookie, so it gets past the state
	// check: the provider must refuse the used code.
	b.setLoginCookie(t, cookie.Value)
	got := b.visit(t, b.browser, cb.String())

	var retrieve *oauth2.RetrieveError
	require.ErrorAs(t, got.err, &retrieve)
	require.Equal(t, "invalid_grant", retrieve.ErrorCode)
	require.Equal(t, citizenauth.Citizen{}, got.citizen)
}

func TestCompleteReportsTheProviderError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.idp.FailNext("access_denied")

	got := b.login(t, "return=/chat")

	var perr *citizenauth.ProviderError
	require.ErrorAs(t, got.err, &perr)
	require.Equal(t, "access_denied", perr.Code)
	require.Contains(t, got.err.Error(), "access_denied")
	require.Equal(t, "return=/chat", got.data, "the data comes back so the caller can return the citizen to the chat")
	require.Nil(t, b.loginCookie(t))

	// The next login works again.
	require.NoError(t, b.login(t, "").err)
}

func TestCompleteRefusesAnIDTokenWithAnotherNonce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.idp.OverrideNonce(strings.Repeat("N", 52))

	got := b.login(t, "")

	require.ErrorContains(t, got.err, "nonce")
	require.Equal(t, citizenauth.Citizen{}, got.citizen)
}

func TestCompleteRefusesACallbackWithoutCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cb := b.callbackURL(t, "d")
	q := cb.Query()
	q.Del("code")
	cb.RawQuery = q.Encode()

	got := b.visit(t, b.browser, cb.String())

	require.ErrorContains(t, got.err, "code")
	require.False(t, errors.Is(got.err, citizenauth.ErrLoginState))
}

func TestNewOIDCValidatesTheConfiguration(t *testing.T) {
	t.Parallel()
	idp := oidctest.New(t)
	valid := citizenauth.OIDCConfig{
		Issuer:       idp.URL,
		ClientID:     idp.ClientID,
		ClientSecret: idp.ClientSecret,
		RedirectURL:  "https://dialogo.example.it/chat/login/callback",
		StateKey:     []byte(strings.Repeat("k", 32)),
	}
	_, err := citizenauth.NewOIDC(t.Context(), valid)
	require.NoError(t, err)

	tests := []struct {
		name   string
		change func(*citizenauth.OIDCConfig)
		want   string
	}{
		{"no issuer", func(c *citizenauth.OIDCConfig) { c.Issuer = "" }, "issuer"},
		{"no client id", func(c *citizenauth.OIDCConfig) { c.ClientID = "" }, "client id"},
		{"no client secret", func(c *citizenauth.OIDCConfig) { c.ClientSecret = "" }, "client secret"},
		{"relative redirect", func(c *citizenauth.OIDCConfig) { c.RedirectURL = "/chat/login/callback" }, "redirect URL"},
		{"short state key", func(c *citizenauth.OIDCConfig) { c.StateKey = []byte(strings.Repeat("k", 31)) }, "32 bytes"},
		{"unknown prompt", func(c *citizenauth.OIDCConfig) { c.Prompt = "consent always" }, "prompt"},
		{"issuer with a trailing slash", func(c *citizenauth.OIDCConfig) { c.Issuer += "/" }, "discovery"},
		{"unreachable issuer", func(c *citizenauth.OIDCConfig) { c.Issuer = "http://127.0.0.1:1" }, "discovery"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid
			tt.change(&cfg)
			_, err := citizenauth.NewOIDC(t.Context(), cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}
