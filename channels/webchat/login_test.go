package webchat_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/channels/webchat"
	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/web/citizenauth"
	"github.com/dialogo-pa/dialogo/web/citizenauth/oidctest"
)

const marioCF = "RSSMRA80A01H501U" // the fake provider's default user

// withLogin turns on "Accedi con SPID/CIE" against a fake OpenID provider on
// loopback, with the real OIDC client.
func withLogin(idp *oidctest.Provider) option {
	return func(e *env, cfg *webchat.Config) {
		p, err := citizenauth.NewOIDC(e.ctx, citizenauth.OIDCConfig{
			Issuer:       idp.URL,
			ClientID:     idp.ClientID,
			ClientSecret: idp.ClientSecret,
			RedirectURL:  e.url + webchat.CallbackPath,
			StateKey:     []byte("0123456789abcdef0123456789abcdef"),
		})
		require.NoError(e.t, err)
		idp.SetRedirectURIs(e.url + webchat.CallbackPath)
		cfg.Login = p
	}
}

// login follows the login as a browser would, from the chat's button to the
// chat page, and returns the address it ended on.
func (e *env) login(visitor string, header http.Header) (*url.URL, *http.Response) {
	e.t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(e.t, err)
	var landed *url.URL
	browser := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/chat/"+e.tenant.Slug {
			landed = req.URL // the widget's page, not served in these tests
			return http.ErrUseLastResponse
		}
		return nil
	}}
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet,
		e.url+"/chat/"+e.tenant.Slug+"/login?visitor="+url.QueryEscape(visitor), nil)
	require.NoError(e.t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := browser.Do(req)
	require.NoError(e.t, err)
	resp.Body.Close()
	return landed, resp
}

func fragment(t *testing.T, u *url.URL) url.Values {
	t.Helper()
	require.NotNil(t, u, "the login did not come back to the chat")
	v, err := url.ParseQuery(u.Fragment)
	require.NoError(t, err)
	return v
}

func TestLoggingInMakesTheVisitorTheVerifiedCitizenAndKeepsTheConversation(t *testing.T) {
	t.Parallel()
	idp := oidctest.New(t)
	e := setup(t, withLogin(idp))
	c, token, conv := e.startConversation("Vorrei sapere a che punto è la mia pratica")

	landed, _ := e.login(token, http.Header{"Sec-Fetch-Site": {"same-origin"}})

	require.Equal(t, "ok", fragment(t, landed).Get("login"))
	require.Empty(t, fragment(t, landed).Get("visitor"), "the browser keeps its visitor")
	c.ws.Close()
	again, w := e.connect(hello{Visitor: token, ConversationID: conv, LastSeq: 1})
	require.True(t, w.Contact.Verified)
	require.Equal(t, "Mario Rossi", w.Contact.Name)
	require.Equal(t, conv, w.conversation())
	again.say("c-after-login", "Ora sono autenticato")
	require.Equal(t, conv, again.ack("c-after-login").conversation())
	contact, err := e.store.Contact(e.ctx, e.tenant.ID, e.conversation(conv).ContactID)
	require.NoError(t, err)
	require.Equal(t, marioCF, contact.CodiceFiscale)
	var cf crm.Identity
	for _, id := range contact.Identities {
		if id.Kind == crm.IdentityCodiceFiscale {
			cf = id
		}
	}
	require.True(t, cf.Verified)
	require.Equal(t, crm.VerifiedSPID, cf.VerifiedBy)
}

func TestLoggingInJoinsTheVisitorToTheCitizenAlreadyKnown(t *testing.T) {
	t.Parallel()
	idp := oidctest.New(t)
	e := setup(t, withLogin(idp))
	known, err := e.store.EnsureContact(e.ctx, e.tenant.ID, crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale,
		ExternalID: marioCF, Verified: true, VerifiedBy: crm.VerifiedImport, GivenName: "Mario", FamilyName: "Rossi"})
	require.NoError(t, err)
	_, token, conv := e.startConversation("Buongiorno")
	anonymous := e.conversation(conv).ContactID

	landed, _ := e.login(token, nil)

	require.Equal(t, "ok", fragment(t, landed).Get("login"))
	require.Equal(t, known, e.conversation(conv).ContactID, "the conversation moved to the citizen")
	merged, err := e.store.Contact(e.ctx, e.tenant.ID, anonymous)
	require.NoError(t, err)
	require.Equal(t, &known, merged.MergedInto)
	audit, err := e.store.AuditLog(e.ctx, crm.SystemActor(e.tenant.ID), crm.AuditQuery{ContactID: known, Action: "contact.merge"})
	require.NoError(t, err)
	require.Len(t, audit, 1)
	require.Equal(t, "Accesso con SPID dalla web chat", audit[0].Reason)
	_, w := e.connect(hello{Visitor: token})
	require.True(t, w.Contact.Verified)
	require.Equal(t, conv, w.conversation())
}

func TestLoggingInAsSomeoneElseOnASharedComputerGivesANewVisitor(t *testing.T) {
	t.Parallel()
	idp := oidctest.New(t)
	e := setup(t, withLogin(idp))
	_, token, marioConv := e.startConversation("Sono Mario")
	landed, _ := e.login(token, nil)
	require.Equal(t, "ok", fragment(t, landed).Get("login"))

	idp.SetUser(map[string]any{
		"https://attributes.eid.gov.it/fiscal_number": "TINIT-VRDNNA85M41F205G",
		"given_name": "Anna", "family_name": "Verdi",
	})
	landed, _ = e.login(token, nil)

	f := fragment(t, landed)
	require.Equal(t, "ok", f.Get("login"))
	anna := f.Get("visitor")
	require.NotEmpty(t, anna)
	require.NotEqual(t, token, anna)
	_, w := e.connect(hello{Visitor: anna})
	require.Equal(t, "Anna Verdi", w.Contact.Name)
	require.Nil(t, w.ConversationID, "Anna does not see Mario's conversation")
	_, mario := e.connect(hello{Visitor: token})
	require.Equal(t, "Mario Rossi", mario.Contact.Name)
	require.Equal(t, marioConv, mario.conversation())
}

func TestACancelledLoginGoesBackToTheChat(t *testing.T) {
	t.Parallel()
	idp := oidctest.New(t)
	e := setup(t, withLogin(idp))
	_, w := e.newVisitor()
	idp.FailNext("access_denied")

	landed, _ := e.login(w.Visitor, nil)

	require.Equal(t, "cancelled", fragment(t, landed).Get("login"))
}

func TestALoginNotStartedFromTheChatIsRefused(t *testing.T) {
	t.Parallel()
	idp := oidctest.New(t)
	e := setup(t, withLogin(idp))
	_, w := e.newVisitor()

	for _, site := range []string{"cross-site", "same-site", "none"} {
		landed, resp := e.login(w.Visitor, http.Header{"Sec-Fetch-Site": {site}})
		require.Nil(t, landed, site)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, site)
	}
	require.Nil(t, idp.LastAuthorization(), "the provider never saw the login")
}

func TestALoginNeedsAVisitor(t *testing.T) {
	t.Parallel()
	idp := oidctest.New(t)
	e := setup(t, withLogin(idp))

	_, resp := e.login("not-a-token", nil)

	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestWithoutAProviderThereIsNoLogin(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, w := e.newVisitor()

	_, resp := e.login(w.Visitor, nil)

	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html"))
}
