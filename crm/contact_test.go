package crm_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestResolveContactReturnsTheContactOfAKnownIdentity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	claim := webchatClaim("Mario Rossi")
	first := b.mustResolve(t, claim)
	require.True(t, first.Created)

	again := b.mustResolve(t, claim)

	require.Equal(t, crm.Resolution{ContactID: first.ContactID}, again)
}

func TestResolveContactCreatesAVerifiedContactFromAVerifiedCodiceFiscale(t *testing.T) {
	t.Parallel()
	b := setup(t)

	r := b.mustResolve(t, crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale, ExternalID: codiceFiscale(1),
		Verified: true, VerifiedBy: crm.VerifiedSPID, GivenName: "Mario", FamilyName: "Rossi"})

	require.True(t, r.Created)
	c := b.contact(t, r.ContactID)
	require.Equal(t, codiceFiscale(1), c.CodiceFiscale)
	require.Equal(t, "Mario Rossi", c.DisplayName)
	require.Len(t, c.Identities, 1)
	require.True(t, c.Identities[0].Verified)
	require.Equal(t, crm.VerifiedSPID, c.Identities[0].VerifiedBy)
}

func TestResolveContactJoinsAVerifiedCodiceFiscaleToTheContactThatHasIt(t *testing.T) {
	t.Parallel()
	cf := codiceFiscale(7)
	tests := []struct {
		name, given string
	}{
		{"canonical form", cf},
		{"first omocodia variant", crm.OmocodiaVariant(cf, 1)},
		{"last omocodia variant", crm.OmocodiaVariant(cf, 7)},
		{"lower case", strings.ToLower(cf)},
		{"lower-case omocodia variant with spaces", strings.ToLower(" " + crm.OmocodiaVariant(cf, 3)[:6] + " " + crm.OmocodiaVariant(cf, 3)[6:])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			id := b.visitor(t, "Mario Rossi", "")
			_, err := b.store.AddIdentity(b.ctx, b.operator.Actor(), id, crm.IdentityClaim{
				Kind: crm.IdentityCodiceFiscale, ExternalID: cf, Verified: true})
			require.NoError(t, err)

			r := b.mustResolve(t, crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale, ExternalID: tt.given,
				Verified: true, VerifiedBy: crm.VerifiedCIE})

			require.Equal(t, id, r.ContactID)
			require.False(t, r.Created)
			c := b.contact(t, id)
			require.Equal(t, cf, c.CodiceFiscale)
			require.Len(t, c.Identities, 2, "the visitor id and one codice fiscale, in canonical form")
			require.Equal(t, cf, c.Identities[1].ExternalID)
		})
	}
}

func TestResolveContactMarksAnIdentityVerifiedLaterAndSetsTheCodiceFiscale(t *testing.T) {
	t.Parallel()
	b := setup(t)
	claimed := crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale, ExternalID: codiceFiscale(2), DisplayName: "Anna Verdi"}
	first := b.mustResolve(t, claimed)
	require.Empty(t, b.contact(t, first.ContactID).CodiceFiscale, "a claimed codice fiscale is not the contact's")

	proven := claimed
	proven.Verified, proven.VerifiedBy = true, crm.VerifiedSPID
	r := b.mustResolve(t, proven)

	require.Equal(t, first.ContactID, r.ContactID)
	c := b.contact(t, r.ContactID)
	require.Equal(t, codiceFiscale(2), c.CodiceFiscale)
	require.Len(t, c.Identities, 1)
	require.True(t, c.Identities[0].Verified)
	require.Equal(t, crm.VerifiedSPID, c.Identities[0].VerifiedBy)
	require.NotNil(t, c.Identities[0].VerifiedAt)
}

func TestResolveContactJoinsAVerifiedEmailToTheOneContactRegisteredWithIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.visitor(t, "Lucia Neri", "lucia.neri@example.it")

	r := b.mustResolve(t, crm.IdentityClaim{Kind: crm.IdentityEmail, ExternalID: "Lucia.Neri@Example.it",
		Verified: true, VerifiedBy: crm.VerifiedEmailLink})

	require.Equal(t, crm.Resolution{ContactID: id, Joined: true}, r)
	c := b.contact(t, id)
	require.Len(t, c.Identities, 2)
	require.Equal(t, crm.IdentityEmail, c.Identities[1].Kind)
	require.Equal(t, "lucia.neri@example.it", c.Identities[1].ExternalID)
	require.True(t, c.Identities[1].Verified)
}

func TestResolveContactDoesNotJoinAVerifiedEmailThatTwoContactsHave(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.visitor(t, "Lucia Neri", "famiglia.neri@example.it")
	second := b.visitor(t, "Paolo Neri", "famiglia.neri@example.it")

	r := b.mustResolve(t, crm.IdentityClaim{Kind: crm.IdentityEmail, ExternalID: "famiglia.neri@example.it",
		Verified: true, VerifiedBy: crm.VerifiedEmailLink})

	require.True(t, r.Created)
	require.NotContains(t, []int64{first, second}, r.ContactID)
	suggested := map[int64]bool{}
	for _, s := range b.suggestions(t, r.ContactID) {
		require.Equal(t, "same_email", s.Reason)
		suggested[other(s, r.ContactID)] = true
	}
	require.Equal(t, map[int64]bool{first: true, second: true}, suggested, "a person decides between the two")
}

