package crm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/microcosm-cc/bluemonday"
)

// Channel is where a conversation happens.
type Channel string

// The channels.
const (
	ChannelWebchat   Channel = "webchat"
	ChannelEmail     Channel = "email"
	ChannelTelegram  Channel = "telegram"
	ChannelAppIO     Channel = "appio"
	ChannelSportello Channel = "sportello"
)

// Channels lists every channel.
var Channels = []Channel{ChannelWebchat, ChannelEmail, ChannelTelegram, ChannelAppIO, ChannelSportello}

func validChannel(c Channel) bool {
	for _, x := range Channels {
		if x == c {
			return true
		}
	}
	return false
}

// Status is where a conversation stands.
type Status string

// The conversation statuses.
const (
	StatusAssistant Status = "assistant" // the virtual assistant is answering
	StatusQueued    Status = "queued"    // waiting in a team's queue
	StatusAssigned  Status = "assigned"  // an operator has it
	StatusResolved  Status = "resolved"
)

func validStatus(s Status) bool {
	return s == StatusAssistant || s == StatusQueued || s == StatusAssigned || s == StatusResolved
}

// Direction of a message.
type Direction string

// The message directions.
const (
	Inbound  Direction = "in"
	Outbound Direction = "out"
	Internal Direction = "internal" // private notes and activity, never sent
)

// AuthorKind says who wrote a message.
type AuthorKind string

// The author kinds.
const (
	AuthorCitizen   AuthorKind = "citizen"
	AuthorAssistant AuthorKind = "assistant"
	AuthorOperator  AuthorKind = "operator"
	AuthorSystem    AuthorKind = "system"
)

// DeliveryStatus of a message.
type DeliveryStatus string

// The delivery statuses.
const (
	DeliveryReceived  DeliveryStatus = "received" // inbound, stored
	DeliveryPending   DeliveryStatus = "pending"  // outbound, not yet handed to the channel
	DeliverySent      DeliveryStatus = "sent"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryRead      DeliveryStatus = "read"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Attachment describes a file carried by a message; the bytes live elsewhere.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256,omitempty"`
	URL         string `json:"url,omitempty"`
	// Token names a file stored with SaveAttachment: each viewer (the
	// citizen's web chat, the staff console) builds its own address from it.
	Token string `json:"token,omitempty"`
}

// Message is one message of a conversation.
type Message struct {
	ID             int64          `json:"id"`
	ConversationID int64          `json:"conversation_id"`
	Seq            int64          `json:"seq"`
	Channel        Channel        `json:"channel"`
	Direction      Direction      `json:"direction"`
	AuthorKind     AuthorKind     `json:"author_kind"`
	AuthorStaffID  *int64         `json:"author_staff_id,omitempty"`
	Text           string         `json:"text"`
	HTML           string         `json:"html,omitempty"`
	Attachments    []Attachment   `json:"attachments"`
	Private        bool           `json:"private"`
	ExternalID     string         `json:"external_id,omitempty"`
	DeliveryStatus DeliveryStatus `json:"delivery_status"`
	DeliveryError  string         `json:"delivery_error,omitempty"`
	// Automated: an auto-reply, out-of-office notice or bounce, as its
	// channel recognised it; shown to staff, never answered by the assistant.
	Automated bool      `json:"automated,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Conversation is a thread between a contact and the ente on one channel.
type Conversation struct {
	ID            int64      `json:"id"`
	ContactID     int64      `json:"contact_id"`
	ContactName   string     `json:"contact_name"`
	Channel       Channel    `json:"channel"`
	ThreadKey     string     `json:"thread_key,omitempty"`
	Subject       string     `json:"subject"`
	Status        Status     `json:"status"`
	TeamID        *int64     `json:"team_id"`
	AssigneeID    *int64     `json:"assignee_id"`
	Priority      int        `json:"priority"`
	Tags          []string   `json:"tags"`
	LastSeq       int64      `json:"last_seq"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	LastMessageAt time.Time  `json:"last_message_at"`
	QueuedAt      *time.Time `json:"queued_at,omitempty"`
	ResolvedAt    *time.Time `json:"resolved_at,omitempty"`
	Messages      []Message  `json:"messages,omitempty"`
}

