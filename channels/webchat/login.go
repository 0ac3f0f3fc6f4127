package webchat

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/web/citizenauth"
	"github.com/dialogo-pa/dialogo/web/i18n"
)

// loginData travels through the identity provider's login (in its signed
// cookie) from beginLogin to completeLogin. It names the visitor by identity,
// never by token.
type loginData struct {
	Ente    string `json:"e"`
	Visitor string `json:"v"`
	Lang    string `json:"l"`
}

// The outcomes of a login, put in the fragment of the chat page's address
// (#login=ok), which the widget reads and no server sees.
const (
	loginOK        = "ok"
	loginCancelled = "cancelled"
	loginFailed    = "error"
)

// beginLogin starts "Accedi con SPID/CIE" for a visitor:
// GET /chat/{ente}/login?visitor=<token>.
func (s *Server) beginLogin(w http.ResponseWriter, r *http.Request) {
	lang := i18n.Lang(r)
	i18n.Remember(w, r, s.secureCookies)
	if s.login == nil {
		s.loginPage(w, r, lang, http.StatusNotFound, "login_off", "")
		return
	}
	tenant, err := s.store.TenantBySlug(r.Context(), r.PathValue("ente"))
	if err != nil {
		if !errors.Is(err, crm.ErrNotFound) {
			s.log.Error("web chat login: finding the ente", "err", err)
		}
		s.loginPage(w, r, lang, http.StatusNotFound, "ente_not_found", "")
		return
	}
	// A login started from another site (or a link in an e-mail) could tie
	// the visitor token of whoever made the link to the identity of whoever
	// follows it. The widget starts it from our own page; browsers say so.
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		s.log.Info("web chat login refused: not started from the chat", "ente", tenant.Slug, "sec_fetch_site", site)
		s.loginPage(w, r, lang, http.StatusForbidden, "login_cross_site", tenant.Slug)
		return
	}
	token := r.URL.Query().Get("visitor")
	if !validVisitorToken(token) {
		s.loginPage(w, r, lang, http.StatusBadRequest, "visitor_required", tenant.Slug)
		return
	}
	data, err := json.Marshal(loginData{Ente: tenant.Slug, Visitor: visitorID(token), Lang: lang})
	if err != nil {
		panic(err) // three strings always encode
	}
	if err := s.login.Begin(w, r, string(data)); err != nil {
		s.log.Error("web chat login: starting", "ente", tenant.Slug, "err", err)
		s.loginPage(w, r, lang, http.StatusBadGateway, "login_failed", tenant.Slug)
	}
}

// completeLogin handles the identity provider's callback: the visitor's
// contact becomes the verified contact of the codice fiscale, and the browser
// goes back to the chat, which reconnects.
func (s *Server) completeLogin(w http.ResponseWriter, r *http.Request) {
	if s.login == nil {
		s.loginPage(w, r, i18n.Lang(r), http.StatusNotFound, "login_off", "")
		return
	}
	citizen, raw, err := s.login.Complete(w, r)
	var d loginData
	if raw != "" {
		if jerr := json.Unmarshal([]byte(raw), &d); jerr != nil {
			s.log.Error("web chat login: unreadable login data", "err", jerr)
			d = loginData{}
		}
	}
	lang := d.Lang
	if !i18n.Supported(lang) {
		lang = i18n.Lang(r)
	}
	if err != nil {
		var refused *citizenauth.ProviderError
		outcome := loginFailed
		if errors.As(err, &refused) && refused.Code == "access_denied" {
			outcome = loginCancelled
			s.log.Info("web chat login cancelled", "ente", d.Ente)
		} else {
			s.log.Warn("web chat login failed", "ente", d.Ente, "err", err)
		}
		if d.Ente == "" {
			s.loginPage(w, r, lang, http.StatusBadRequest, "login_failed", "")
			return
		}
		s.backToChat(w, r, d.Ente, outcome, "")
		return
	}
	tenant, err := s.store.TenantBySlug(r.Context(), d.Ente)
	if err != nil || d.Visitor == "" {
		s.log.Error("web chat login: the login data names no ente or visitor", "err", err)
		s.loginPage(w, r, lang, http.StatusBadRequest, "login_failed", "")
		return
	}
	by, reason := crm.VerifiedOIDC, "Accesso con identità digitale dalla web chat"
	switch citizen.Method {
	case crm.VerifiedSPID:
		by, reason = crm.VerifiedSPID, "Accesso con SPID dalla web chat"
	case crm.VerifiedCIE:
		by, reason = crm.VerifiedCIE, "Accesso con CIE dalla web chat"
	}
	proof := crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale, ExternalID: citizen.CodiceFiscale,
		Verified: true, VerifiedBy: by, GivenName: citizen.GivenName, FamilyName: citizen.FamilyName,
		Email: citizen.Email, Language: lang}
	newToken := ""
	res, err := s.store.SignIn(r.Context(), tenant.ID, visitorClaim(d.Visitor, lang), proof, reason)
	if errors.Is(err, crm.ErrAnotherPerson) {
		// A shared computer: the browser's visitor was verified as someone
		// else. The citizen starts afresh as themself.
		newToken = newVisitorToken()
		res, err = s.store.SignIn(r.Context(), tenant.ID, visitorClaim(visitorID(newToken), lang), proof, reason)
	}
	if err != nil {
		s.log.Error("web chat login: joining the visitor to the citizen", "ente", tenant.Slug, "err", err)
		s.backToChat(w, r, tenant.Slug, loginFailed, "")
		return
	}
	s.log.Info("web chat login", "ente", tenant.Slug, "method", by, "contact_id", res.ContactID,
		"merged_contact_id", res.MergedID, "new_visitor", newToken != "")
	s.backToChat(w, r, tenant.Slug, loginOK, newToken)
}

// backToChat redirects to the chat page with the outcome in the fragment, and
// the new visitor token when the browser needs one.
func (s *Server) backToChat(w http.ResponseWriter, r *http.Request, ente, outcome, visitor string) {
	q := url.Values{"login": {outcome}}
	if visitor != "" {
		q.Set("visitor", visitor)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, s.chatURL(ente)+"#"+q.Encode(), http.StatusSeeOther)
}

var loginPageTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title></head>
<body>
<main>
<h1>{{.Title}}</h1>
<p>{{.Text}}</p>
{{if .Back}}<p><a href="{{.Back}}">{{.BackText}}</a></p>{{end}}
</main>
</body>
</html>
`))

// loginPage is the page of a login that cannot go on, with a link back to
// the chat when the ente is known.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, lang string, status int, key, ente string) {
	view := struct {
		Lang, Title, Text, Back, BackText string
	}{Lang: lang, Title: texts.T(lang, "login_failed_title"), Text: texts.T(lang, key), BackText: texts.T(lang, "back_to_chat")}
	if ente != "" {
		view.Back = s.chatURL(ente)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	w.WriteHeader(status)
	if err := loginPageTemplate.Execute(w, view); err != nil {
		s.log.Error("web chat login page", "err", err)
	}
}
