package channels_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/channels"
	"github.com/dialogo-pa/dialogo/channels/webchat"
	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/testdb"
)

// channelStub stands for a channel whose far end answers as told: it counts the
// messages handed to it.
type channelStub struct {
	channel crm.Channel
	fail    error
	calls   atomic.Int64
	mu      sync.Mutex
	seen    map[int64]int
}

func (c *channelStub) Channel() crm.Channel { return c.channel }

func (c *channelStub) Deliver(_ context.Context, m channels.Outbound) (channels.Delivery, error) {
	c.calls.Add(1)
	c.mu.Lock()
	if c.seen == nil {
		c.seen = map[int64]int{}
	}
	c.seen[m.Message.ID]++
	c.mu.Unlock()
	if c.fail != nil {
		return channels.Delivery{}, c.fail
	}
	return channels.Delivery{Status: crm.DeliverySent, ExternalID: fmt.Sprintf("ext-%d", m.Message.ID)}, nil
}

type fixture struct {
	store *crm.Store
	hub   *crm.Hub
	op    crm.Actor
	conv  int64
	ch    crm.Channel
}

// setup makes a tenant with an operator and a conversation on ch, in which the
// operator replies n times.
func setup(t *testing.T, ch crm.Channel, replies int) fixture {
	t.Helper()
	ctx := t.Context()
	pool := testdb.New(t)
	store := crm.NewStore(pool)
	slug := fmt.Sprintf("disp-%d", time.Now().UnixNano())
	tenant, err := store.EnsureTenant(ctx, slug, "Comune di Prova", "01199250158")
	require.NoError(t, err)
	_, err = store.EnsureTeam(ctx, tenant.ID, "urp", "URP")
	require.NoError(t, err)
	st, err := store.EnsureStaff(ctx, tenant.ID, crm.StaffInput{Email: slug + "@op.example", Name: "Op",
		Roles: []crm.Role{crm.RoleOperator}, Password: "password-lunga"})
	require.NoError(t, err)
	from := crm.IdentityClaim{Kind: crm.IdentityEmail, ExternalID: slug + "@cittadino.example"}
	if ch == crm.ChannelWebchat {
		from = crm.IdentityClaim{Kind: crm.IdentityWebchat, ExternalID: "v" + slug}
	}
	res, err := store.Ingest(ctx, tenant.ID, crm.InboundMessage{Channel: ch, ExternalID: slug, From: from, Text: "Buongiorno"})
	require.NoError(t, err)
	for i := range replies {
		_, err := store.PostReply(ctx, st.Actor(), res.Message.ConversationID, crm.Reply{Text: fmt.Sprintf("Risposta %d", i)})
		require.NoError(t, err)
	}
	hub := crm.NewHub(pool, nil)
	return fixture{store: store, hub: hub, op: st.Actor(), conv: res.Message.ConversationID, ch: ch}
}

func (f fixture) outbound(t *testing.T) []crm.Message {
	t.Helper()
	c, err := f.store.Conversation(t.Context(), f.op.TenantID, f.conv)
	require.NoError(t, err)
	var out []crm.Message
	for _, m := range c.Messages {
		if m.Direction == crm.Outbound {
			out = append(out, m)
		}
	}
	return out
}

func TestDispatcherHandsRepliesToTheWebChatAndMarksThemSent(t *testing.T) {
	t.Parallel()
	f := setup(t, crm.ChannelWebchat, 2)
	chat := webchat.New(webchat.Config{Store: f.store, Hub: f.hub})
	d := channels.NewDispatcher(f.store, f.hub, nil, chat)

	require.GreaterOrEqual(t, d.DeliverDue(t.Context()), 2)
	for _, m := range f.outbound(t) {
		require.Equal(t, crm.DeliverySent, m.DeliveryStatus, m.Text)
	}
}

func TestDispatcherRetriesATransientFailureLaterAndGivesUpOnAPermanentOne(t *testing.T) {
	t.Parallel()
	f := setup(t, crm.ChannelEmail, 1)
	flaky := &channelStub{channel: crm.ChannelEmail, fail: errors.New("connection refused")}
	d := channels.NewDispatcher(f.store, f.hub, nil, flaky)

	d.DeliverDue(t.Context())
	m := f.outbound(t)[0]
	require.Equal(t, crm.DeliveryPending, m.DeliveryStatus)
	require.Contains(t, m.DeliveryError, "connection refused")
	calls := flaky.calls.Load()
	d.DeliverDue(t.Context())
	require.Equal(t, calls, flaky.calls.Load(), "a failed message waits for its next attempt")

	g := setup(t, crm.ChannelEmail, 1)
	blocked := &channelStub{channel: crm.ChannelEmail, fail: fmt.Errorf("%w: no e-mail address", channels.ErrPermanent)}
	channels.NewDispatcher(g.store, g.hub, nil, blocked).DeliverDue(t.Context())
	m = g.outbound(t)[0]
	require.Equal(t, crm.DeliveryFailed, m.DeliveryStatus)
	require.Contains(t, m.DeliveryError, "no e-mail address")
}

// The dispatcher serves every tenant, so the tests whose stubs share a channel
// (Telegram here) do not run in parallel with each other.

func TestTwoDispatchersDeliverEachMessageOnce(t *testing.T) {
	f := setup(t, crm.ChannelTelegram, 30)
	stub := &channelStub{channel: crm.ChannelTelegram}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			channels.NewDispatcher(f.store, f.hub, nil, stub).DeliverDue(t.Context())
		}()
	}
	wg.Wait()
	out := f.outbound(t)
	require.Len(t, out, 30)
	for _, m := range out {
		require.Equal(t, crm.DeliverySent, m.DeliveryStatus)
		require.Equal(t, 1, stub.seen[m.ID], "message %d", m.ID)
		require.Equal(t, fmt.Sprintf("ext-%d", m.ID), m.ExternalID)
	}
}

func TestDispatcherWakesOnANewReply(t *testing.T) {
	f := setup(t, crm.ChannelTelegram, 0)
	stub := &channelStub{channel: crm.ChannelTelegram}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = f.hub.Run(ctx) }()
	<-f.hub.Ready()
	go func() { _ = channels.NewDispatcher(f.store, f.hub, nil, stub).Run(ctx) }()

	_, err := f.store.PostReply(t.Context(), f.op, f.conv, crm.Reply{Text: "Eccomi"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		out := f.outbound(t)
		return len(out) == 1 && out[0].DeliveryStatus == crm.DeliverySent
	}, 5*time.Second, 20*time.Millisecond, "delivered well before the periodic sweep")
}