// Limits on message content.
const (
	MaxTextLen        = 100_000
	MaxHTMLLen        = 500_000
	MaxAttachments    = 20
	maxExternalIDSize = 500
)

// InboundMessage is a message from a citizen as a channel adapter hands it over.
type InboundMessage struct {
	Channel     Channel
	ExternalID  string // the channel's id of the message: ingest is idempotent on it
	From        IdentityClaim
	ThreadKey   string // empty for channels with one thread per contact
	Subject     string
	Text        string
	HTML        string // sanitised again here; never trusted
	Attachments []Attachment
	// Automated: the channel recognised an auto-reply, out-of-office notice
	// or bounce (e-mail's Auto-Submitted, a delivery report): it is stored and
	// shown to staff, and the assistant never answers it.
	Automated bool
	TeamID    int64 // route a new conversation to this team; 0: the tenant's first team
	// Status of a new conversation; empty: with the assistant when the ente
	// has it enabled, else queued.
	Status Status
}

// IngestResult tells what ingest did.
type IngestResult struct {
	Message         Message
	ContactID       int64
	NewContact      bool
	NewConversation bool
	Duplicate       bool // the message was already stored; nothing changed
}

var htmlPolicy = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
})

// SanitizeHTML makes untrusted HTML (an e-mail body) safe to show to staff.
func SanitizeHTML(s string) string { return htmlPolicy().Sanitize(s) }

func validateBody(text, html string, atts []Attachment) error {
	if !utf8.ValidString(text) {
		return Invalid("text", "is not valid UTF-8")
	}
	if utf8.RuneCountInString(text) > MaxTextLen {
		return Invalid("text", fmt.Sprintf("up to %d characters", MaxTextLen))
	}
	if len(html) > MaxHTMLLen {
		return Invalid("html", fmt.Sprintf("up to %d bytes", MaxHTMLLen))
	}
	if len(atts) > MaxAttachments {
		return Invalid("attachments", fmt.Sprintf("up to %d attachments", MaxAttachments))
	}
	for i, a := range atts {
		if a.Name == "" || len(a.Name) > 255 || a.Size < 0 || len(a.ContentType) > 255 || len(a.URL) > 2000 {
			return Invalid("attachments["+strconv.Itoa(i)+"]", "needs a name (up to 255 characters), a size and a content type")
		}
	}
	if strings.TrimSpace(text) == "" && strings.TrimSpace(html) == "" && len(atts) == 0 {
		return Invalid("text", "a message needs text or an attachment")
	}
	return nil
}

// Ingest stores an inbound message durably: it resolves the sender to a contact,
// finds the open conversation of that contact on the channel's thread (or opens
// one in a team's queue), and appends the message with the conversation's next
// sequence number, all in one transaction. The same message delivered twice is
// stored once: the second call returns it with Duplicate set.
func (s *Store) Ingest(ctx context.Context, tenantID int64, in InboundMessage) (IngestResult, error) {
	if !validChannel(in.Channel) {
		return IngestResult{}, Invalid("channel", fmt.Sprintf("unknown channel %q", in.Channel))
	}
	if in.ExternalID == "" || len(in.ExternalID) > maxExternalIDSize || !utf8.ValidString(in.ExternalID) {
		return IngestResult{}, Invalid("external_id", "every inbound message needs the channel's id (up to 500 bytes)")
	}
	if len(in.ThreadKey) > 500 || len(in.Subject) > 500 {
		return IngestResult{}, Invalid("subject", "thread key and subject are up to 500 bytes")
	}
	if in.Status != "" && in.Status != StatusQueued && in.Status != StatusAssistant {
		return IngestResult{}, Invalid("status", "a new conversation starts with the assistant or in a queue")
	}
	if err := validateBody(in.Text, in.HTML, in.Attachments); err != nil {
		return IngestResult{}, err
	}
	if in.HTML != "" {
		in.HTML = SanitizeHTML(in.HTML)
	}
	if err := in.From.normalize(); err != nil {
		return IngestResult{}, err
	}
	if in.Attachments == nil {
		in.Attachments = []Attachment{}
	}

	// Most messages come from a known sender in a conversation in progress:
	// one statement stores them.
	if !s.inTx {
		if res, ok, err := s.ingestKnown(ctx, tenantID, in); ok || err != nil {
			return res, err
		}
	}
	// Two first messages of one person racing each other collide on a unique
	// key (identity, open thread); the loser retries and finds what the winner made.
	var res IngestResult
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		res, err = s.ingestOnce(ctx, tenantID, in)
		if !isUniqueViolation(err, "") && !errors.Is(err, ErrConflict) {
			break
		}
	}
	return res, err
}

