package crm_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestStaffOfOneEnteFindNothingOfAnother(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// try acts as a supervisor of ente a on ente b's contact and conversation.
		try func(t *testing.T, a *bundle, contact, conversation int64) error
	}{
		{"Contact", func(t *testing.T, a *bundle, contact, _ int64) error {
			_, err := a.store.Contact(a.ctx, a.tenant.ID, contact)
			return err
		}},
		{"Conversation", func(t *testing.T, a *bundle, _, conversation int64) error {
			_, err := a.store.Conversation(a.ctx, a.tenant.ID, conversation)
			return err
		}},
		{"Merge into a contact of another ente", func(t *testing.T, a *bundle, contact, _ int64) error {
			_, err := a.store.Merge(a.ctx, a.supervisor.Actor(), contact, a.visitor(t, "", ""), "doppione")
			return err
		}},
		{"Merge a contact of another ente", func(t *testing.T, a *bundle, contact, _ int64) error {
			_, err := a.store.Merge(a.ctx, a.supervisor.Actor(), a.visitor(t, "", ""), contact, "doppione")
			return err
		}},
		{"Fascicolo", func(t *testing.T, a *bundle, contact, _ int64) error {
			_, err := a.store.Fascicolo(a.ctx, a.supervisor.Actor(), contact, "verifica")
			return err
		}},
		{"PostReply", func(t *testing.T, a *bundle, _, conversation int64) error {
			_, err := a.store.PostReply(a.ctx, a.supervisor.Actor(), conversation, crm.Reply{Text: "Buongiorno"})
			return err
		}},
		{"PostReply of a private note", func(t *testing.T, a *bundle, _, conversation int64) error {
			_, err := a.store.PostReply(a.ctx, a.supervisor.Actor(), conversation, crm.Reply{Text: "nota", Private: true})
			return err
		}},
		{"Assign", func(t *testing.T, a *bundle, _, conversation int64) error {
			_, err := a.store.Assign(a.ctx, a.supervisor.Actor(), conversation, crm.Assignment{AssigneeID: &a.supervisor.ID})
			return err
		}},
		{"SetStatus", func(t *testing.T, a *bundle, _, conversation int64) error {
			_, err := a.store.SetStatus(a.ctx, a.supervisor.Actor(), conversation, true)
			return err
		}},
		{"RecordConsent", func(t *testing.T, a *bundle, contact, _ int64) error {
			_, err := a.store.RecordConsent(a.ctx, a.supervisor.Actor(), contact, crm.ConsentInput{
				Channel: "email", Purpose: crm.PurposeService, Granted: true, Source: "sportello"})
			return err
		}},
		{"AddIdentity", func(t *testing.T, a *bundle, contact, _ int64) error {
			_, err := a.store.AddIdentity(a.ctx, a.supervisor.Actor(), contact, crm.IdentityClaim{
				Kind: crm.IdentityTelegram, ExternalID: "987654321"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := setup(t), setup(t)
			contact := b.importCitizen(t, citizenRecord(50, "Mario", "Rossi"))
			visitor := webchatClaim("")
			_, err := b.store.AddIdentity(b.ctx, b.operator.Actor(), contact, visitor)
			require.NoError(t, err)
			conv := b.ingest(t, inbound(visitor, "Buongiorno")).Message.ConversationID
			before := b.conversation(t, conv)
			contactBefore := b.contact(t, contact)
			audited := len(b.auditEntries(t, 0, ""))

			err = tt.try(t, a, contact, conv)

			require.ErrorIs(t, err, crm.ErrNotFound)
			require.Equal(t, before, b.conversation(t, conv))
			require.Equal(t, contactBefore, b.contact(t, contact))
			consents, err := b.store.Consents(b.ctx, b.tenant.ID, contact, true)
			require.NoError(t, err)
			require.Empty(t, consents)
			require.Len(t, b.auditEntries(t, 0, ""), audited)
		})
	}
}

func TestTenantsKeepTheirOwnContactsForTheSameCodiceFiscale(t *testing.T) {
	t.Parallel()
	a, b := setup(t), setup(t)
	claim := crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale, ExternalID: codiceFiscale(51), Verified: true, VerifiedBy: crm.VerifiedSPID}

	inA := a.mustResolve(t, claim)
	inB := b.mustResolve(t, claim)

	require.True(t, inA.Created)
	require.True(t, inB.Created)
	require.NotEqual(t, inA.ContactID, inB.ContactID)
}
