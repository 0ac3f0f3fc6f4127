package crm_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestAuthenticateAcceptsTheRightPassword(t *testing.T) {
	t.Parallel()
	b := setup(t)

	st, err := b.store.Authenticate(b.ctx, "  "+strings.ToUpper(b.operator.Email)+" ", testPassword)

	require.NoError(t, err)
	require.Equal(t, b.operator, st)
}

func TestAuthenticateDoesNotTellAWrongPasswordFromAnUnknownEmail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name, email, password string
	}{
		{"wrong password", b.operator.Email, "wrong horse battery staple"},
		{"unknown e-mail", "nessuno@" + b.tenant.Slug + ".example.it", testPassword},
		{"empty password", b.operator.Email, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := b.store.Authenticate(b.ctx, tt.email, tt.password)
			require.Equal(t, crm.ErrBadCredentials, err)
		})
	}
}

func TestSessionStaffFindsTheStaffOfASession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sess, err := b.store.CreateSession(b.ctx, b.supervisor)
	require.NoError(t, err)

	st, csrf, err := b.store.SessionStaff(b.ctx, sess.Token)

	require.NoError(t, err)
	require.Equal(t, b.supervisor, st)
	require.Equal(t, sess.CSRFToken, csrf)
	require.NotEmpty(t, csrf)
}

func TestDeleteSessionEndsTheSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sess, err := b.store.CreateSession(b.ctx, b.operator)
	require.NoError(t, err)

	require.NoError(t, b.store.DeleteSession(b.ctx, sess.Token))

	_, _, err = b.store.SessionStaff(b.ctx, sess.Token)
	require.ErrorIs(t, err, crm.ErrNotFound)
}

func TestSessionStaffDoesNotFindAnUnknownToken(t *testing.T) {
	t.Parallel()
	b := setup(t)

	_, _, err := b.store.SessionStaff(b.ctx, "dls_"+randomHex(16))

	require.ErrorIs(t, err, crm.ErrNotFound)
}

func TestTokenActorIsTheActorOfAnAPIToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok, secret, err := b.store.CreateAPIToken(b.ctx, b.admin.Actor(), "Protocollo informatico", []crm.Role{crm.RoleOperator})
	require.NoError(t, err)

	a, err := b.store.TokenActor(b.ctx, secret)

	require.NoError(t, err)
	require.Equal(t, crm.Actor{TenantID: b.tenant.ID, Kind: crm.ActorToken, ID: tok.ID,
		Name: "Protocollo informatico", Roles: []crm.Role{crm.RoleOperator}}, a)
	require.Nil(t, a.StaffID())
	_, err = b.store.RecordConsent(b.ctx, a, b.visitor(t, "Mario Rossi", ""), crm.ConsentInput{
		Channel: "email", Purpose: crm.PurposeService, Granted: true, Source: "protocollo"})
	require.NoError(t, err, "the token acts with its roles")
}

func TestCreateAPITokenIsOnlyForAdmins(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, st := range []crm.Staff{b.operator, b.supervisor, b.communication} {
		_, _, err := b.store.CreateAPIToken(b.ctx, st.Actor(), "Integrazione", []crm.Role{crm.RoleOperator})
		require.ErrorIs(t, err, crm.ErrForbidden, "as %v", st.Roles)
	}
}

func TestTokenActorDoesNotFindAnUnknownToken(t *testing.T) {
	t.Parallel()
	b := setup(t)

	_, err := b.store.TokenActor(b.ctx, "dlg_"+randomHex(16))

	require.ErrorIs(t, err, crm.ErrNotFound)
}

func TestEnsureStaffUpdatesAnAccountOfTheSameEnte(t *testing.T) {
	t.Parallel()
	b := setup(t)

	st, err := b.store.EnsureStaff(b.ctx, b.tenant.ID, crm.StaffInput{Email: b.operator.Email, Name: "Olga Operatrice Senior",
		Roles: []crm.Role{crm.RoleOperator, crm.RoleSupervisor}, Password: "a new password"})

	require.NoError(t, err)
	require.Equal(t, b.operator.ID, st.ID)
	require.Equal(t, []crm.Role{crm.RoleOperator, crm.RoleSupervisor}, st.Roles)
	_, err = b.store.Authenticate(b.ctx, b.operator.Email, "a new password")
	require.NoError(t, err)
}

func TestEnsureStaffRefusesAnEmailOfAnotherEnte(t *testing.T) {
	t.Parallel()
	a, b := setup(t), setup(t)

	_, err := b.store.EnsureStaff(b.ctx, b.tenant.ID, crm.StaffInput{Email: a.operator.Email, Name: "Impostore",
		Roles: []crm.Role{crm.RoleAdmin}, Password: "another password"})

	require.ErrorIs(t, err, crm.ErrConflict)
	st, err := a.store.Authenticate(a.ctx, a.operator.Email, testPassword)
	require.NoError(t, err, "the account keeps its password")
	require.Equal(t, a.operator, st, "and its ente, name and roles")
}

func TestEnsureStaffRejectsInvalidInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name  string
		in    crm.StaffInput
		field string
	}{
		{"bad e-mail", crm.StaffInput{Email: "olga", Name: "Olga", Roles: []crm.Role{crm.RoleOperator}, Password: testPassword}, "email"},
		{"no name", crm.StaffInput{Email: "olga@example.it", Name: " ", Roles: []crm.Role{crm.RoleOperator}, Password: testPassword}, "name"},
		{"no role", crm.StaffInput{Email: "olga@example.it", Name: "Olga", Password: testPassword}, "roles"},
		{"unknown role", crm.StaffInput{Email: "olga@example.it", Name: "Olga", Roles: []crm.Role{"root"}, Password: testPassword}, "roles"},
		{"short password", crm.StaffInput{Email: "olga@example.it", Name: "Olga", Roles: []crm.Role{crm.RoleOperator}, Password: "short"}, "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := b.store.EnsureStaff(b.ctx, b.tenant.ID, tt.in)
			requireInvalidField(t, err, tt.field)
		})
	}
}
