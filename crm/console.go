package crm

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// This file holds what the operator console reads and changes beyond the
// basics of conversations: the inbox with its counts, the history of a citizen
// across channels, tags and priority, and the supervisor's queue figures.

// ConversationHead returns one conversation without its messages.
func (s *Store) ConversationHead(ctx context.Context, tenantID, id int64) (Conversation, error) {
	c, err := scanConversation(s.db.QueryRow(ctx, `SELECT `+conversationColumns+conversationFrom+
		`WHERE c.tenant_id = $1 AND c.id = $2`, tenantID, id))
	if err != nil {
		return Conversation{}, notFound(err, "conversation", id)
	}
	return c, nil
}

// InboxQuery selects the conversations of one tab of the inbox. The zero value
// lists the open (not resolved) conversations of the tenant.
type InboxQuery struct {
	AssigneeID int64   // only the conversations of this staff member
	Unassigned bool    // only the conversations nobody has
	TeamID     int64   // only this team's conversations
	Status     Status  // only this status; empty: every status but resolved
	Channel    Channel // only this channel
	Tag        string  // only conversations with this tag
	Search     string  // part of the contact's name, any case
	Limit      int     // at most this many; 0 means 50, and at most 200
}

// InboxItem is a row of the inbox: a conversation (without its messages) with
// what an operator scans it for.
type InboxItem struct {
	Conversation
	TeamName     string `json:"team_name"`
	AssigneeName string `json:"assignee_name"`
	// Preview is the start of the newest message the citizen can see (or
	// wrote), and PreviewAuthor who wrote it; empty when there is none.
	Preview       string     `json:"preview"`
	PreviewAuthor AuthorKind `json:"preview_author,omitempty"`
	// WaitingSince is when the citizen's oldest unanswered message arrived: the
	// first inbound message after the newest outbound one. Nil when nothing
	// waits for an answer, or the conversation is resolved.
	WaitingSince *time.Time `json:"waiting_since,omitempty"`
}

// previewLen is how many characters of a message the inbox shows.
const previewLen = 140

// Inbox lists conversations for the console. Open conversations come by
// priority, then the longest waiting first; resolved ones newest first.
func (s *Store) Inbox(ctx context.Context, tenantID int64, q InboxQuery) ([]InboxItem, error) {
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	if q.Status != "" && !validStatus(q.Status) {
		return nil, Invalid("status", "one of assistant, queued, assigned, resolved")
	}
	if q.Channel != "" && !validChannel(q.Channel) {
		return nil, Invalid("channel", "unknown channel")
	}
	q.Search = strings.TrimSpace(q.Search)
	if utf8.RuneCountInString(q.Search) > 200 {
		return nil, Invalid("q", "up to 200 characters")
	}
	where := []string{"c.tenant_id = $1"}
	args := []any{tenantID}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if q.Status != "" {
		where = append(where, "c.status = "+arg(q.Status))
	} else {
		where = append(where, "c.status <> 'resolved'")
	}
	if q.AssigneeID != 0 {
		where = append(where, "c.assignee_id = "+arg(q.AssigneeID))
	}
	if q.Unassigned {
		where = append(where, "c.assignee_id IS NULL")
	}
	if q.TeamID != 0 {
		where = append(where, "c.team_id = "+arg(q.TeamID))
	}
	if q.Channel != "" {
		where = append(where, "c.channel = "+arg(q.Channel))
	}
	if q.Tag != "" {
		where = append(where, arg(q.Tag)+" = ANY(c.tags)")
	}
	if q.Search != "" {
		where = append(where, "lower(k.display_name) LIKE "+arg("%"+escapeLike(strings.ToLower(q.Search))+"%"))
	}
	order := "c.priority DESC, waiting_since ASC NULLS LAST, c.last_message_at DESC, c.id DESC"
	if q.Status == StatusResolved {
		order = "c.last_message_at DESC, c.id DESC"
	}
	rows, err := s.db.Query(ctx, `
		SELECT `+conversationColumns+`, coalesce(t.name, ''), coalesce(st.name, ''),
		       coalesce(last.body_text, ''), coalesce(last.attachments, '[]'), last.author_kind, waiting_since
		`+conversationFrom+`
		LEFT JOIN teams t ON t.tenant_id = c.tenant_id AND t.id = c.team_id
		LEFT JOIN staff st ON st.tenant_id = c.tenant_id AND st.id = c.assignee_id
		LEFT JOIN LATERAL (
			SELECT m.body_text, m.attachments, m.author_kind FROM messages m
			WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.id AND NOT m.private
			ORDER BY m.seq DESC LIMIT 1
		) last ON true
		LEFT JOIN LATERAL (
			SELECT min(m.created_at) AS waiting_since FROM messages m
			WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.id AND m.direction = 'in'
			  AND c.status <> 'resolved'
			  AND m.seq > coalesce((SELECT max(o.seq) FROM messages o
			                        WHERE o.tenant_id = c.tenant_id AND o.conversation_id = c.id AND o.direction = 'out'), 0)
		) w ON true
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY `+order+` LIMIT `+arg(q.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboxItem, error) {
		var it InboxItem
		var text string
		var atts []Attachment
		var author *AuthorKind
		c := &it.Conversation
		err := r.Scan(&c.ID, &c.ContactID, &c.ContactName, &c.Channel, &c.ThreadKey, &c.Subject, &c.Status, &c.TeamID,
			&c.AssigneeID, &c.Priority, &c.Tags, &c.LastSeq, &c.CreatedAt, &c.UpdatedAt, &c.LastMessageAt, &c.QueuedAt,
			&c.ResolvedAt, &it.TeamName, &it.AssigneeName, &text, &atts, &author, &it.WaitingSince)
		if err != nil {
			return it, err
		}
		it.Preview = preview(text, atts)
		if author != nil {
			it.PreviewAuthor = *author
		}
		return it, nil
	})
}