var errDuplicate = errors.New("duplicate message")

func (s *Store) ingestOnce(ctx context.Context, tenantID int64, in InboundMessage) (IngestResult, error) {
	var res IngestResult
	err := s.InTx(ctx, func(tx *Store) error {
		r, err := tx.ResolveContact(ctx, tenantID, in.From)
		if err != nil {
			return err
		}
		res.ContactID, res.NewContact = r.ContactID, r.Created
		convID, seq, status, created, err := tx.nextInThread(ctx, tenantID, r.ContactID, in)
		if err != nil {
			return err
		}
		res.NewConversation = created
		m := Message{
			ConversationID: convID, Seq: seq, Channel: in.Channel, Direction: Inbound, AuthorKind: AuthorCitizen,
			Text: in.Text, HTML: in.HTML, Attachments: in.Attachments, ExternalID: in.ExternalID,
			DeliveryStatus: DeliveryReceived, Automated: in.Automated,
		}
		err = tx.db.QueryRow(ctx, `
			INSERT INTO messages (tenant_id, conversation_id, seq, channel, direction, author_kind,
			    body_text, body_html, attachments, external_id, delivery_status, automated)
			VALUES ($1, $2, $3, $4, 'in', 'citizen', $5, $6, $7, $8, 'received', $9)
			ON CONFLICT (tenant_id, channel, external_id) WHERE external_id IS NOT NULL DO NOTHING
			RETURNING id, created_at`,
			tenantID, convID, seq, in.Channel, in.Text, in.HTML, in.Attachments, in.ExternalID, in.Automated).Scan(&m.ID, &m.CreatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return errDuplicate // roll back the contact, conversation and sequence work
		}
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		res.Message = m
		if err := tx.notify(ctx, Event{Kind: EventMessage, TenantID: tenantID, ConversationID: convID,
			ContactID: r.ContactID, Seq: seq}); err != nil {
			return err
		}
		if created {
			return tx.notify(ctx, Event{Kind: EventConversation, TenantID: tenantID, ConversationID: convID,
				ContactID: r.ContactID, Status: string(status)})
		}
		return nil
	})
	if errors.Is(err, errDuplicate) {
		m, err := s.messageByExternalID(ctx, tenantID, in.Channel, in.ExternalID)
		if err != nil {
			return IngestResult{}, err
		}
		var contactID int64
		if err := s.db.QueryRow(ctx, `SELECT contact_id FROM conversations WHERE tenant_id = $1 AND id = $2`,
			tenantID, m.ConversationID).Scan(&contactID); err != nil {
			return IngestResult{}, fmt.Errorf("ingest: %w", err)
		}
		return IngestResult{Message: m, ContactID: contactID, Duplicate: true}, nil
	}
	return res, err
}

