package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

// TestDecodeJSON checks how request bodies are read, and how the problem names
// what is wrong, on the import's body (the deepest one).
func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body    string
		field, reason string // the expected problem; both empty: no error
	}{
		{"valid", `{"records":[{"codice_fiscale":"X","avvisi":[{"amount_cents":5}]}]}`, "", ""},
		{"null fields are ignored", `{"records":[{"codice_fiscale":null,"pratiche":null}]}`, "", ""},
		{"unknown field at the top", `{"records":[],"dry_run":true}`, "dry_run", "unknown field"},
		{"unknown field deep inside", `{"records":[{"codice_fiscale":"X"},{"pratiche":[{"reference":"R","colour":"blue"}]}]}`, "records[1].pratiche[0].colour", "unknown field"},
		{"string for an integer", `{"records":[{},{},{"avvisi":[{"amount_cents":"12"}]}]}`, "records[2].avvisi[0].amount_cents", "must be an integer"},
		{"fraction for an integer", `{"records":[{"avvisi":[{"amount_cents":1.5}]}]}`, "records[0].avvisi[0].amount_cents", "must be an integer"},
		{"number for a string", `{"records":[{"codice_fiscale":12}]}`, "records[0].codice_fiscale", "must be a string"},
		{"object for an array", `{"records":{"codice_fiscale":"X"}}`, "records", "must be an array"},
		{"array for an object", `{"records":[[]]}`, "records[0]", "must be an object"},
		{"bad date", `{"records":[{"avvisi":[{"due_date":"30/04/2025"}]}]}`, "records[0].avvisi[0].due_date", "a date is written YYYY-MM-DD"},
		{"bad time", `{"records":[{"documents":[{"issued_at":"ieri"}]}]}`, "records[0].documents[0].issued_at", "parsing time"},
		{"malformed", `{"records":[`, "", "malformed JSON"},
		{"syntax error", `{"records":[],}`, "", "malformed JSON at byte"},
		{"trailing data", `{"records":[]} {"records":[]}`, "", "unexpected data after the JSON object"},
		{"trailing garbage", `{"records":[]}]`, "", "unexpected data after the JSON object"},
		{"not an object", `[{"records":[]}]`, "", "must be a JSON object"},
		{"empty", ``, "", "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", "application/json")
			var in importRequest
			err := decodeJSON(httptest.NewRecorder(), r, defaultBodyLimit, &in)
			if tc.reason == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, errBadRequest)
			be := err.(*badRequestError)
			require.Equal(t, tc.field, be.field)
			require.Contains(t, be.reason, tc.reason)
		})
	}
}

func TestDecodeJSONMatchesFieldsLikeEncodingJSON(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"Source_ID": "7"}`))
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	var in mergeRequest
	err := decodeJSON(httptest.NewRecorder(), r, defaultBodyLimit, &in)
	require.Equal(t, &badRequestError{field: "Source_ID", reason: "must be an integer"}, err,
		"keys match fields case-insensitively, as encoding/json does")
}

func TestBadInputGetsAProblem(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("badinput")
	in := e.citizenWrites(tn, visitor("Clara Schumann"), "Ciao")
	c := e.login(tn.staff[crm.RoleOperator])
	path := "/api/v1/contacts/" + id(in.ContactID) + "/consents"

	p := c.do("POST", path, `{"channel": "email", "purpose":`).requireProblem(http.StatusBadRequest, "")
	require.Contains(t, p.Detail, "malformed JSON")
	require.Equal(t, "urn:dialogo:problem:malformed-request", p.Type)
	require.Equal(t, path, p.Instance)

	p = c.do("POST", path, map[string]any{"channel": "email", "purpose": "service", "granted": true, "source": "web", "colour": "blue"}).
		requireProblem(http.StatusBadRequest, "colour")
	require.Contains(t, p.Errors[0].Reason, "unknown field")

	p = c.do("POST", path, map[string]any{"channel": "email", "purpose": "service", "granted": "yes", "source": "web"}).
		requireProblem(http.StatusBadRequest, "granted")
	require.Contains(t, p.Errors[0].Reason, "true or false")

	c.do("POST", path, `{"channel":"email","purpose":"service","granted":true,"source":"web"} {}`).requireProblem(http.StatusBadRequest, "")
	c.send("POST", path, "text/plain", []byte(`{"channel":"email","purpose":"service","granted":true,"source":"web"}`)).
		requireProblem(http.StatusUnsupportedMediaType, "")
	c.send("POST", path, "", []byte(`{}`)).requireProblem(http.StatusUnsupportedMediaType, "")

	// Over 1 MiB.
	big := `{"channel":"email","purpose":"service","granted":true,"source":"` + strings.Repeat("x", defaultBodyLimit) + `"}`
	p = c.do("POST", path, big).requireProblem(http.StatusRequestEntityTooLarge, "")
	require.Contains(t, p.Detail, "1048576")

	// None of it was written.
	consents, err := e.store.Consents(t.Context(), tn.ID, in.ContactID, true)
	require.NoError(t, err)
	require.Empty(t, consents)

	// An invalid codice fiscale, in a search, an identity and an import.
	c.do("GET", "/api/v1/contacts?codice_fiscale=RSSMRA80A01F205Y", nil).requireProblem(http.StatusUnprocessableEntity, "codice_fiscale")
	c.do("POST", "/api/v1/contacts/"+id(in.ContactID)+"/identities", map[string]any{"kind": "codice_fiscale", "external_id": "RSSMRA80A01F205Y"}).
		requireProblem(http.StatusUnprocessableEntity, "external_id")
	e.login(tn.staff[crm.RoleAdmin]).do("POST", "/api/v1/fascicolo/import", map[string]any{"records": []any{map[string]any{"codice_fiscale": "RSSMRA80A01F205Y"}}}).
		requireProblem(http.StatusUnprocessableEntity, "records[0].codice_fiscale")
}

func TestUnknownRoutesGetAProblem(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant("routes")
	c := e.login(tn.staff[crm.RoleOperator])

	c.do("GET", "/api/v1/nothing-here", nil).requireProblem(http.StatusNotFound, "")
	res := c.do("PUT", "/api/v1/contacts", nil)
	res.requireProblem(http.StatusMethodNotAllowed, "")
	require.Equal(t, "GET", res.header.Get("Allow"))
	res = c.do("PATCH", "/api/v1/session", nil)
	res.requireProblem(http.StatusMethodNotAllowed, "")
	require.Equal(t, "POST, DELETE", res.header.Get("Allow"))
}
