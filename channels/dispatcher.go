package channels

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
)

// Dispatcher hands stored outbound messages to their channels' adapters. Any
// number of instances may run one: each message is locked while it is handed
// over, so exactly one instance delivers it. It wakes on every new message
// (through the hub) and every SweepEvery, which also picks up retries.
type Dispatcher struct {
	store    *crm.Store
	hub      *crm.Hub
	log      *slog.Logger
	adapters map[crm.Channel]Adapter
	channels []crm.Channel
}

// SweepEvery is how often the dispatcher looks for due messages without being woken.
const SweepEvery = 15 * time.Second

// NewDispatcher returns a dispatcher for the adapters' channels.
func NewDispatcher(store *crm.Store, hub *crm.Hub, log *slog.Logger, adapters ...Adapter) *Dispatcher {
	if log == nil {
		log = slog.Default()
	}
	d := &Dispatcher{store: store, hub: hub, log: log, adapters: map[crm.Channel]Adapter{}}
	for _, a := range adapters {
		d.adapters[a.Channel()] = a
		d.channels = append(d.channels, a.Channel())
	}
	return d
}

// Run delivers until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	wake := d.hub.Wake(ctx, func(e crm.Event) bool { return e.Kind == crm.EventMessage && !e.Private })
	tick := time.NewTicker(SweepEvery)
	defer tick.Stop()
	for {
		d.DeliverDue(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-tick.C:
		}
	}
}

// DeliverDue hands over every due message and returns how many it handled.
func (d *Dispatcher) DeliverDue(ctx context.Context) int {
	n := 0
	for ctx.Err() == nil {
		done, err := d.deliverOne(ctx)
		if err != nil {
			d.log.Error("delivering outbound messages", "err", err)
			return n
		}
		if !done {
			return n
		}
		n++
	}
	return n
}

func (d *Dispatcher) deliverOne(ctx context.Context) (bool, error) {
	found := false
	err := d.store.InTx(ctx, func(tx *crm.Store) error {
		p, err := tx.NextPendingOutbound(ctx, d.channels)
		if errors.Is(err, crm.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		adapter := d.adapters[p.Message.Channel]
		res, derr := adapter.Deliver(ctx, Outbound{TenantID: p.TenantID, Conversation: p.Conversation,
			Message: p.Message, Identities: p.Identities})
		if derr == nil && res.Status == "" {
			res.Status = crm.DeliverySent
		}
		if derr != nil {
			d.log.Warn("delivery failed", "channel", p.Message.Channel, "message_id", p.Message.ID,
				"attempt", p.Attempts+1, "permanent", errors.Is(derr, ErrPermanent), "err", derr)
		}
		return tx.RecordDelivery(ctx, p, res.Status, res.ExternalID, derr, errors.Is(derr, ErrPermanent))
	})
	return found, err
}
