package crm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PendingOutbound is an outbound message waiting to be handed to its channel,
// with what an adapter needs to address it.
type PendingOutbound struct {
	TenantID     int64
	Conversation Conversation
	Message      Message
	Identities   []Identity
	Attempts     int // failed deliveries so far
}

// MaxDeliveryAttempts is how many times a failing delivery is tried before the
// message is marked failed.
const MaxDeliveryAttempts = 8

// NextPendingOutbound locks the oldest outbound message, on one of the channels,
// that is waiting for delivery and due. It skips rows other instances hold, so
// that several dispatchers share the work and none delivers a message twice. Run
// it in a transaction that records the outcome (RecordDelivery) before it
// commits. ErrNotFound when there is nothing to do.
func (s *Store) NextPendingOutbound(ctx context.Context, channels []Channel) (PendingOutbound, error) {
	var p PendingOutbound
	m, err := scanMessageWith(s.db.QueryRow(ctx, `
		SELECT tenant_id, delivery_attempts, `+messageColumns+` FROM messages
		WHERE delivery_status = 'pending' AND direction = 'out' AND channel = ANY($1)
		  AND (next_attempt_at IS NULL OR next_attempt_at <= now())
		ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`, channels), &p.TenantID, &p.Attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return PendingOutbound{}, fmt.Errorf("pending outbound message: %w", ErrNotFound)
	}
	if err != nil {
		return PendingOutbound{}, fmt.Errorf("nextPendingOutbound: %w", err)
	}
	p.Message = m
	c, err := scanConversation(s.db.QueryRow(ctx, `SELECT `+conversationColumns+conversationFrom+
		`WHERE c.tenant_id = $1 AND c.id = $2`, p.TenantID, m.ConversationID))
	if err != nil {
		return PendingOutbound{}, notFound(err, "conversation", m.ConversationID)
	}
	p.Conversation = c
	p.Identities, err = s.Identities(ctx, p.TenantID, c.ContactID)
	return p, err
}

// RecordDelivery stores the outcome of handing a message to its channel: the
// status reached (never lower than one a receipt already recorded) and the
// channel's id; or, with a failure, the error, retried with back-off unless
// permanent or too often repeated.
func (s *Store) RecordDelivery(ctx context.Context, p PendingOutbound, status DeliveryStatus, externalID string, failure error, permanent bool) error {
	m := p.Message
	if failure != nil {
		attempts := p.Attempts + 1
		if permanent || attempts >= MaxDeliveryAttempts {
			status = DeliveryFailed
		} else {
			// 10 s, 20 s, 40 s … at most an hour.
			wait := min(10*time.Second<<(attempts-1), time.Hour)
			_, err := s.db.Exec(ctx, `UPDATE messages SET delivery_attempts = $3, next_attempt_at = now() + $4::interval,
				delivery_error = $5 WHERE tenant_id = $1 AND id = $2`,
				p.TenantID, m.ID, attempts, fmt.Sprintf("%d milliseconds", wait.Milliseconds()), truncate(failure.Error(), 1000))
			if err != nil {
				return fmt.Errorf("recordDelivery(%d): %w", m.ID, err)
			}
			return nil
		}
	}
	errText := ""
	if failure != nil {
		errText = truncate(failure.Error(), 1000)
	}
	var ext *string
	if externalID != "" && m.ExternalID == "" {
		ext = &externalID
	}
	_, err := s.db.Exec(ctx, `
		UPDATE messages SET delivery_status = $3, delivery_error = $4, external_id = coalesce($5, external_id),
		    delivery_attempts = delivery_attempts + CASE WHEN $4 = '' THEN 0 ELSE 1 END, next_attempt_at = NULL
		WHERE tenant_id = $1 AND id = $2 AND delivery_status = 'pending'`,
		p.TenantID, m.ID, status, errText, ext)
	if err != nil {
		return fmt.Errorf("recordDelivery(%d): %w", m.ID, err)
	}
	return s.notify(ctx, Event{Kind: EventDelivery, TenantID: p.TenantID, ConversationID: m.ConversationID,
		ContactID: p.Conversation.ContactID, Seq: m.Seq, Status: string(status)})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// scanMessageWith scans leading extra columns, then a message.
func scanMessageWith(row pgx.Row, extra ...any) (Message, error) {
	var m Message
	dest := append(extra, &m.ID, &m.ConversationID, &m.Seq, &m.Channel, &m.Direction, &m.AuthorKind, &m.AuthorStaffID,
		&m.Text, &m.HTML, &m.Attachments, &m.Private, &m.ExternalID, &m.DeliveryStatus, &m.DeliveryError, &m.Automated, &m.CreatedAt)
	err := row.Scan(dest...)
	return m, err
}