// ingestKnown stores a message from a known identity in its open conversation with
// one statement, committed on its own: the common case, a conversation in
// progress. It reports false, having changed nothing, when the case is another:
// an identity not seen before, a claim that would verify it, no open
// conversation, or a message already stored (the statement then fails whole on
// the unique key, without spending a sequence number).
func (s *Store) ingestKnown(ctx context.Context, tenantID int64, in InboundMessage) (IngestResult, bool, error) {
	res := IngestResult{Message: Message{Channel: in.Channel, Direction: Inbound, AuthorKind: AuthorCitizen,
		Text: in.Text, HTML: in.HTML, Attachments: in.Attachments, ExternalID: in.ExternalID, DeliveryStatus: DeliveryReceived,
		Automated: in.Automated}}
	m := &res.Message
	err := s.db.QueryRow(ctx, `
		WITH conv AS (
			UPDATE conversations c SET last_seq = c.last_seq + 1, last_message_at = now(), updated_at = now()
			FROM contact_identities i
			WHERE i.tenant_id = $1 AND i.kind = $2 AND i.external_id = $3 AND (i.verified OR NOT $4)
			  AND c.tenant_id = $1 AND c.contact_id = i.contact_id AND c.channel = $5 AND c.thread_key = $6
			  AND c.status <> 'resolved'
			RETURNING c.id, c.last_seq, c.contact_id
		), msg AS (
			INSERT INTO messages (tenant_id, conversation_id, seq, channel, direction, author_kind,
			    body_text, body_html, attachments, external_id, delivery_status, automated)
			SELECT $1, id, last_seq, $5, 'in', 'citizen', $7, $8, $9, $10, 'received', $11 FROM conv
			RETURNING id, conversation_id, seq, created_at
		), note AS (
			SELECT pg_notify('`+EventsChannel+`', json_build_object('k', 'message', 't', $1::bigint,
			    'c', msg.conversation_id, 'ct', conv.contact_id, 's', msg.seq)::text)
			FROM msg, conv
		)
		SELECT msg.id, msg.conversation_id, msg.seq, msg.created_at, conv.contact_id FROM msg, conv, note`,
		tenantID, in.From.Kind, in.From.ExternalID, in.From.Verified, in.Channel, in.ThreadKey,
		in.Text, in.HTML, in.Attachments, in.ExternalID, in.Automated).Scan(&m.ID, &m.ConversationID, &m.Seq, &m.CreatedAt, &res.ContactID)
	if errors.Is(err, pgx.ErrNoRows) || isUniqueViolation(err, "messages_external_key") {
		return IngestResult{}, false, nil
	}
	if err != nil {
		return IngestResult{}, false, fmt.Errorf("ingest: %w", err)
	}
	return res, true, nil
}

// nextInThread takes the next sequence number of the contact's open conversation
// on the thread, opening a conversation when there is none.
func (s *Store) nextInThread(ctx context.Context, tenantID, contactID int64, in InboundMessage) (convID, seq int64, status Status, created bool, err error) {
	err = s.db.QueryRow(ctx, `
		UPDATE conversations SET last_seq = last_seq + 1, last_message_at = now(), updated_at = now()
		WHERE tenant_id = $1 AND contact_id = $2 AND channel = $3 AND thread_key = $4 AND status <> 'resolved'
		RETURNING id, last_seq, status`, tenantID, contactID, in.Channel, in.ThreadKey).Scan(&convID, &seq, &status)
	if err == nil {
		return convID, seq, status, false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, "", false, fmt.Errorf("ingest: %w", err)
	}
	var team *int64
	if in.TeamID != 0 {
		team = &in.TeamID
	}
	if team != nil {
		if _, err := s.Team(ctx, tenantID, *team); err != nil {
			return 0, 0, "", false, Invalid("team_id", "no such team")
		}
	}
	err = s.db.QueryRow(ctx, `
		WITH t AS (
			SELECT coalesce(nullif($6, ''), CASE WHEN assistant_enabled THEN 'assistant' ELSE 'queued' END) AS status
			FROM tenants WHERE id = $1
		)
		INSERT INTO conversations (tenant_id, contact_id, channel, thread_key, subject, status, team_id, last_seq, queued_at)
		SELECT $1, $2, $3, $4, $5, t.status,
		       coalesce($7, (SELECT min(id) FROM teams WHERE tenant_id = $1)), 1,
		       CASE WHEN t.status = 'queued' THEN now() END
		FROM t
		RETURNING id, status`, tenantID, contactID, in.Channel, in.ThreadKey, in.Subject, string(in.Status), team).Scan(&convID, &status)
	if err != nil {
		return 0, 0, "", false, fmt.Errorf("ingest: opening a conversation: %w", err)
	}
	return convID, 1, status, true, nil
}

