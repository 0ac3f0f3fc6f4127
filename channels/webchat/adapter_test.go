package webchat_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/channels"
	"github.com/dialogo-pa/dialogo/crm"
)

// adapterConformance is what every channels.Adapter must do, whatever its
// channel. outbound stores a reply to a contact reachable on the adapter's
// channel and returns it as the dispatcher would hand it over.
func adapterConformance(t *testing.T, a channels.Adapter, outbound func(t *testing.T) channels.Outbound) {
	t.Run("serves one of the CRM's channels", func(t *testing.T) {
		require.Contains(t, crm.Channels, a.Channel())
	})
	t.Run("delivers a stored reply", func(t *testing.T) {
		d, err := a.Deliver(t.Context(), outbound(t))
		require.NoError(t, err)
		require.Contains(t, []crm.DeliveryStatus{crm.DeliverySent, crm.DeliveryDelivered}, d.Status)
	})
	t.Run("delivers again when retried", func(t *testing.T) {
		m := outbound(t)
		first, err := a.Deliver(t.Context(), m)
		require.NoError(t, err)
		again, err := a.Deliver(t.Context(), m)
		require.NoError(t, err)
		require.Equal(t, first.Status, again.Status)
	})
	t.Run("a cancelled delivery is an error to retry", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := a.Deliver(ctx, outbound(t))
		require.Error(t, err)
		require.False(t, errors.Is(err, channels.ErrPermanent))
	})
	t.Run("refuses for good a message of another channel", func(t *testing.T) {
		m := outbound(t)
		for _, ch := range crm.Channels {
			if ch != a.Channel() {
				m.Conversation.Channel = ch
				break
			}
		}
		_, err := a.Deliver(t.Context(), m)
		require.ErrorIs(t, err, channels.ErrPermanent)
	})
	t.Run("refuses for good a private note", func(t *testing.T) {
		m := outbound(t)
		m.Message.Private, m.Message.Direction = true, crm.Internal
		_, err := a.Deliver(t.Context(), m)
		require.ErrorIs(t, err, channels.ErrPermanent)
	})
}

func TestTheWebChatIsAChannelAdapter(t *testing.T) {
	t.Parallel()
	e := setup(t)

	adapterConformance(t, e.chat, func(t *testing.T) channels.Outbound {
		_, _, convID := e.startConversation("Buongiorno")
		m := e.reply(convID, "Buongiorno, come posso aiutarla?")
		conv := e.conversation(convID)
		conv.Messages = nil
		ids, err := e.store.Identities(e.ctx, e.tenant.ID, conv.ContactID)
		require.NoError(t, err)
		return channels.Outbound{TenantID: e.tenant.ID, Conversation: conv, Message: m, Identities: ids}
	})
}
