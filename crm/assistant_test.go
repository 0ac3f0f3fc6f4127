package crm_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestAssistantTurnsAreClaimedOnceAcrossEntes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.store.SetAssistantSettings(b.ctx, b.admin.Actor(), crm.AssistantSettings{Enabled: true}))
	res := b.ingest(t, inbound(webchatClaim("Anna"), "Quanto costa la carta d'identità?"))
	require.True(t, res.NewConversation)

	// With no ente named, every ente's conversations may be claimed.
	var mine []crm.AssistantTurn
	for range 20 {
		turns, err := b.store.ClaimAssistantTurns(b.ctx, 100, time.Minute)
		require.NoError(t, err)
		for _, tr := range turns {
			if tr.TenantID == b.tenant.ID {
				mine = append(mine, tr)
			}
		}
		if len(turns) == 0 {
			break
		}
	}
	require.Len(t, mine, 1)
	tr := mine[0]
	require.Equal(t, res.Message.ConversationID, tr.ConversationID)
	require.Equal(t, int64(0), tr.FromSeq)
	require.Len(t, tr.Questions(), 1)
	require.False(t, tr.Verified, "an anonymous visitor")

	// Claimed: nobody else gets it while the lease runs.
	again, err := b.store.ClaimAssistantTurns(b.ctx, 100, time.Minute, b.tenant.ID)
	require.NoError(t, err)
	require.Empty(t, again)

	// Released, it can be claimed at once.
	require.NoError(t, b.store.ReleaseAssistantTurn(b.ctx, tr))
	again, err = b.store.ClaimAssistantTurns(b.ctx, 100, time.Minute, b.tenant.ID)
	require.NoError(t, err)
	require.Len(t, again, 1)
}

func TestOnlyAdminsChangeTheAssistantSettings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	err := b.store.SetAssistantSettings(b.ctx, b.supervisor.Actor(), crm.AssistantSettings{Enabled: true})
	require.ErrorIs(t, err, crm.ErrForbidden)
	requireInvalidField(t, b.store.SetAssistantSettings(b.ctx, b.admin.Actor(),
		crm.AssistantSettings{OfficeHours: string(make([]rune, 501))}), "office_hours")
	st, err := b.store.AssistantSettings(b.ctx, b.tenant.ID)
	require.NoError(t, err)
	require.False(t, st.Enabled)
}

func TestHandBackNeedsTheAssistantOn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := b.ingest(t, inbound(webchatClaim("Bruno"), "Buongiorno"))
	_, err := b.store.HandBack(b.ctx, b.operator.Actor(), res.Message.ConversationID)
	require.ErrorIs(t, err, crm.ErrConflict)
}