const messageColumns = `id, conversation_id, seq, channel, direction, author_kind, author_staff_id, body_text, body_html,
	attachments, private, coalesce(external_id, ''), delivery_status, delivery_error, automated, created_at`

func scanMessage(row pgx.Row) (Message, error) { return scanMessageWith(row) }

func (s *Store) messageByExternalID(ctx context.Context, tenantID int64, ch Channel, externalID string) (Message, error) {
	m, err := scanMessage(s.db.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE tenant_id = $1 AND channel = $2 AND external_id = $3`, tenantID, ch, externalID))
	if err != nil {
		return Message{}, notFound(err, "message", externalID)
	}
	return m, nil
}

// Messages lists a conversation's messages with a sequence number above afterSeq.
// Private notes are included only when withPrivate is set (staff views).
func (s *Store) Messages(ctx context.Context, tenantID, conversationID, afterSeq int64, withPrivate bool) ([]Message, error) {
	rows, err := s.db.Query(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE tenant_id = $1 AND conversation_id = $2 AND seq > $3 AND (NOT private OR $4)
		ORDER BY seq`, tenantID, conversationID, afterSeq, withPrivate)
	if err != nil {
		return nil, fmt.Errorf("messages(%d): %w", conversationID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Message, error) { return scanMessage(r) })
}

const conversationColumns = `c.id, c.contact_id, k.display_name, c.channel, c.thread_key, c.subject, c.status, c.team_id,
	c.assignee_id, c.priority, c.tags, c.last_seq, c.created_at, c.updated_at, c.last_message_at, c.queued_at, c.resolved_at`

const conversationFrom = ` FROM conversations c JOIN contacts k ON k.tenant_id = c.tenant_id AND k.id = c.contact_id `

func scanConversation(row pgx.Row) (Conversation, error) {
	var c Conversation
	err := row.Scan(&c.ID, &c.ContactID, &c.ContactName, &c.Channel, &c.ThreadKey, &c.Subject, &c.Status, &c.TeamID,
		&c.AssigneeID, &c.Priority, &c.Tags, &c.LastSeq, &c.CreatedAt, &c.UpdatedAt, &c.LastMessageAt, &c.QueuedAt, &c.ResolvedAt)
	return c, err
}

// Conversation returns one conversation with all its messages, private notes included.
func (s *Store) Conversation(ctx context.Context, tenantID, id int64) (Conversation, error) {
	c, err := scanConversation(s.db.QueryRow(ctx, `SELECT `+conversationColumns+conversationFrom+
		`WHERE c.tenant_id = $1 AND c.id = $2`, tenantID, id))
	if err != nil {
		return Conversation{}, notFound(err, "conversation", id)
	}
	c.Messages, err = s.Messages(ctx, tenantID, id, 0, true)
	return c, err
}

// ConversationQuery filters the inbox.
type ConversationQuery struct {
	Status     Status
	Channel    Channel
	TeamID     int64
	AssigneeID int64
	Unassigned bool
	Tag        string
	ContactID  int64
	BeforeID   int64 // paging: conversations with a smaller id
	Limit      int
}

