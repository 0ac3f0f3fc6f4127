package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestSearchContacts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("search")
	cf := newCodiceFiscale(t)
	e.importFascicolo(tn, fascicoloRecord(t, tn, cf, "Ottavio", "Zanzottera"))
	e.citizenWrites(tn, visitor("Ottavio Zanzottera"), "Ciao")
	mail := e.citizenWrites(tn, crm.IdentityClaim{Kind: crm.IdentityEmail, ExternalID: "ottavio." + randomHex(3) + "@example.org"}, "Salve")
	c := e.login(tn.staff[crm.RoleCommunication])

	search := func(query string) page[crm.Contact] {
		t.Helper()
		res := c.do("GET", "/api/v1/contacts?"+query, nil)
		require.Equal(t, http.StatusOK, res.status, res.text())
		var p page[crm.Contact]
		res.decode(&p)
		return p
	}

	require.Len(t, search("q=zanzottera").Items, 2, "by name, case-insensitively")
	byCF := search("codice_fiscale=" + url.QueryEscape(crm.OmocodiaVariant(cf, 3)))
	require.Len(t, byCF.Items, 1, "by any omocodia variant")
	require.Equal(t, cf, byCF.Items[0].CodiceFiscale)
	require.Len(t, search("q="+cf).Items, 1, "a codice fiscale is recognised in q")

	contact, err := e.store.Contact(context.Background(), tn.ID, mail.ContactID)
	require.NoError(t, err)
	byMail := search("email=" + url.QueryEscape(contact.Email))
	require.Len(t, byMail.Items, 1)
	require.Equal(t, mail.ContactID, byMail.Items[0].ID)

	// Paging: a full page points to the next one.
	first := search("q=zanzottera&limit=1")
	require.Len(t, first.Items, 1)
	require.NotEmpty(t, first.Next)
	second := search("q=zanzottera&limit=1&after=" + first.Next)
	require.Len(t, second.Items, 1)
	require.Greater(t, second.Items[0].ID, first.Items[0].ID)
	third := search("q=zanzottera&limit=1&after=" + second.Next)
	require.Empty(t, third.Items)
	require.Empty(t, third.Next)
}

func TestSearchRefusesAnInvalidCodiceFiscale(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("badcf")
	c := e.login(tn.staff[crm.RoleOperator])
	cf := newCodiceFiscale(t)
	wrongCheck := cf[:15] + string(rune('A'+(cf[15]-'A'+1)%26))

	p := c.do("GET", "/api/v1/contacts?codice_fiscale="+wrongCheck, nil).requireProblem(http.StatusUnprocessableEntity, "codice_fiscale")
	require.Contains(t, p.Errors[0].Reason, "check character")
	c.do("GET", "/api/v1/contacts?phone=abc", nil).requireProblem(http.StatusUnprocessableEntity, "phone")
	c.do("GET", "/api/v1/contacts?limit=1000", nil).requireProblem(http.StatusUnprocessableEntity, "limit")
	c.do("GET", "/api/v1/contacts?after=x", nil).requireProblem(http.StatusUnprocessableEntity, "after")
}

func TestGetContactWithIdentities(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("getcontact")
	in := e.citizenWrites(tn, visitor("Bruna Lodi"), "Buongiorno")
	c := e.login(tn.staff[crm.RoleOperator])

	res := c.do("GET", "/api/v1/contacts/"+id(in.ContactID), nil)
	require.Equal(t, http.StatusOK, res.status)
	var got contactView
	res.decode(&got)
	require.Equal(t, "Bruna Lodi", got.DisplayName)
	require.Len(t, got.Identities, 1)
	require.Equal(t, crm.IdentityWebchat, got.Identities[0].Kind)

	for _, bad := range []string{"abc", "0", "-3", "1.5", "99999999999999999999"} {
		p := c.do("GET", "/api/v1/contacts/"+bad, nil).requireProblem(http.StatusNotFound, "")
		require.Contains(t, p.Detail, "contact_id")
	}
	c.do("GET", "/api/v1/contacts/"+id(in.ContactID+1_000_000), nil).requireProblem(http.StatusNotFound, "")
}

