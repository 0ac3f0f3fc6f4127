package crm_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

// listen starts a hub on the bundle's database and subscribes to the events of
// the bundle's tenant.
func (b *bundle) listen(t *testing.T) *crm.Subscription {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	hub := crm.NewHub(b.pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan struct{})
	go func() { defer close(done); _ = hub.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-hub.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the hub did not start listening")
	}
	tenant := b.tenant.ID
	return hub.Subscribe(func(e crm.Event) bool { return e.TenantID == tenant }, 64)
}

// nextEvent waits for the next event of kind on sub.
func nextEvent(t *testing.T, sub *crm.Subscription, kind crm.EventKind) crm.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-sub.C:
			require.True(t, ok, "subscription closed")
			if e.Kind == kind {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event", kind)
		}
	}
}

func onlineIDs(t *testing.T, b *bundle) map[int64]crm.StaffPresence {
	t.Helper()
	online, err := b.store.OnlineStaff(b.ctx, b.tenant.ID)
	require.NoError(t, err)
	out := map[int64]crm.StaffPresence{}
	for _, p := range online {
		out[p.StaffID] = p
	}
	return out
}

func TestPresenceFollowsConnections(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sub := b.listen(t)
	require.Empty(t, onlineIDs(t, b))

	require.NoError(t, b.store.TouchPresence(b.ctx, b.tenant.ID, b.operator.ID, "conn-1"))
	e := nextEvent(t, sub, crm.EventPresence)
	require.Equal(t, b.operator.ID, e.StaffID)
	require.Equal(t, "online", e.Status)
	require.NoError(t, b.store.TouchPresence(b.ctx, b.tenant.ID, b.operator.ID, "conn-2"))
	require.NoError(t, b.store.TouchPresence(b.ctx, b.tenant.ID, b.operator.ID, "conn-1")) // a heartbeat

	online := onlineIDs(t, b)
	require.Len(t, online, 1)
	p := online[b.operator.ID]
	require.Equal(t, b.operator.Name, p.Name)
	require.Equal(t, 2, p.Connections)
	require.Equal(t, crm.Away, p.Availability, "the default")
	require.Equal(t, 0, p.Load)
	require.Equal(t, b.operator.MaxConcurrent, p.MaxConcurrent)

	require.NoError(t, b.store.DropPresence(b.ctx, b.tenant.ID, b.operator.ID, "conn-1"))
	require.Contains(t, onlineIDs(t, b), b.operator.ID, "another console is still open")
	require.NoError(t, b.store.DropPresence(b.ctx, b.tenant.ID, b.operator.ID, "conn-2"))
	require.Empty(t, onlineIDs(t, b))
	e = nextEvent(t, sub, crm.EventPresence)
	for e.Status != "offline" {
		e = nextEvent(t, sub, crm.EventPresence)
	}
	require.Equal(t, b.operator.ID, e.StaffID)
}

func TestPresenceExpiresWithoutHeartbeat(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.store.TouchPresence(b.ctx, b.tenant.ID, b.operator.ID, "conn-1"))
	_, err := b.pool.Exec(b.ctx, `UPDATE staff_presence SET seen_at = now() - interval '2 minutes' WHERE tenant_id = $1`, b.tenant.ID)
	require.NoError(t, err)

	require.Empty(t, onlineIDs(t, b))

	require.NoError(t, b.store.TouchPresence(b.ctx, b.tenant.ID, b.operator.ID, "conn-1"))
	require.Contains(t, onlineIDs(t, b), b.operator.ID, "back after a network loss")
}

func TestSetAvailabilityShowsInOnlineStaffAndNotifies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sub := b.listen(t)
	require.NoError(t, b.store.TouchPresence(b.ctx, b.tenant.ID, b.operator.ID, "conn-1"))
	c := b.openConversation(t, "Mario Rossi")
	_, err := b.store.Assign(b.ctx, b.operator.Actor(), c.ID, crm.Assignment{AssigneeID: &b.operator.ID})
	require.NoError(t, err)

	require.NoError(t, b.store.SetAvailability(b.ctx, b.operator.Actor(), crm.Available))

	e := nextEvent(t, sub, crm.EventPresence)
	for e.Status != string(crm.Available) {
		e = nextEvent(t, sub, crm.EventPresence)
	}
	require.Equal(t, b.operator.ID, e.StaffID)
	av, err := b.store.StaffAvailability(b.ctx, b.tenant.ID, b.operator.ID)
	require.NoError(t, err)
	require.Equal(t, crm.Available, av)
	p := onlineIDs(t, b)[b.operator.ID]
	require.Equal(t, crm.Available, p.Availability)
	require.Equal(t, 1, p.Load)
	require.True(t, p.HasRoom())

	requireInvalidField(t, b.store.SetAvailability(b.ctx, b.operator.Actor(), "busy"), "availability")
	require.ErrorIs(t, b.store.SetAvailability(b.ctx, crm.SystemActor(b.tenant.ID), crm.Away), crm.ErrForbidden)
}

func TestStaffLoadCountsAssignedConversations(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.openConversation(t, "Mario Rossi")
	_, err := b.store.Assign(b.ctx, b.operator.Actor(), c.ID, crm.Assignment{AssigneeID: &b.operator.ID})
	require.NoError(t, err)

	load, max, err := b.store.StaffLoad(b.ctx, b.tenant.ID, b.operator.ID)

	require.NoError(t, err)
	require.Equal(t, 1, load)
	require.Equal(t, b.operator.MaxConcurrent, max)
	_, _, err = b.store.StaffLoad(b.ctx, b.tenant.ID, 0)
	require.ErrorIs(t, err, crm.ErrNotFound)
}