func TestResolveContactOnlySuggestsMergesOnWeakSignals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		reason string
		// existing makes the contact already known; newcomer is the claim of
		// someone who shares a weak signal with it.
		existing func(t *testing.T, b *bundle) int64
		newcomer crm.IdentityClaim
	}{
		{
			name:     "same full name",
			reason:   "same_name",
			existing: func(t *testing.T, b *bundle) int64 { return b.visitor(t, "Giuseppe Verdi", "") },
			newcomer: webchatClaim("giuseppe verdi"),
		},
		{
			name:   "same unverified e-mail address",
			reason: "same_email",
			existing: func(t *testing.T, b *bundle) int64 {
				return b.visitor(t, "Giuseppe Verdi", "gverdi@example.it")
			},
			newcomer: crm.IdentityClaim{Kind: crm.IdentityEmail, ExternalID: "gverdi@example.it", DisplayName: "G. V."},
		},
		{
			name:     "same e-mail address given as a hint",
			reason:   "same_email",
			existing: func(t *testing.T, b *bundle) int64 { return b.visitor(t, "Giuseppe Verdi", "gverdi@example.it") },
			newcomer: crm.IdentityClaim{Kind: crm.IdentityTelegram, ExternalID: "123456789", Email: "GVerdi@example.it"},
		},
		{
			name:   "same phone number",
			reason: "same_phone",
			existing: func(t *testing.T, b *bundle) int64 {
				rec := citizenRecord(3, "Giuseppe", "Verdi")
				rec.Phone = "333 123 4567"
				return b.importCitizen(t, rec)
			},
			newcomer: crm.IdentityClaim{Kind: crm.IdentityPhone, ExternalID: "+39 333 1234567"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			existing := tt.existing(t, b)

			r := b.mustResolve(t, tt.newcomer)

			require.True(t, r.Created, "a weak signal never joins a contact")
			require.NotEqual(t, existing, r.ContactID)
			require.Nil(t, b.contact(t, existing).MergedInto)
			require.Nil(t, b.contact(t, r.ContactID).MergedInto)
			ss := b.suggestions(t, r.ContactID)
			require.Len(t, ss, 1)
			require.Equal(t, tt.reason, ss[0].Reason)
			require.Equal(t, existing, other(ss[0], r.ContactID))
			require.Equal(t, "open", ss[0].Status)
		})
	}
}

func TestResolveContactDoesNotSuggestMergesOnAFirstNameAlone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.visitor(t, "Mario", "")

	r := b.mustResolve(t, webchatClaim("Mario"))

	require.Empty(t, b.suggestions(t, r.ContactID))
}

func TestResolveContactRejectsAnInvalidCodiceFiscale(t *testing.T) {
	t.Parallel()
	b := setup(t)
	valid := codiceFiscale(4)
	wrongCheck := valid[:15] + string(rune('A'+(valid[15]-'A'+1)%26))
	for _, given := range []string{wrongCheck, valid[:15], "RSSMRA80Z01H501U", "not a code"} {
		_, err := b.resolve(crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale, ExternalID: given,
			Verified: true, VerifiedBy: crm.VerifiedSPID})
		requireInvalidField(t, err, "external_id")
	}
	found, err := b.store.SearchContacts(b.ctx, b.tenant.ID, crm.ContactQuery{})
	require.NoError(t, err)
	require.Empty(t, found)
}

func TestAddIdentityRefusesAnIdentityOfAnotherContact(t *testing.T) {
	t.Parallel()
	b := setup(t)
	owner := b.visitor(t, "Mario Rossi", "")
	_, err := b.store.AddIdentity(b.ctx, b.operator.Actor(), owner, crm.IdentityClaim{
		Kind: crm.IdentityEmail, ExternalID: "mario.rossi@example.it"})
	require.NoError(t, err)
	other := b.visitor(t, "M. Rossi", "")

	_, err = b.store.AddIdentity(b.ctx, b.operator.Actor(), other, crm.IdentityClaim{
		Kind: crm.IdentityEmail, ExternalID: "MARIO.ROSSI@example.it"})

	require.ErrorIs(t, err, crm.ErrConflict)
	require.Len(t, b.contact(t, other).Identities, 1)
}

func TestAddIdentityRefusesASecondVerifiedCodiceFiscale(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.importCitizen(t, citizenRecord(5, "Mario", "Rossi"))

	_, err := b.store.AddIdentity(b.ctx, b.operator.Actor(), id, crm.IdentityClaim{
		Kind: crm.IdentityCodiceFiscale, ExternalID: codiceFiscale(6), Verified: true})

	require.ErrorIs(t, err, crm.ErrConflict)
	c := b.contact(t, id)
	require.Equal(t, codiceFiscale(5), c.CodiceFiscale)
	require.Len(t, c.Identities, 1)
}

func (b *bundle) suggestions(t *testing.T, contactID int64) []crm.MergeSuggestion {
	t.Helper()
	ss, err := b.store.MergeSuggestions(b.ctx, b.tenant.ID, contactID, 0)
	require.NoError(t, err)
	return ss
}

// other returns the contact of a suggestion that is not id.
func other(s crm.MergeSuggestion, id int64) int64 {
	if s.ContactA == id {
		return s.ContactB
	}
	return s.ContactA
}