func TestAddIdentity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("identity")
	a := e.citizenWrites(tn, visitor("Elena Ferri"), "Ciao")
	b := e.citizenWrites(tn, visitor("Paolo Conte"), "Ciao")
	c := e.login(tn.staff[crm.RoleOperator])
	path := "/api/v1/contacts/" + id(a.ContactID) + "/identities"

	address := "Elena.Ferri." + randomHex(3) + "@Example.org"
	res := c.do("POST", path, map[string]any{"kind": "email", "external_id": address, "verified": true})
	require.Equal(t, http.StatusCreated, res.status, res.text())
	var idn crm.Identity
	res.decode(&idn)
	require.Equal(t, a.ContactID, idn.ContactID)
	require.True(t, idn.Verified)
	require.Equal(t, crm.VerifiedOperator, idn.VerifiedBy)

	res = c.do("GET", path, nil)
	require.Equal(t, http.StatusOK, res.status)
	var list page[crm.Identity]
	res.decode(&list)
	require.Len(t, list.Items, 2)

	// The same address on another contact: merge them instead.
	c.do("POST", "/api/v1/contacts/"+id(b.ContactID)+"/identities", map[string]any{"kind": "email", "external_id": address}).
		requireProblem(http.StatusConflict, "")

	c.do("POST", path, map[string]any{"kind": "codice_fiscale", "external_id": "RSSMRA80A01F205Y"}).
		requireProblem(http.StatusUnprocessableEntity, "external_id")
	c.do("POST", path, map[string]any{"kind": "fax", "external_id": "0212345"}).
		requireProblem(http.StatusUnprocessableEntity, "kind")

	// Communication staff read identities but do not add them.
	com := e.login(tn.staff[crm.RoleCommunication])
	require.Equal(t, http.StatusOK, com.do("GET", path, nil).status)
	com.do("POST", path, map[string]any{"kind": "telegram", "external_id": "12345"}).requireProblem(http.StatusForbidden, "")
}

func TestConsents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("consents")
	in := e.citizenWrites(tn, visitor("Ivo Balli"), "Ciao")
	c := e.login(tn.staff[crm.RoleCommunication])
	path := "/api/v1/contacts/" + id(in.ContactID) + "/consents"

	for _, granted := range []bool{true, false} {
		res := c.do("POST", path, map[string]any{"channel": "email", "purpose": "information", "granted": granted, "source": "sportello URP"})
		require.Equal(t, http.StatusCreated, res.status, res.text())
	}
	res := c.do("GET", path, nil)
	require.Equal(t, http.StatusOK, res.status)
	var inForce page[crm.Consent]
	res.decode(&inForce)
	require.Len(t, inForce.Items, 1)
	require.False(t, inForce.Items[0].Granted, "the latest decision is in force")

	res = c.do("GET", path+"?history=true", nil)
	require.Equal(t, http.StatusOK, res.status)
	var history page[crm.Consent]
	res.decode(&history)
	require.Len(t, history.Items, 2)

	c.do("POST", path, map[string]any{"channel": "email", "purpose": "information", "source": "web"}).
		requireProblem(http.StatusUnprocessableEntity, "granted")
	c.do("POST", path, map[string]any{"channel": "pigeon", "purpose": "information", "granted": true, "source": "web"}).
		requireProblem(http.StatusUnprocessableEntity, "channel")
	c.do("GET", path+"?history=perhaps", nil).requireProblem(http.StatusUnprocessableEntity, "history")
}

