package crm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// What a channel that talks to citizens live (the web chat) needs from the
// CRM beyond ingest and replies: the citizen's own view of their contact and
// conversation, their place in the queue, delivery receipts, and signing in
// with a verified identity.

// ErrNoIdentitySecret is returned by WebchatIdentitySecret for an ente that has
// not set one: nobody can be vouched for.
var ErrNoIdentitySecret = fmt.Errorf("%w: the ente has no web-chat identity secret", ErrNotFound)

// Limits of a web-chat identity secret.
const (
	MinIdentitySecretLen = 32
	MaxIdentitySecretLen = 256
)

// WebchatIdentitySecret returns the key with which the ente's own website
// signs the user ids it hands to the web-chat widget, or ErrNoIdentitySecret.
// Never log or show it.
func (s *Store) WebchatIdentitySecret(ctx context.Context, tenantID int64) ([]byte, error) {
	var secret *string
	err := s.db.QueryRow(ctx, `SELECT webchat_identity_secret FROM tenants WHERE id = $1`, tenantID).Scan(&secret)
	if err != nil {
		return nil, notFound(err, "tenant", tenantID)
	}
	if secret == nil || *secret == "" {
		return nil, ErrNoIdentitySecret
	}
	return []byte(*secret), nil
}

// SetWebchatIdentitySecret sets the ente's web-chat identity secret, the same
// text its website uses as the HMAC key; an empty secret removes it, and with
// it the possibility of signed identities.
func (s *Store) SetWebchatIdentitySecret(ctx context.Context, tenantID int64, secret []byte) error {
	var value *string
	if len(secret) > 0 {
		if len(secret) < MinIdentitySecretLen || len(secret) > MaxIdentitySecretLen ||
			!utf8.Valid(secret) || strings.ContainsRune(string(secret), 0) {
			return Invalid("webchat_identity_secret",
				fmt.Sprintf("use %d to %d characters of text (a random string)", MinIdentitySecretLen, MaxIdentitySecretLen))
		}
		v := string(secret)
		value = &v
	}
	tag, err := s.db.Exec(ctx, `UPDATE tenants SET webchat_identity_secret = $2 WHERE id = $1`, tenantID, value)
	if err != nil {
		return fmt.Errorf("setWebchatIdentitySecret(%d): %w", tenantID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("tenant %d: %w", tenantID, ErrNotFound)
	}
	return nil
}

// IdentityOwner is the contact behind an identity as the person themself may
// see it.
type IdentityOwner struct {
	ContactID int64
	Name      string
	// Verified: the contact is a known person (a verified codice fiscale or
	// another verified identity), not only an anonymous visitor.
	Verified bool
}

// OwnerOf returns the contact that has the identity, or ErrNotFound.
func (s *Store) OwnerOf(ctx context.Context, tenantID int64, kind IdentityKind, externalID string) (IdentityOwner, error) {
	id, err := NormalizeIdentity(kind, externalID)
	if err != nil {
		return IdentityOwner{}, err
	}
	var o IdentityOwner
	err = s.db.QueryRow(ctx, `
		SELECT c.id, c.display_name, c.codice_fiscale IS NOT NULL OR EXISTS (
		    SELECT 1 FROM contact_identities v WHERE v.tenant_id = c.tenant_id AND v.contact_id = c.id AND v.verified)
		FROM contact_identities i JOIN contacts c ON c.tenant_id = i.tenant_id AND c.id = i.contact_id
		WHERE i.tenant_id = $1 AND i.kind = $2 AND i.external_id = $3`, tenantID, kind, id).
		Scan(&o.ContactID, &o.Name, &o.Verified)
	if err != nil {
		return IdentityOwner{}, notFound(err, "identity", kind)
	}
	return o, nil
}

// EnsureContact returns the contact behind an identity claim, making it when
// the identity is new (as ingest would), in a transaction of its own. A
// channel calls it when a person does something before their first message,
// such as uploading a file.
func (s *Store) EnsureContact(ctx context.Context, tenantID int64, claim IdentityClaim) (int64, error) {
	var id int64
	var err error
	// Two first actions of one person may race to create the identity: the
	// loser finds what the winner made.
	for attempt := 0; attempt < 3; attempt++ {
		err = s.InTx(ctx, func(tx *Store) error {
			r, err := tx.ResolveContact(ctx, tenantID, claim)
			id = r.ContactID
			return err
		})
		if !isUniqueViolation(err, "") && !errors.Is(err, ErrConflict) {
			break
		}
	}
	return id, err
}

// ContactConversation returns the contact's current conversation on a channel,
// without its messages: the open one on the thread, or else the open one with
// the most recent message on any thread (a merge may have moved one there),
// or else the most recent one, or ErrNotFound.
func (s *Store) ContactConversation(ctx context.Context, tenantID, contactID int64, ch Channel, threadKey string) (Conversation, error) {
	c, err := scanConversation(s.db.QueryRow(ctx, `SELECT `+conversationColumns+conversationFrom+`
		WHERE c.tenant_id = $1 AND c.contact_id = $2 AND c.channel = $3
		ORDER BY c.status <> 'resolved' AND c.thread_key = $4 DESC, c.status <> 'resolved' DESC,
		         c.last_message_at DESC, c.id DESC
		LIMIT 1`, tenantID, contactID, ch, threadKey))
	if err != nil {
		return Conversation{}, notFound(err, "conversation of contact", contactID)
	}
	return c, nil
}

// QueuePosition returns a queued conversation's place in its team's queue,
// counting from 1, in the order the queue is served: higher priority first,
// then longest waiting. It is 0 for a conversation that is not queued.
func (s *Store) QueuePosition(ctx context.Context, tenantID, conversationID int64) (int, error) {
	var pos int
	err := s.db.QueryRow(ctx, `
		SELECT CASE WHEN me.status <> 'queued' THEN 0 ELSE (
		    SELECT count(*) FROM conversations o
		    WHERE o.tenant_id = me.tenant_id AND o.status = 'queued' AND o.team_id IS NOT DISTINCT FROM me.team_id
		      AND (o.priority > me.priority OR (o.priority = me.priority AND
		           (coalesce(o.queued_at, o.created_at), o.id) <= (coalesce(me.queued_at, me.created_at), me.id))))
		END
		FROM conversations me WHERE me.tenant_id = $1 AND me.id = $2`, tenantID, conversationID).Scan(&pos)
	if err != nil {
		return 0, notFound(err, "conversation", conversationID)
	}
	return pos, nil
}

// deliveryRank orders the delivery statuses of outbound messages: a status
// only ever moves up. A message reported failed that the citizen then
// acknowledges did arrive.
const deliveryRank = `CASE %s WHEN 'pending' THEN 0 WHEN 'failed' THEN 0 WHEN 'sent' THEN 1
	WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE 0 END`

// MarkDelivery records that the citizen's side has every outbound message of
// the conversation up to uptoSeq (status sent, delivered or read). Receipts
// may arrive late, twice or out of order: a message's status never goes
// down (read stays read when a "delivered" for it comes later). Staff's
// consoles are told with an EventDelivery when anything changed.
func (s *Store) MarkDelivery(ctx context.Context, tenantID, conversationID, uptoSeq int64, status DeliveryStatus) error {
	if status != DeliverySent && status != DeliveryDelivered && status != DeliveryRead {
		return Invalid("status", "a receipt says sent, delivered or read")
	}
	if uptoSeq < 1 {
		return Invalid("seq", "is a message's sequence number, from 1")
	}
	// One statement: the update, and the notice when it changed something,
	// which PostgreSQL sends when the statement's transaction commits.
	var changed, notified int64
	err := s.db.QueryRow(ctx, `
		WITH up AS (
			UPDATE messages SET delivery_status = $4
			WHERE tenant_id = $1 AND conversation_id = $2 AND seq <= $3 AND direction = 'out'
			  AND `+fmt.Sprintf(deliveryRank, "delivery_status")+` < `+fmt.Sprintf(deliveryRank, "$4::text")+`
			RETURNING seq
		), note AS (
			SELECT pg_notify('`+EventsChannel+`', json_build_object('k', 'delivery', 't', $1::bigint, 'c', $2::bigint,
			    'ct', c.contact_id, 's', (SELECT max(seq) FROM up), 'x', $4::text)::text)
			FROM conversations c
			WHERE c.tenant_id = $1 AND c.id = $2 AND EXISTS (SELECT 1 FROM up)
		)
		SELECT (SELECT count(*) FROM up), (SELECT count(*) FROM note)`,
		tenantID, conversationID, uptoSeq, status).Scan(&changed, &notified)
	if err != nil {
		return fmt.Errorf("markDelivery(%d, %d): %w", conversationID, uptoSeq, err)
	}
	return nil
}

// ErrAnotherPerson is returned by SignIn when the channel identity belongs to
// a contact already verified as somebody else (a shared computer): the
// channel should start afresh with a new identity rather than join the two.
var ErrAnotherPerson = errors.New("the identity belongs to a contact verified as someone else")

// SignInResult tells what SignIn did.
type SignInResult struct {
	ContactID int64 // the verified contact the channel identity now belongs to
	// MergedID is the anonymous contact that was merged into ContactID, or 0.
	MergedID int64
}

// SignIn records that the person behind a channel identity (a web-chat
// visitor) proved who they are with a verified identity (a codice fiscale from
// SPID or CIE, a user id signed by the ente's website), in one transaction:
//   - a channel identity not seen before joins the proven contact;
//   - an anonymous contact (nothing about it verified) takes the proof, or,
//     when another contact already has it, is merged into that one, with
//     reason in the audit log;
//   - a contact already verified as someone else is left alone, and SignIn
//     returns ErrAnotherPerson: two verified people are never joined on the
//     word of one browser.
func (s *Store) SignIn(ctx context.Context, tenantID int64, channel, proof IdentityClaim, reason string) (SignInResult, error) {
	channel.Verified, channel.VerifiedBy = false, ""
	if err := channel.normalize(); err != nil {
		return SignInResult{}, err
	}
	if !proof.Verified {
		return SignInResult{}, Invalid("verified", "signing in needs a verified identity")
	}
	if err := proof.normalize(); err != nil {
		return SignInResult{}, err
	}
	if channel.Kind == proof.Kind && channel.ExternalID == proof.ExternalID {
		return SignInResult{}, Invalid("external_id", "an identity cannot prove itself")
	}
	var res SignInResult
	err := s.InTx(ctx, func(tx *Store) error {
		visitor, err := tx.identityContact(ctx, tenantID, channel.Kind, channel.ExternalID)
		if err != nil {
			return err
		}
		owner, err := tx.identityContact(ctx, tenantID, proof.Kind, proof.ExternalID)
		if err != nil {
			return err
		}
		if owner == 0 {
			if owner, err = tx.matchVerified(ctx, tenantID, proof); err != nil {
				return err
			}
		}
		if visitor == 0 {
			r, err := tx.ResolveContact(ctx, tenantID, proof)
			if err != nil {
				return err
			}
			if _, err := tx.insertIdentity(ctx, tenantID, r.ContactID, channel); err != nil {
				return err
			}
			res.ContactID = r.ContactID
			return tx.auditSignIn(ctx, tenantID, res, proof, reason)
		}
		if owner != visitor {
			var verified bool
			if err := tx.db.QueryRow(ctx, `
				SELECT c.codice_fiscale IS NOT NULL OR EXISTS (SELECT 1 FROM contact_identities i
				    WHERE i.tenant_id = c.tenant_id AND i.contact_id = c.id AND i.verified)
				FROM contacts c WHERE c.tenant_id = $1 AND c.id = $2 FOR UPDATE`, tenantID, visitor).Scan(&verified); err != nil {
				return notFound(err, "contact", visitor)
			}
			if verified {
				return ErrAnotherPerson
			}
		}
		switch {
		case owner == 0:
			if _, err := tx.insertIdentity(ctx, tenantID, visitor, proof); err != nil {
				return err
			}
			if err := tx.verifyIdentity(ctx, tenantID, visitor, proof); err != nil {
				return err
			}
			res.ContactID = visitor
		case owner == visitor:
			// Signed in before: verify the identity again only if it is not.
			if _, err := tx.ResolveContact(ctx, tenantID, proof); err != nil {
				return err
			}
			res.ContactID = visitor
			return tx.provenHere(ctx, tenantID, proof)
		default:
			r, err := tx.ResolveContact(ctx, tenantID, proof)
			if err != nil {
				return err
			}
			if _, err := tx.Merge(ctx, SystemActor(tenantID), r.ContactID, visitor, reason); err != nil {
				if errors.Is(err, ErrConflict) {
					return ErrAnotherPerson
				}
				return err
			}
			res.ContactID, res.MergedID = r.ContactID, visitor
			if err := tx.provenHere(ctx, tenantID, proof); err != nil {
				return err
			}
		}
		if err := tx.auditSignIn(ctx, tenantID, res, proof, reason); err != nil {
			return err
		}
		// The consoles showing the citizen's conversations learn who they are.
		return tx.contactConversationsChanged(ctx, tenantID, res.ContactID)
	})
	if err != nil {
		return SignInResult{}, fmt.Errorf("signIn: %w", err)
	}
	return res, nil
}

// identityContact returns the contact of an identity (normalised), or 0.
func (s *Store) identityContact(ctx context.Context, tenantID int64, kind IdentityKind, externalID string) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT contact_id FROM contact_identities WHERE tenant_id = $1 AND kind = $2 AND external_id = $3`,
		tenantID, kind, externalID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("identityContact: %w", err)
	}
	return id, nil
}

func (s *Store) auditSignIn(ctx context.Context, tenantID int64, res SignInResult, proof IdentityClaim, reason string) error {
	detail := map[string]any{"kind": proof.Kind, "verified_by": proof.VerifiedBy}
	if res.MergedID != 0 {
		detail["merged_contact_id"] = res.MergedID
	}
	return s.Audit(ctx, SystemActor(tenantID), AuditEntry{Action: "contact.sign_in", ContactID: res.ContactID,
		Reason: reason, Detail: detail})
}

// provenHere records that the citizen has just proved an identity that was known
// from elsewhere (an import, say): staff see how the identity was last proven.
func (s *Store) provenHere(ctx context.Context, tenantID int64, proof IdentityClaim) error {
	_, err := s.db.Exec(ctx, `
		UPDATE contact_identities SET verified = true, verified_by = $4, verified_at = now()
		WHERE tenant_id = $1 AND kind = $2 AND external_id = $3 AND verified_by <> $4`,
		tenantID, proof.Kind, proof.ExternalID, proof.VerifiedBy)
	if err != nil {
		return fmt.Errorf("signIn: %w", err)
	}
	return nil
}

// contactConversationsChanged sends a conversation event for each open
// conversation of the contact.
func (s *Store) contactConversationsChanged(ctx context.Context, tenantID, contactID int64) error {
	_, err := s.db.Exec(ctx, `
		SELECT pg_notify('`+EventsChannel+`', json_build_object('k', 'conversation', 't', tenant_id,
		    'c', id, 'ct', contact_id, 'x', status)::text)
		FROM conversations WHERE tenant_id = $1 AND contact_id = $2 AND status <> 'resolved'`, tenantID, contactID)
	if err != nil {
		return fmt.Errorf("signIn: %w", err)
	}
	return nil
}

// QueuePositions returns the place in its team's queue of every queued
// conversation of the tenant, computed in one pass: what a server with many
// citizens waiting reads once, instead of one count per citizen.
func (s *Store) QueuePositions(ctx context.Context, tenantID int64) (map[int64]int, error) {
	rows, err := s.db.Query(ctx, `
		SELECT id, row_number() OVER (PARTITION BY team_id
		    ORDER BY priority DESC, coalesce(queued_at, created_at), id)
		FROM conversations WHERE tenant_id = $1 AND status = 'queued'`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("queuePositions(%d): %w", tenantID, err)
	}
	defer rows.Close()
	pos := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("queuePositions(%d): %w", tenantID, err)
		}
		pos[id] = n
	}
	return pos, rows.Err()
}