// preview shortens a message to one line for the inbox; a message with no text
// is shown by the name of its first attachment.
func preview(text string, atts []Attachment) string {
	text = strings.Join(strings.FieldsFunc(text, unicode.IsSpace), " ")
	if text == "" && len(atts) > 0 {
		return "📎 " + atts[0].Name
	}
	if utf8.RuneCountInString(text) <= previewLen {
		return text
	}
	r := []rune(text)[:previewLen-1]
	return strings.TrimRightFunc(string(r), unicode.IsSpace) + "…"
}

// InboxCounts are the numbers on the inbox's tabs: open conversations only.
type InboxCounts struct {
	Mine       int           `json:"mine"`       // assigned to the staff member
	Unassigned int           `json:"unassigned"` // queued, nobody has them
	Open       int           `json:"open"`       // every open conversation
	Teams      map[int64]int `json:"teams"`      // queued, by team id
}

// InboxCounts counts the open conversations of the tenant for the tabs of a
// staff member's inbox.
func (s *Store) InboxCounts(ctx context.Context, tenantID, staffID int64) (InboxCounts, error) {
	n := InboxCounts{Teams: map[int64]int{}}
	rows, err := s.db.Query(ctx, `
		SELECT team_id,
		       count(*) FILTER (WHERE assignee_id = $2 AND status = 'assigned'),
		       count(*) FILTER (WHERE assignee_id IS NULL AND status = 'queued'),
		       count(*),
		       count(*) FILTER (WHERE status = 'queued')
		FROM conversations WHERE tenant_id = $1 AND status <> 'resolved'
		GROUP BY team_id`, tenantID, staffID)
	if err != nil {
		return n, fmt.Errorf("inboxCounts(%d): %w", tenantID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var team *int64
		var mine, unassigned, open, queued int
		if err := rows.Scan(&team, &mine, &unassigned, &open, &queued); err != nil {
			return n, fmt.Errorf("inboxCounts(%d): %w", tenantID, err)
		}
		n.Mine += mine
		n.Unassigned += unassigned
		n.Open += open
		if team != nil {
			n.Teams[*team] = queued
		}
	}
	return n, rows.Err()
}

// ContactHistory returns the newest limit messages of every conversation of a
// contact, on every channel, private notes included (it is for staff), oldest
// first. A limit of 0 means 200, and at most 1000 are returned.
func (s *Store) ContactHistory(ctx context.Context, tenantID, contactID int64, limit int) ([]Message, error) {
	if limit <= 0 {
		limit = 200
	}
	limit = min(limit, 1000)
	rows, err := s.db.Query(ctx, `
		SELECT * FROM (
			SELECT m.id, m.conversation_id, m.seq, m.channel, m.direction, m.author_kind, m.author_staff_id,
			       m.body_text, m.body_html, m.attachments, m.private, coalesce(m.external_id, '') AS external_id,
			       m.delivery_status, m.delivery_error, m.automated, m.created_at
			FROM messages m
			JOIN conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
			WHERE m.tenant_id = $1 AND c.contact_id = $2
			ORDER BY m.created_at DESC, m.id DESC LIMIT $3
		) newest ORDER BY created_at, id`, tenantID, contactID, limit)
	if err != nil {
		return nil, fmt.Errorf("contactHistory(%d): %w", contactID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Message, error) { return scanMessage(r) })
}

// Limits on tags.
const (
	MaxTags   = 20
	MaxTagLen = 40
)

// NormalizeTags trims, lower-cases and de-duplicates tags, keeping their order,
// and drops empty ones.
func NormalizeTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.ToLower(strings.Join(strings.Fields(t), " "))
		if t == "" || slices.Contains(out, t) {
			continue
		}
		if !utf8.ValidString(t) || utf8.RuneCountInString(t) > MaxTagLen {
			return nil, Invalid("tags", fmt.Sprintf("a tag is up to %d characters", MaxTagLen))
		}
		out = append(out, t)
	}
	if len(out) > MaxTags {
		return nil, Invalid("tags", fmt.Sprintf("up to %d tags", MaxTags))
	}
	return out, nil
}