// Conversations lists conversations, newest first.
func (s *Store) Conversations(ctx context.Context, tenantID int64, q ConversationQuery) ([]Conversation, error) {
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	if q.Status != "" && !validStatus(q.Status) {
		return nil, Invalid("status", "one of assistant, queued, assigned, resolved")
	}
	if q.Channel != "" && !validChannel(q.Channel) {
		return nil, Invalid("channel", "unknown channel")
	}
	where := []string{"c.tenant_id = $1"}
	args := []any{tenantID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if q.Status != "" {
		add("c.status = ?", q.Status)
	}
	if q.Channel != "" {
		add("c.channel = ?", q.Channel)
	}
	if q.TeamID != 0 {
		add("c.team_id = ?", q.TeamID)
	}
	if q.AssigneeID != 0 {
		add("c.assignee_id = ?", q.AssigneeID)
	}
	if q.Unassigned {
		where = append(where, "c.assignee_id IS NULL")
	}
	if q.Tag != "" {
		add("? = ANY(c.tags)", q.Tag)
	}
	if q.ContactID != 0 {
		add("c.contact_id = ?", q.ContactID)
	}
	if q.BeforeID != 0 {
		add("c.id < ?", q.BeforeID)
	}
	args = append(args, q.Limit)
	rows, err := s.db.Query(ctx, `SELECT `+conversationColumns+conversationFrom+`WHERE `+strings.Join(where, " AND ")+
		` ORDER BY c.id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("conversations: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Conversation, error) { return scanConversation(r) })
}

// lockConversation locks a conversation row for a change.
func (s *Store) lockConversation(ctx context.Context, tenantID, id int64) (Conversation, error) {
	c, err := scanConversation(s.db.QueryRow(ctx, `SELECT `+conversationColumns+conversationFrom+
		`WHERE c.tenant_id = $1 AND c.id = $2 FOR UPDATE OF c`, tenantID, id))
	if err != nil {
		return Conversation{}, notFound(err, "conversation", id)
	}
	return c, nil
}

// appendMessage adds a message to a locked conversation with the next sequence number.
func (s *Store) appendMessage(ctx context.Context, tenantID int64, c *Conversation, m Message) (Message, error) {
	if m.Attachments == nil {
		m.Attachments = []Attachment{}
	}
	c.LastSeq++
	m.ConversationID, m.Seq, m.Channel = c.ID, c.LastSeq, c.Channel
	m.Private = m.Direction == Internal
	var ext *string
	if m.ExternalID != "" {
		ext = &m.ExternalID
	}
	err := s.db.QueryRow(ctx, `
		WITH bump AS (
			UPDATE conversations SET last_seq = $3, updated_at = now(),
			    last_message_at = CASE WHEN $6 = 'internal' THEN last_message_at ELSE now() END
			WHERE tenant_id = $1 AND id = $2
		)
		INSERT INTO messages (tenant_id, conversation_id, seq, channel, direction, author_kind, author_staff_id,
		    body_text, body_html, attachments, private, external_id, delivery_status)
		VALUES ($1, $2, $3, $4, $6, $5, $7, $8, $9, $10, $11, $12, $13)
		RETURNING id, created_at`,
		tenantID, c.ID, m.Seq, m.Channel, m.AuthorKind, m.Direction, m.AuthorStaffID, m.Text, m.HTML,
		m.Attachments, m.Private, ext, m.DeliveryStatus).Scan(&m.ID, &m.CreatedAt)
	if err != nil {
		return Message{}, fmt.Errorf("appendMessage(%d): %w", c.ID, err)
	}
	err = s.notify(ctx, Event{Kind: EventMessage, TenantID: tenantID, ConversationID: c.ID, ContactID: c.ContactID,
		Seq: m.Seq, Private: m.Private})
	return m, err
}

func (s *Store) activity(ctx context.Context, tenantID int64, c *Conversation, text string) error {
	_, err := s.appendMessage(ctx, tenantID, c, Message{Direction: Internal, AuthorKind: AuthorSystem, Text: text,
		DeliveryStatus: DeliveryDelivered})
	return err
}

// Reply is what an operator writes in a conversation.
type Reply struct {
	Text        string
	Private     bool // a note for staff only
	Attachments []Attachment
	ClientID    string // optional idempotency key: the same ClientID is stored once
}

// PostReply stores an operator's reply (to be sent on the conversation's channel)
// or a private note. A reply to an unassigned conversation assigns it to the
// operator who writes, and reopens it when it was resolved.
func (s *Store) PostReply(ctx context.Context, a Actor, conversationID int64, r Reply) (Message, error) {
	if err := a.Require(RoleOperator, RoleSupervisor); err != nil {
		return Message{}, err
	}
	if err := validateBody(r.Text, "", r.Attachments); err != nil {
		return Message{}, err
	}
	if len(r.ClientID) > 100 {
		return Message{}, Invalid("client_id", "up to 100 characters")
	}
	var msg Message
	err := s.InTx(ctx, func(tx *Store) error {
		c, err := tx.lockConversation(ctx, a.TenantID, conversationID)
		if err != nil {
			return err
		}
		// The client id is scoped to its conversation and author, so that two
		// conversations or two authors cannot collide.
		key := "op:" + strconv.FormatInt(c.ID, 10) + ":" + string(a.Kind) + ":" + strconv.FormatInt(a.ID, 10) + ":" + r.ClientID
		if r.ClientID != "" {
			m, err := tx.messageByExternalID(ctx, a.TenantID, c.Channel, key)
			if err == nil {
				msg = m
				return nil
			}
			if !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		m := Message{Direction: Outbound, AuthorKind: AuthorOperator, AuthorStaffID: a.StaffID(), Text: r.Text,
			Attachments: r.Attachments, DeliveryStatus: DeliveryPending}
		if r.ClientID != "" {
			m.ExternalID = key
		}
		if r.Private {
			m.Direction, m.DeliveryStatus = Internal, DeliveryDelivered
		}
		if msg, err = tx.appendMessage(ctx, a.TenantID, &c, m); err != nil {
			return err
		}
		if !r.Private && a.Kind == ActorStaff && (c.AssigneeID == nil || c.Status == StatusResolved) {
			_, err := tx.db.Exec(ctx, `UPDATE conversations SET status = 'assigned', assignee_id = $3, resolved_at = NULL
				WHERE tenant_id = $1 AND id = $2`, a.TenantID, c.ID, a.ID)
			if isUniqueViolation(err, "conversations_open_thread") {
				return fmt.Errorf("%w: the citizen has another open conversation on this thread", ErrConflict)
			}
			if err != nil {
				return fmt.Errorf("postReply: %w", err)
			}
			return tx.conversationChanged(ctx, a.TenantID, c, StatusAssigned)
		}
		if !r.Private && c.Status == StatusAssistant {
			// A person wrote (through the API): the assistant falls silent.
			if _, err := tx.db.Exec(ctx, `UPDATE conversations SET status = 'queued', queued_at = now(), assistant_lease = NULL
				WHERE tenant_id = $1 AND id = $2`, a.TenantID, c.ID); err != nil {
				return fmt.Errorf("postReply: %w", err)
			}
			return tx.conversationChanged(ctx, a.TenantID, c, StatusQueued)
		}
		return nil
	})
	return msg, err
}

// Assignment moves a conversation to an operator, a team's queue, or both.
type Assignment struct {
	AssigneeID *int64 // nil: nobody (back to the team's queue)
	TeamID     *int64 // nil: keep the team
}

// Assign gives a conversation to an operator or puts it back in a team's queue.
// Operators may take conversations for themselves; supervisors assign to anyone.
// An operator already at their maximum of concurrent conversations is refused.
func (s *Store) Assign(ctx context.Context, a Actor, conversationID int64, as Assignment) (Conversation, error) {
	if err := a.Require(RoleOperator, RoleSupervisor); err != nil {
		return Conversation{}, err
	}
	if as.AssigneeID != nil && (a.Kind != ActorStaff || *as.AssigneeID != a.ID) && !a.Has(RoleSupervisor) {
		return Conversation{}, fmt.Errorf("%w: only supervisors assign conversations to others", ErrForbidden)
	}
	var out Conversation
	err := s.InTx(ctx, func(tx *Store) error {
		c, err := tx.lockConversation(ctx, a.TenantID, conversationID)
		if err != nil {
			return err
		}
		if c.Status == StatusResolved {
			return fmt.Errorf("%w: the conversation is resolved; reopen it first", ErrConflict)
		}
		teamID := c.TeamID
		if as.TeamID != nil {
			if _, err := tx.Team(ctx, a.TenantID, *as.TeamID); err != nil {
				return Invalid("team_id", "no such team")
			}
			teamID = as.TeamID
		}
		status, note := StatusQueued, "In coda"
		if as.AssigneeID != nil {
			st, err := tx.StaffMember(ctx, a.TenantID, *as.AssigneeID)
			if err != nil || !st.Active {
				return Invalid("assignee_id", "no such active staff member")
			}
			var load int
			if err := tx.db.QueryRow(ctx, `SELECT count(*) FROM conversations
				WHERE tenant_id = $1 AND assignee_id = $2 AND status = 'assigned' AND id <> $3`,
				a.TenantID, st.ID, c.ID).Scan(&load); err != nil {
				return fmt.Errorf("assign: %w", err)
			}
			if load >= st.MaxConcurrent {
				return fmt.Errorf("%w: %s already has %d conversations, the maximum", ErrConflict, st.Name, load)
			}
			status, note = StatusAssigned, "Assegnata a "+st.Name
		}
		if _, err := tx.db.Exec(ctx, `
			UPDATE conversations SET status = $3, assignee_id = $4, team_id = $5, updated_at = now(),
			    queued_at = CASE WHEN $3 = 'queued' AND status <> 'queued' THEN now() ELSE queued_at END
			WHERE tenant_id = $1 AND id = $2`, a.TenantID, c.ID, status, as.AssigneeID, teamID); err != nil {
			return fmt.Errorf("assign: %w", err)
		}
		if err := tx.activity(ctx, a.TenantID, &c, note+" da "+a.Name); err != nil {
			return err
		}
		if err := tx.conversationChanged(ctx, a.TenantID, c, status); err != nil {
			return err
		}
		out, err = tx.Conversation(ctx, a.TenantID, c.ID)
		return err
	})
	return out, err
}

// SetStatus resolves a conversation, or reopens a resolved one (to its operator,
// or to its team's queue).
func (s *Store) SetStatus(ctx context.Context, a Actor, conversationID int64, resolve bool) (Conversation, error) {
	if err := a.Require(RoleOperator, RoleSupervisor); err != nil {
		return Conversation{}, err
	}
	var out Conversation
	err := s.InTx(ctx, func(tx *Store) error {
		c, err := tx.lockConversation(ctx, a.TenantID, conversationID)
		if err != nil {
			return err
		}
		if resolve == (c.Status == StatusResolved) {
			out, err = tx.Conversation(ctx, a.TenantID, c.ID) // already so: nothing to do
			return err
		}
		note := "Risolta da " + a.Name
		if resolve {
			_, err = tx.db.Exec(ctx, `UPDATE conversations SET status = 'resolved', resolved_at = now(), updated_at = now()
				WHERE tenant_id = $1 AND id = $2`, a.TenantID, c.ID)
		} else {
			note = "Riaperta da " + a.Name
			_, err = tx.db.Exec(ctx, `UPDATE conversations SET resolved_at = NULL, updated_at = now(),
				status = CASE WHEN assignee_id IS NULL THEN 'queued' ELSE 'assigned' END,
				queued_at = CASE WHEN assignee_id IS NULL THEN now() ELSE queued_at END
				WHERE tenant_id = $1 AND id = $2`, a.TenantID, c.ID)
		}
		if isUniqueViolation(err, "conversations_open_thread") {
			return fmt.Errorf("%w: the citizen has another open conversation on this thread", ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("setStatus: %w", err)
		}
		if err := tx.activity(ctx, a.TenantID, &c, note); err != nil {
			return err
		}
		if err := tx.conversationChanged(ctx, a.TenantID, c, ""); err != nil {
			return err
		}
		out, err = tx.Conversation(ctx, a.TenantID, c.ID)
		return err
	})
	return out, err
}

// conversationChanged tells every instance that a conversation's status,
// assignee, team or tags changed.
func (s *Store) conversationChanged(ctx context.Context, tenantID int64, c Conversation, status Status) error {
	return s.notify(ctx, Event{Kind: EventConversation, TenantID: tenantID, ConversationID: c.ID,
		ContactID: c.ContactID, Status: string(status)})
}