func TestMergeContacts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("merge")
	cf := newCodiceFiscale(t)
	e.importFascicolo(tn, fascicoloRecord(t, tn, cf, "Teresa", "Gallo"))
	c := e.login(tn.staff[crm.RoleOperator])
	target := contactByCF(t, c, cf)[0]
	// The same person writes in the chat: same name, so only a suggestion.
	chat := e.citizenWrites(tn, visitor("Teresa Gallo"), "Ho una domanda sulla TARI")

	res := c.do("GET", "/api/v1/contacts/"+id(chat.ContactID)+"/suggestions", nil)
	require.Equal(t, http.StatusOK, res.status)
	var sugg page[crm.MergeSuggestion]
	res.decode(&sugg)
	require.Len(t, sugg.Items, 1)
	require.Equal(t, "same_name", sugg.Items[0].Reason)

	res = c.do("GET", "/api/v1/merge-suggestions", nil)
	require.Equal(t, http.StatusOK, res.status)
	var all page[crm.MergeSuggestion]
	res.decode(&all)
	require.Contains(t, all.Items, sugg.Items[0])

	c.do("POST", "/api/v1/contacts/"+id(target.ID)+"/merge", map[string]any{"source_id": chat.ContactID}).
		requireProblem(http.StatusUnprocessableEntity, "reason")
	c.do("POST", "/api/v1/contacts/"+id(target.ID)+"/merge", map[string]any{"reason": "stessa persona"}).
		requireProblem(http.StatusUnprocessableEntity, "source_id")

	res = c.do("POST", "/api/v1/contacts/"+id(target.ID)+"/merge",
		map[string]any{"source_id": chat.ContactID, "reason": "Confermato in chat: stessa persona"})
	require.Equal(t, http.StatusOK, res.status, res.text())
	var merged mergeResultView
	res.decode(&merged)
	require.Equal(t, target.ID, merged.Target.ID)
	require.Equal(t, int64(1), merged.Moved["conversations"])
	require.Len(t, merged.Target.Identities, 2)

	res = c.do("GET", "/api/v1/contacts/"+id(chat.ContactID), nil)
	require.Equal(t, http.StatusOK, res.status)
	var source contactView
	res.decode(&source)
	require.Equal(t, &target.ID, source.MergedInto)

	res = c.do("GET", "/api/v1/conversations?contact_id="+id(target.ID), nil)
	require.Equal(t, http.StatusOK, res.status)
	var convs page[crm.Conversation]
	res.decode(&convs)
	require.Len(t, convs.Items, 1, "the conversation moved with the contact")

	res = c.do("GET", "/api/v1/contacts/"+id(target.ID)+"/suggestions", nil)
	require.Equal(t, http.StatusOK, res.status)
	res.decode(&sugg)
	require.Empty(t, sugg.Items, "the suggestion is settled")

	res = e.login(tn.staff[crm.RoleSupervisor]).do("GET", "/api/v1/audit?action=contact.merge&contact_id="+id(target.ID), nil)
	require.Equal(t, http.StatusOK, res.status)
	var audit page[crm.AuditEntry]
	res.decode(&audit)
	require.Len(t, audit.Items, 1)
	require.Equal(t, merged.AuditRecordID, audit.Items[0].ID)
	require.Equal(t, "Confermato in chat: stessa persona", audit.Items[0].Reason)
}

func TestMergeRefusedForDifferentCodiciFiscali(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("mergeconflict")
	cf1, cf2 := newCodiceFiscale(t), newCodiceFiscale(t)
	e.importFascicolo(tn, fascicoloRecord(t, tn, cf1, "Mario", "Rossi"), fascicoloRecord(t, tn, cf2, "Mario", "Rossi"))
	c := e.login(tn.staff[crm.RoleSupervisor])
	a, b := contactByCF(t, c, cf1)[0], contactByCF(t, c, cf2)[0]

	p := c.do("POST", "/api/v1/contacts/"+id(a.ID)+"/merge", map[string]any{"source_id": b.ID, "reason": "omonimi?"}).
		requireProblem(http.StatusConflict, "")
	require.Contains(t, p.Detail, "codici fiscali")

	// Nothing moved.
	require.Len(t, contactByCF(t, c, cf2), 1)
	res := c.do("GET", "/api/v1/audit?action=contact.merge", nil)
	require.Equal(t, http.StatusOK, res.status)
	var audit page[crm.AuditEntry]
	res.decode(&audit)
	require.Empty(t, audit.Items)
}

func TestDismissSuggestion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("dismiss")
	a := e.citizenWrites(tn, visitor("Rita Levi"), "Ciao")
	e.citizenWrites(tn, visitor("Rita Levi"), "Buongiorno")
	c := e.login(tn.staff[crm.RoleOperator])

	res := c.do("GET", "/api/v1/contacts/"+id(a.ContactID)+"/suggestions", nil)
	require.Equal(t, http.StatusOK, res.status)
	var sugg page[crm.MergeSuggestion]
	res.decode(&sugg)
	require.Len(t, sugg.Items, 1)
	path := "/api/v1/merge-suggestions/" + id(sugg.Items[0].ID) + "/dismiss"

	e.login(tn.staff[crm.RoleCommunication]).do("POST", path, nil).requireProblem(http.StatusForbidden, "")
	res = c.do("POST", path, nil)
	require.Equal(t, http.StatusNoContent, res.status)
	require.Empty(t, res.body)
	c.do("POST", path, nil).requireProblem(http.StatusNotFound, "")
}
