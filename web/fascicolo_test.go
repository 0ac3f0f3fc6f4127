package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

// fascicoloRecord is an import record for one citizen with one of everything.
func fascicoloRecord(t *testing.T, tn tenant, cf, given, family string) map[string]any {
	ref := randomHex(4)
	return map[string]any{
		"codice_fiscale": cf,
		"given_name":     given,
		"family_name":    family,
		"email":          "  " + given + "." + ref + "@Example.org ",
		"pratiche": []any{map[string]any{
			"reference": "PG-2025-" + ref, "type": "cambio_residenza", "title": "Cambio di residenza",
			"office": "Anagrafe", "opened_at": "2025-01-10T09:00:00Z",
			"timeline": []any{
				map[string]any{"status": "presentata", "occurred_at": "2025-01-10T09:00:00Z"},
				map[string]any{"status": "in_istruttoria", "note": "Verifica della polizia locale", "occurred_at": "2025-01-15T11:30:00Z"},
			},
		}},
		"avvisi": []any{map[string]any{
			"notice_number":        crm.NoticeNumberWithCheck("3", "01", randomDigits(13)),
			"creditor_fiscal_code": tn.FiscalCode,
			"description":          "TARI 2025 prima rata",
			"amount_cents":         12350,
			"due_date":             "2024-04-30",
		}},
		"documents": []any{map[string]any{
			"reference": "DOC-" + ref, "kind": "certificato", "title": "Certificato di residenza",
			"issued_at": "2025-02-01T10:00:00Z",
		}},
		"appointments": []any{map[string]any{
			"reference": "APP-" + ref, "service": "Carta d'identità elettronica", "location": "Via Larga 12",
			"mode": "in_person", "starts_at": "2025-03-03T08:30:00Z", "ends_at": "2025-03-03T08:50:00Z", "status": "booked",
		}},
	}
}

// importFascicolo imports records through the API as the tenant's admin.
func (e *env) importFascicolo(tn tenant, records ...map[string]any) crm.ImportResult {
	e.t.Helper()
	res := e.login(tn.staff[crm.RoleAdmin]).do("POST", "/api/v1/fascicolo/import", map[string]any{"records": records})
	require.Equal(e.t, http.StatusOK, res.status, res.text())
	var out crm.ImportResult
	res.decode(&out)
	return out
}

// contactByCF finds a contact by codice fiscale through the API.
func contactByCF(t *testing.T, c *client, cf string) []crm.Contact {
	t.Helper()
	res := c.do("GET", "/api/v1/contacts?codice_fiscale="+url.QueryEscape(cf), nil)
	require.Equal(t, http.StatusOK, res.status, res.text())
	var p page[crm.Contact]
	res.decode(&p)
	return p.Items
}

func TestImportAndReadFascicolo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("fascicolo")
	cf := newCodiceFiscale(t)

	got := e.importFascicolo(tn, fascicoloRecord(t, tn, crm.OmocodiaVariant(cf, 2), "Giulia", "Verdi"))
	require.Equal(t, crm.ImportResult{Contacts: 1, ContactsCreated: 1, Pratiche: 1, Events: 2, Avvisi: 1, Documents: 1, Appointments: 1}, got)

	op := e.login(tn.staff[crm.RoleOperator])
	found := contactByCF(t, op, cf)
	require.Len(t, found, 1, "the omocodia variant was stored in canonical form")
	contact := found[0]

	res := op.do("GET", "/api/v1/contacts/"+id(contact.ID)+"/fascicolo?purpose="+url.QueryEscape("richiesta in chat"), nil)
	require.Equal(t, http.StatusOK, res.status, res.text())
	var f fascicoloView
	res.decode(&f)
	require.Equal(t, cf, f.Contact.CodiceFiscale)
	require.NotEmpty(t, f.Contact.Identities)
	require.Len(t, f.Pratiche, 1)
	require.Equal(t, "in_istruttoria", f.Pratiche[0].Status, "the status is the timeline's latest")
	require.Len(t, f.Pratiche[0].Timeline, 2)
	require.Len(t, f.Avvisi, 1)
	require.True(t, f.Avvisi[0].Overdue)
	require.Len(t, f.Documents, 1)
	require.Len(t, f.Appointments, 1)
}

func TestFascicoloReadIsAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("audit")
	cf := newCodiceFiscale(t)
	e.importFascicolo(tn, fascicoloRecord(t, tn, cf, "Marco", "Bianchi"))
	operator := tn.staff[crm.RoleOperator]
	op := e.login(operator)
	contact := contactByCF(t, op, cf)[0]

	require.Equal(t, http.StatusOK,
		op.do("GET", "/api/v1/contacts/"+id(contact.ID)+"/fascicolo?purpose="+url.QueryEscape("pratica residenza"), nil).status)

	res := e.login(tn.staff[crm.RoleSupervisor]).do("GET", "/api/v1/audit?action=fascicolo.read&contact_id="+id(contact.ID), nil)
	require.Equal(t, http.StatusOK, res.status, res.text())
	var p page[crm.AuditEntry]
	res.decode(&p)
	require.Len(t, p.Items, 1)
	entry := p.Items[0]
	require.Equal(t, "fascicolo.read", entry.Action)
	require.Equal(t, crm.ActorStaff, entry.ActorKind)
	require.Equal(t, operator.ID, entry.ActorID)
	require.Equal(t, contact.ID, entry.ContactID)
	require.Equal(t, "pratica residenza", entry.Reason)
}

func TestAuditLogPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("auditpages")
	cf := newCodiceFiscale(t)
	e.importFascicolo(tn, fascicoloRecord(t, tn, cf, "Anna", "Neri"))
	op := e.login(tn.staff[crm.RoleOperator])
	contact := contactByCF(t, op, cf)[0]
	for range 3 {
		require.Equal(t, http.StatusOK, op.do("GET", "/api/v1/contacts/"+id(contact.ID)+"/fascicolo", nil).status)
	}
	sup := e.login(tn.staff[crm.RoleSupervisor])
	var seen []int64
	next := ""
	for range 10 {
		path := "/api/v1/audit?action=fascicolo.read&limit=2"
		if next != "" {
			path += "&before=" + next
		}
		res := sup.do("GET", path, nil)
		require.Equal(t, http.StatusOK, res.status)
		var p page[crm.AuditEntry]
		res.decode(&p)
		for _, it := range p.Items {
			seen = append(seen, it.ID)
		}
		if next = p.Next; next == "" {
			break
		}
	}
	require.Len(t, seen, 3)
	require.IsDecreasing(t, seen)
}

func TestImportIsAllOrNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("atomic")
	admin := e.login(tn.staff[crm.RoleAdmin])
	good1, good2 := newCodiceFiscale(t), newCodiceFiscale(t)
	bad := good2[:15] + string(rune('A'+(good2[15]-'A'+1)%26)) // wrong check character

	records := []map[string]any{
		fascicoloRecord(t, tn, good1, "Luca", "Gialli"),
		fascicoloRecord(t, tn, good2, "Sara", "Blu"),
		fascicoloRecord(t, tn, bad, "Ugo", "Rossi"),
	}
	admin.do("POST", "/api/v1/fascicolo/import", map[string]any{"records": records}).
		requireProblem(http.StatusUnprocessableEntity, "records[2].codice_fiscale")

	records[2] = fascicoloRecord(t, tn, newCodiceFiscale(t), "Ugo", "Rossi")
	records[2]["avvisi"].([]any)[0].(map[string]any)["notice_number"] = "301000000000000000"
	admin.do("POST", "/api/v1/fascicolo/import", map[string]any{"records": records}).
		requireProblem(http.StatusUnprocessableEntity, "records[2].avvisi[0].notice_number")

	// Nothing of the good records was written.
	require.Empty(t, contactByCF(t, admin, good1))
	require.Empty(t, contactByCF(t, admin, good2))
	res := admin.do("GET", "/api/v1/audit?action=fascicolo.import", nil)
	require.Equal(t, http.StatusOK, res.status)
	var p page[crm.AuditEntry]
	res.decode(&p)
	require.Empty(t, p.Items)
}

func TestImportBodyMayExceedTheDefaultLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("bigimport")
	admin := e.login(tn.staff[crm.RoleAdmin])

	// 2 MiB: over the default limit, so read only by the import's 10 MiB one,
	// and then refused for what it says, not for its size.
	big := `{"records":[{"codice_fiscale":"` + strings.Repeat("A", 2<<20) + `"}]}`
	admin.do("POST", "/api/v1/fascicolo/import", big).requireProblem(http.StatusUnprocessableEntity, "records[0].codice_fiscale")

	huge := `{"records":[{"codice_fiscale":"` + strings.Repeat("A", importBodyLimit) + `"}]}`
	admin.do("POST", "/api/v1/fascicolo/import", huge).requireProblem(http.StatusRequestEntityTooLarge, "")
}
