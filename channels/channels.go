// Package channels is the seam between the CRM and the ways citizens reach the
// Comune: web chat, e-mail, Telegram, app IO, the remote desk. Each lives in a
// sub-package and implements Adapter; nothing in crm or in the console knows a
// channel's details.
//
// Inbound, an adapter turns whatever its channel delivers (a websocket frame, an
// e-mail, a webhook) into a crm.InboundMessage and stores it with
// crm.Store.Ingest, which is idempotent on the channel's message id. Outbound, a
// reply is stored first (crm.Store.PostReply leaves it "pending"); the Dispatcher
// then hands it to the channel's adapter and records how far it got.
package channels

import (
	"context"
	"errors"

	"github.com/dialogo-pa/dialogo/crm"
)

// Adapter is one channel.
type Adapter interface {
	// Channel names the channel the adapter serves.
	Channel() crm.Channel
	// Deliver hands a stored outbound message to the citizen. It returns how far
	// delivery got (sent, or delivered when the channel confirms at once) and the
	// channel's id for the message, if any. A Permanent error marks the message
	// failed; any other error is retried.
	Deliver(ctx context.Context, m Outbound) (Delivery, error)
}

// Outbound is a message to deliver, with what the adapter needs to address it.
type Outbound struct {
	TenantID     int64
	Conversation crm.Conversation // without messages
	Message      crm.Message
	Identities   []crm.Identity // the contact's identities, to find the address on this channel
}

// Delivery is the outcome of Deliver.
type Delivery struct {
	Status     crm.DeliveryStatus
	ExternalID string
}

// ErrPermanent marks a delivery failure that retrying cannot fix (no address on
// the channel, a recipient who blocked the service).
var ErrPermanent = errors.New("permanent delivery failure")