// SetTags replaces a conversation's tags (normalised as NormalizeTags does).
func (s *Store) SetTags(ctx context.Context, a Actor, conversationID int64, tags []string) (Conversation, error) {
	if err := a.Require(RoleOperator, RoleSupervisor); err != nil {
		return Conversation{}, err
	}
	tags, err := NormalizeTags(tags)
	if err != nil {
		return Conversation{}, err
	}
	return s.updateConversation(ctx, a, conversationID, `tags = $3`, tags)
}

// Priorities, from ConversationQuery's 0 (low) to 3 (urgent).
const (
	PriorityLow    = 0
	PriorityNormal = 1
	PriorityHigh   = 2
	PriorityUrgent = 3
)

// SetPriority changes a conversation's priority, from PriorityLow to
// PriorityUrgent; the inbox lists higher priorities first.
func (s *Store) SetPriority(ctx context.Context, a Actor, conversationID int64, priority int) (Conversation, error) {
	if err := a.Require(RoleOperator, RoleSupervisor); err != nil {
		return Conversation{}, err
	}
	if priority < PriorityLow || priority > PriorityUrgent {
		return Conversation{}, Invalid("priority", "from 0 (low) to 3 (urgent)")
	}
	return s.updateConversation(ctx, a, conversationID, `priority = $3`, priority)
}

// updateConversation sets one column of a conversation and tells every
// instance; set is the SET clause with the value as $3.
func (s *Store) updateConversation(ctx context.Context, a Actor, conversationID int64, set string, value any) (Conversation, error) {
	var out Conversation
	err := s.InTx(ctx, func(tx *Store) error {
		c, err := tx.lockConversation(ctx, a.TenantID, conversationID)
		if err != nil {
			return err
		}
		if _, err := tx.db.Exec(ctx, `UPDATE conversations SET `+set+`, updated_at = now()
			WHERE tenant_id = $1 AND id = $2`, a.TenantID, c.ID, value); err != nil {
			return fmt.Errorf("updateConversation(%d): %w", c.ID, err)
		}
		if err := tx.conversationChanged(ctx, a.TenantID, c, ""); err != nil {
			return err
		}
		out, err = tx.Conversation(ctx, a.TenantID, c.ID)
		return err
	})
	return out, err
}

// TeamQueueStats are one team's figures for the supervisor, now.
type TeamQueueStats struct {
	TeamID   int64  `json:"team_id"`
	TeamName string `json:"team_name"`
	Queued   int    `json:"queued"`   // waiting in the queue
	Assigned int    `json:"assigned"` // with an operator
	// LongestWait and AverageWait are measured over the queued conversations,
	// from when they entered the queue.
	LongestWait time.Duration `json:"longest_wait"`
	AverageWait time.Duration `json:"average_wait"`
	// ResolvedToday counts the conversations resolved since midnight in Rome.
	ResolvedToday int `json:"resolved_today"`
}

// QueueStats returns the queue figures of every team of the tenant, by team
// name.
func (s *Store) QueueStats(ctx context.Context, tenantID int64) ([]TeamQueueStats, error) {
	rows, err := s.db.Query(ctx, `
		SELECT t.id, t.name,
		       count(c.id) FILTER (WHERE c.status = 'queued'),
		       count(c.id) FILTER (WHERE c.status = 'assigned'),
		       coalesce(extract(epoch FROM max(now() - coalesce(c.queued_at, c.created_at)) FILTER (WHERE c.status = 'queued')), 0),
		       coalesce(extract(epoch FROM avg(now() - coalesce(c.queued_at, c.created_at)) FILTER (WHERE c.status = 'queued')), 0),
		       count(c.id) FILTER (WHERE c.status = 'resolved')
		FROM teams t
		LEFT JOIN conversations c ON c.tenant_id = t.tenant_id AND c.team_id = t.id
		     AND (c.status IN ('queued', 'assigned')
		          OR (c.status = 'resolved' AND c.resolved_at >= date_trunc('day', now() AT TIME ZONE 'Europe/Rome') AT TIME ZONE 'Europe/Rome'))
		WHERE t.tenant_id = $1
		GROUP BY t.id, t.name ORDER BY t.name, t.id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("queueStats(%d): %w", tenantID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TeamQueueStats, error) {
		var q TeamQueueStats
		var longest, average float64
		err := r.Scan(&q.TeamID, &q.TeamName, &q.Queued, &q.Assigned, &longest, &average, &q.ResolvedToday)
		q.LongestWait = time.Duration(longest * float64(time.Second)).Round(time.Second)
		q.AverageWait = time.Duration(average * float64(time.Second)).Round(time.Second)
		return q, err
	})
}
