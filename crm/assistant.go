package crm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// What the virtual assistant needs from the CRM: its settings per ente, the
// conversations waiting for it, a way to answer that never races an operator,
// the handoff to a team's queue, and a record of every answer it gave.
//
// The assistant sees conversations and messages, never a channel: the same
// code answers the web chat, e-mail and Telegram.

// ActorAssistant is the kind of the virtual assistant as an actor, in the
// audit log of the fascicolo reads it makes for a citizen.
const ActorAssistant ActorKind = "assistant"

// AssistantSettings are an ente's choices about its assistant.
type AssistantSettings struct {
	// Enabled: new conversations start with the assistant, not in a queue.
	Enabled bool `json:"enabled"`
	// OfficeHours, as told to citizens when nobody is on duty.
	OfficeHours string `json:"office_hours"`
	// Alternatives: other ways to reach the ente (phone, e-mail, sportello).
	Alternatives string `json:"contact_alternatives"`
}

// AssistantSettings returns the ente's assistant settings.
func (s *Store) AssistantSettings(ctx context.Context, tenantID int64) (AssistantSettings, error) {
	var st AssistantSettings
	err := s.db.QueryRow(ctx, `SELECT assistant_enabled, office_hours, contact_alternatives FROM tenants WHERE id = $1`,
		tenantID).Scan(&st.Enabled, &st.OfficeHours, &st.Alternatives)
	if err != nil {
		return AssistantSettings{}, notFound(err, "tenant", tenantID)
	}
	return st, nil
}

// SetAssistantSettings changes the ente's assistant settings (admins only).
func (s *Store) SetAssistantSettings(ctx context.Context, a Actor, st AssistantSettings) error {
	if err := a.Require(RoleAdmin); err != nil {
		return err
	}
	st.OfficeHours, st.Alternatives = strings.TrimSpace(st.OfficeHours), strings.TrimSpace(st.Alternatives)
	if !utf8.ValidString(st.OfficeHours) || utf8.RuneCountInString(st.OfficeHours) > 500 {
		return Invalid("office_hours", "up to 500 characters")
	}
	if !utf8.ValidString(st.Alternatives) || utf8.RuneCountInString(st.Alternatives) > 1000 {
		return Invalid("contact_alternatives", "up to 1000 characters")
	}
	_, err := s.db.Exec(ctx, `UPDATE tenants SET assistant_enabled = $2, office_hours = $3, contact_alternatives = $4
		WHERE id = $1`, a.TenantID, st.Enabled, st.OfficeHours, st.Alternatives)
	if err != nil {
		return fmt.Errorf("setAssistantSettings(%d): %w", a.TenantID, err)
	}
	return nil
}

// TeamTopics is a team with the words of the subjects it handles.
type TeamTopics struct {
	TeamID int64    `json:"team_id"`
	Name   string   `json:"name"`
	Topics []string `json:"topics"`
}

// TeamsTopics lists the ente's teams with their topics, in the order the
// queues were made (the first is where conversations go by default).
func (s *Store) TeamsTopics(ctx context.Context, tenantID int64) ([]TeamTopics, error) {
	rows, err := s.db.Query(ctx, `SELECT id, name, topics FROM teams WHERE tenant_id = $1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("teamsTopics(%d): %w", tenantID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TeamTopics, error) {
		var t TeamTopics
		err := r.Scan(&t.TeamID, &t.Name, &t.Topics)
		return t, err
	})
}

// SetTeamTopics sets the words of the subjects a team handles (admins only):
// lower-case, trimmed, without duplicates, up to 50 of up to 60 characters.
func (s *Store) SetTeamTopics(ctx context.Context, a Actor, teamID int64, topics []string) error {
	if err := a.Require(RoleAdmin); err != nil {
		return err
	}
	clean := make([]string, 0, len(topics))
	for _, t := range topics {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" {
			continue
		}
		if !utf8.ValidString(t) || utf8.RuneCountInString(t) > 60 {
			return Invalid("topics", "each topic is up to 60 characters")
		}
		if !slices.Contains(clean, t) {
			clean = append(clean, t)
		}
	}
	if len(clean) > 50 {
		return Invalid("topics", "up to 50 topics")
	}
	tag, err := s.db.Exec(ctx, `UPDATE teams SET topics = $3 WHERE tenant_id = $1 AND id = $2`, a.TenantID, teamID, clean)
	if err != nil {
		return fmt.Errorf("setTeamTopics(%d): %w", teamID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("team %d: %w", teamID, ErrNotFound)
	}
	return nil
}

// AssistantTurn is a conversation with citizen messages the assistant has
// not answered yet, claimed by one worker for a while (its lease).
type AssistantTurn struct {
	TenantID       int64
	ConversationID int64
	ContactID      int64
	Channel        Channel
	TeamID         int64 // the conversation's team; 0 when it has none
	// FromSeq: the assistant had read the conversation up to here.
	FromSeq int64
	// UpToSeq: the conversation's last message when the turn was claimed.
	UpToSeq int64
	// Failures: questions in a row the assistant could not answer before.
	Failures int
	// History: the conversation's messages up to UpToSeq that the citizen
	// sees, oldest first; the new ones are those with Seq > FromSeq.
	History []Message
	// Verified: the sender is a known person whose fascicolo the assistant
	// may tell them about: the contact has a codice fiscale proven by SPID,
	// CIE or the ente, and the channel authenticates its sender (a web-chat
	// session, Telegram; never e-mail, whose sender anyone can forge).
	Verified bool
}

// Questions returns the citizen's messages the assistant has not read.
func (t AssistantTurn) Questions() []Message {
	var out []Message
	for _, m := range t.History {
		if m.Seq > t.FromSeq && m.AuthorKind == AuthorCitizen {
			out = append(out, m)
		}
	}
	return out
}

// channelAuthenticatesSender tells whether a message on the channel surely
// comes from the identity it claims.
func channelAuthenticatesSender(ch Channel) bool {
	return ch != ChannelEmail
}

// AssistantLease is how long a worker may take over a turn before another
// one may claim it again (a worker that died, a model that hung).
const AssistantLease = 2 * time.Minute

// ClaimAssistantTurns claims up to limit conversations that are with the
// assistant and have messages it has not read, for lease: of the entes
// listed, or of any ente when none is. Two workers (on one instance or two)
// never claim the same conversation while its lease runs.
func (s *Store) ClaimAssistantTurns(ctx context.Context, limit int, lease time.Duration, tenantIDs ...int64) ([]AssistantTurn, error) {
	if tenantIDs == nil {
		tenantIDs = []int64{} // an empty array, not NULL: every ente
	}
	rows, err := s.db.Query(ctx, `
		UPDATE conversations c SET assistant_lease = now() + make_interval(secs => $2)
		FROM (SELECT tenant_id, id FROM conversations
		      WHERE status = 'assistant' AND last_seq > assistant_seq
		        AND (assistant_lease IS NULL OR assistant_lease < now())
		        AND (cardinality($3::bigint[]) = 0 OR tenant_id = ANY ($3))
		      ORDER BY assistant_lease NULLS FIRST
		      LIMIT $1 FOR UPDATE SKIP LOCKED) w
		WHERE c.tenant_id = w.tenant_id AND c.id = w.id
		RETURNING c.tenant_id, c.id, c.contact_id, c.channel, coalesce(c.team_id, 0), c.assistant_seq, c.last_seq, c.assistant_failures,
		    EXISTS (SELECT 1 FROM contacts k JOIN contact_identities i ON i.tenant_id = k.tenant_id AND i.contact_id = k.id
		            WHERE k.tenant_id = c.tenant_id AND k.id = c.contact_id AND k.merged_into IS NULL
		              AND i.kind = 'codice_fiscale' AND i.verified)`, limit, lease.Seconds(), tenantIDs)
	if err != nil {
		return nil, fmt.Errorf("claimAssistantTurns: %w", err)
	}
	turns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AssistantTurn, error) {
		var t AssistantTurn
		err := r.Scan(&t.TenantID, &t.ConversationID, &t.ContactID, &t.Channel, &t.TeamID, &t.FromSeq, &t.UpToSeq, &t.Failures, &t.Verified)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("claimAssistantTurns: %w", err)
	}
	for i := range turns {
		t := &turns[i]
		t.Verified = t.Verified && channelAuthenticatesSender(t.Channel)
		msgs, err := s.Messages(ctx, t.TenantID, t.ConversationID, 0, false)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Seq <= t.UpToSeq {
				t.History = append(t.History, m)
			}
		}
	}
	return turns, nil
}

// ReleaseAssistantTurn gives a claimed turn back without answering (the
// worker failed), so that it may be claimed again at once.
func (s *Store) ReleaseAssistantTurn(ctx context.Context, t AssistantTurn) error {
	_, err := s.db.Exec(ctx, `UPDATE conversations SET assistant_lease = NULL
		WHERE tenant_id = $1 AND id = $2 AND assistant_seq = $3`, t.TenantID, t.ConversationID, t.FromSeq)
	if err != nil {
		return fmt.Errorf("releaseAssistantTurn(%d): %w", t.ConversationID, err)
	}
	return nil
}

// AnswerKinds lists the kinds of assistant answer.
var AnswerKinds = []string{AnswerKnowledge, AnswerUnknown, AnswerPersonal, AnswerLogin, AnswerHandoff, AnswerGreeting, AnswerThanks}

// The kinds of assistant answer.
const (
	AnswerKnowledge = "answer"   // from the knowledge base, with sources
	AnswerUnknown   = "unknown"  // it does not know, and offers an operator
	AnswerPersonal  = "personal" // from the citizen's fascicolo
	AnswerLogin     = "login"    // a personal question: the citizen is asked to log in
	AnswerHandoff   = "handoff"  // the conversation goes to an operator
	AnswerGreeting  = "greeting"
	AnswerThanks    = "thanks"
)

// The reasons for a handoff.
const (
	HandoffRequested = "requested" // the citizen asked for a person
	HandoffFailures  = "failures"  // the assistant failed to answer repeatedly
	HandoffDistress  = "distress"  // the citizen is upset or in difficulty
	HandoffPersonal  = "personal"  // a question about their fascicolo it cannot answer
)

// RetrievedPassage is a passage of the knowledge base retrieved for an answer.
type RetrievedPassage struct {
	ChunkID  int64   `json:"chunk_id"`
	TenantID int64   `json:"tenant_id"`
	Score    float64 `json:"score"`
	Source   string  `json:"source"`
	Title    string  `json:"title"`
	URL      string  `json:"url,omitempty"`
	Cited    bool    `json:"cited"`
}

// Handoff moves a conversation from the assistant to a team's queue.
type Handoff struct {
	Reason  string
	TeamID  int64  // 0: the conversation's team
	Summary string // for the operator: what the citizen asked, what the assistant answered
}

// AssistantReply is what the assistant says in answer to a turn.
type AssistantReply struct {
	Text       string // to the citizen; may be empty when only handing off
	Kind       string
	Question   string // the question answered, as the citizen wrote it
	Language   string // "it" or "en"
	Confidence float64
	Model      string // the language model that wrote it; empty for an extractive answer
	Retrieved  []RetrievedPassage
	// Failed: the assistant could not answer; repeated failures hand off.
	Failed  bool
	Handoff *Handoff
}

// ErrTurnTaken is returned by CompleteAssistantTurn when the conversation is
// no longer the assistant's to answer: an operator wrote or took it, it was
// handed off, or another worker answered it. Nothing was written.
var ErrTurnTaken = errors.New("the conversation is no longer with the assistant")

// CompleteAssistantTurn posts the assistant's reply to a claimed turn and
// records why it answered so, in one transaction; with a handoff, the
// conversation moves to the team's queue with the summary as a private note.
// When the conversation was taken from the assistant meanwhile (an operator
// wrote, took it or another worker answered it), nothing is written and
// ErrTurnTaken is returned: the assistant never speaks after an operator.
func (s *Store) CompleteAssistantTurn(ctx context.Context, t AssistantTurn, r AssistantReply) (Message, error) {
	if r.Language != "en" {
		r.Language = "it"
	}
	if r.Retrieved == nil {
		r.Retrieved = []RetrievedPassage{}
	}
	if len(r.Question) > 100000 {
		r.Question = r.Question[:100000]
	}
	var msg Message
	err := s.InTx(ctx, func(tx *Store) error {
		c, err := tx.lockConversation(ctx, t.TenantID, t.ConversationID)
		if err != nil {
			return err
		}
		var seq int64
		var operatorWrote bool
		if err := tx.db.QueryRow(ctx, `
			SELECT assistant_seq, EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = c.tenant_id
			    AND m.conversation_id = c.id AND m.seq > $3 AND m.author_kind = 'operator')
			FROM conversations c WHERE tenant_id = $1 AND id = $2`, t.TenantID, c.ID, t.FromSeq).Scan(&seq, &operatorWrote); err != nil {
			return fmt.Errorf("completeAssistantTurn: %w", err)
		}
		if c.Status != StatusAssistant || seq != t.FromSeq || operatorWrote {
			return ErrTurnTaken
		}
		newer := c.LastSeq > t.UpToSeq // the citizen wrote again while the assistant thought
		if strings.TrimSpace(r.Text) != "" {
			msg, err = tx.appendMessage(ctx, t.TenantID, &c, Message{Direction: Outbound, AuthorKind: AuthorAssistant,
				Text: r.Text, DeliveryStatus: DeliveryPending})
			if err != nil {
				return err
			}
			if _, err := tx.db.Exec(ctx, `
				INSERT INTO assistant_answers (tenant_id, conversation_id, message_id, seq, question, language, kind,
				    confidence, model, retrieved)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
				t.TenantID, c.ID, msg.ID, msg.Seq, r.Question, r.Language, r.Kind, r.Confidence, r.Model, r.Retrieved); err != nil {
				return fmt.Errorf("completeAssistantTurn: recording the answer: %w", err)
			}
		}
		if r.Handoff != nil {
			return tx.handOff(ctx, t.TenantID, &c, *r.Handoff)
		}
		readUpTo := c.LastSeq
		if newer {
			readUpTo = t.UpToSeq
		}
		failures := 0
		if r.Failed {
			failures = t.Failures + 1
		}
		_, err = tx.db.Exec(ctx, `UPDATE conversations SET assistant_seq = $3, assistant_failures = $4, assistant_lease = NULL
			WHERE tenant_id = $1 AND id = $2`, t.TenantID, c.ID, readUpTo, min(failures, 100))
		if err != nil {
			return fmt.Errorf("completeAssistantTurn: %w", err)
		}
		return nil
	})
	return msg, err
}

// handOff moves a locked conversation that is with the assistant to a team's
// queue, leaving the summary for the operator as a private note.
func (s *Store) handOff(ctx context.Context, tenantID int64, c *Conversation, h Handoff) error {
	switch h.Reason {
	case HandoffRequested, HandoffFailures, HandoffDistress, HandoffPersonal:
	default:
		return Invalid("reason", "requested, failures, distress or personal")
	}
	var team *int64
	if h.TeamID != 0 {
		if _, err := s.Team(ctx, tenantID, h.TeamID); err != nil {
			return Invalid("team_id", "no such team")
		}
		team = &h.TeamID
	}
	summary := h.Summary
	summary = truncateRunes(summary, 3999)
	if strings.TrimSpace(summary) != "" {
		if _, err := s.appendMessage(ctx, tenantID, c, Message{Direction: Internal, AuthorKind: AuthorAssistant,
			Text: summary, DeliveryStatus: DeliveryDelivered}); err != nil {
			return err
		}
	}
	_, err := s.db.Exec(ctx, `
		UPDATE conversations SET status = 'queued', team_id = coalesce($3, team_id), queued_at = now(), updated_at = now(),
		    handoff_reason = $4, handoff_at = now(), handoff_summary = $5,
		    assistant_seq = last_seq, assistant_failures = 0, assistant_lease = NULL
		WHERE tenant_id = $1 AND id = $2`, tenantID, c.ID, team, h.Reason, summary)
	if err != nil {
		return fmt.Errorf("handOff(%d): %w", c.ID, err)
	}
	return s.conversationChanged(ctx, tenantID, *c, StatusQueued)
}

// HandBack gives a conversation back to the virtual assistant (operators and
// supervisors): it leaves the queue or the operator, and the assistant
// answers the citizen's next messages, not the ones before.
func (s *Store) HandBack(ctx context.Context, a Actor, conversationID int64) (Conversation, error) {
	if err := a.Require(RoleOperator, RoleSupervisor); err != nil {
		return Conversation{}, err
	}
	var out Conversation
	err := s.InTx(ctx, func(tx *Store) error {
		c, err := tx.lockConversation(ctx, a.TenantID, conversationID)
		if err != nil {
			return err
		}
		switch c.Status {
		case StatusAssistant:
			out, err = tx.Conversation(ctx, a.TenantID, c.ID)
			return err
		case StatusResolved:
			return fmt.Errorf("%w: a resolved conversation cannot go back to the assistant; reopen it first", ErrConflict)
		}
		var enabled bool
		if err := tx.db.QueryRow(ctx, `SELECT assistant_enabled FROM tenants WHERE id = $1`, a.TenantID).Scan(&enabled); err != nil {
			return fmt.Errorf("handBack: %w", err)
		}
		if !enabled {
			return fmt.Errorf("%w: the ente's virtual assistant is off", ErrConflict)
		}
		if err := tx.activity(ctx, a.TenantID, &c, "Restituita all'assistente virtuale da "+a.Name); err != nil {
			return err
		}
		if _, err := tx.db.Exec(ctx, `
			UPDATE conversations SET status = 'assistant', assignee_id = NULL, queued_at = NULL, updated_at = now(),
			    assistant_seq = last_seq, assistant_failures = 0, assistant_lease = NULL, handoff_reason = ''
			WHERE tenant_id = $1 AND id = $2`, a.TenantID, c.ID); err != nil {
			return fmt.Errorf("handBack(%d): %w", c.ID, err)
		}
		if err := tx.conversationChanged(ctx, a.TenantID, c, StatusAssistant); err != nil {
			return err
		}
		out, err = tx.Conversation(ctx, a.TenantID, c.ID)
		return err
	})
	return out, err
}

// HandoffInfo is what a conversation's handoff left for the operator.
type HandoffInfo struct {
	Reason  string     `json:"reason"`
	At      *time.Time `json:"at,omitempty"`
	Summary string     `json:"summary"`
}

// ConversationHandoff returns the latest handoff of a conversation; Reason is
// empty when the assistant never handed it off or has it back (At and
// Summary then tell the last handoff, if any).
func (s *Store) ConversationHandoff(ctx context.Context, tenantID, conversationID int64) (HandoffInfo, error) {
	var h HandoffInfo
	err := s.db.QueryRow(ctx, `SELECT handoff_reason, handoff_at, handoff_summary FROM conversations
		WHERE tenant_id = $1 AND id = $2`, tenantID, conversationID).Scan(&h.Reason, &h.At, &h.Summary)
	if err != nil {
		return HandoffInfo{}, notFound(err, "conversation", conversationID)
	}
	return h, nil
}

// QueueInfo tells a citizen being handed off what to expect.
type QueueInfo struct {
	Waiting int // conversations already waiting in the team's queue
	OnDuty  int // operators of the team online and available
	// AverageWait: how long the team's recent conversations waited for an
	// operator's first reply; 0 when there are too few to tell.
	AverageWait time.Duration
}

// TeamQueueInfo returns the queue figures of a team (0: the ente's first team).
func (s *Store) TeamQueueInfo(ctx context.Context, tenantID, teamID int64) (QueueInfo, error) {
	var q QueueInfo
	var avg *float64
	var samples int
	err := s.db.QueryRow(ctx, `
		WITH team AS (
			SELECT coalesce(nullif($2::bigint, 0), (SELECT min(id) FROM teams WHERE tenant_id = $1)) AS id
		), recent AS (
			SELECT (SELECT min(m.created_at) FROM messages m
			        WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.id AND m.author_kind = 'operator'
			          AND m.direction = 'out' AND m.created_at >= c.queued_at) - c.queued_at AS waited
			FROM conversations c, team
			WHERE c.tenant_id = $1 AND c.team_id = team.id AND c.queued_at > now() - interval '7 days'
			  AND c.status IN ('assigned', 'resolved')
			ORDER BY c.queued_at DESC LIMIT 200
		)
		SELECT (SELECT count(*) FROM conversations c, team WHERE c.tenant_id = $1 AND c.status = 'queued' AND c.team_id = team.id),
		       (SELECT count(DISTINCT s.id) FROM staff s
		        JOIN team_members tm ON tm.tenant_id = s.tenant_id AND tm.staff_id = s.id
		        JOIN staff_presence p ON p.tenant_id = s.tenant_id AND p.staff_id = s.id
		        , team
		        WHERE s.tenant_id = $1 AND tm.team_id = team.id AND s.active AND s.availability = 'available'
		          AND p.seen_at > now() - make_interval(secs => $3)),
		       (SELECT extract(epoch FROM avg(waited)) FROM recent WHERE waited IS NOT NULL),
		       (SELECT count(waited) FROM recent)`, tenantID, teamID, PresenceTTL.Seconds()).
		Scan(&q.Waiting, &q.OnDuty, &avg, &samples)
	if err != nil {
		return QueueInfo{}, fmt.Errorf("teamQueueInfo(%d): %w", teamID, err)
	}
	if avg != nil && samples >= 5 {
		q.AverageWait = time.Duration(*avg * float64(time.Second)).Round(time.Minute)
	}
	return q, nil
}

// FascicoloForCitizen reads a verified citizen's own fascicolo for the
// assistant, to answer their question in a conversation, and records the
// read in the audit log in the same transaction (actor: the assistant).
func (s *Store) FascicoloForCitizen(ctx context.Context, t AssistantTurn, question string) (Fascicolo, error) {
	if !t.Verified {
		return Fascicolo{}, fmt.Errorf("%w: the citizen has not proven who they are", ErrForbidden)
	}
	var f Fascicolo
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		if f.Contact, err = tx.Contact(ctx, t.TenantID, t.ContactID); err != nil {
			return err
		}
		if f.Contact.MergedInto != nil {
			return fmt.Errorf("%w: contact %d was merged", ErrNotFound, t.ContactID)
		}
		if f.Pratiche, err = tx.pratiche(ctx, t.TenantID, t.ContactID); err != nil {
			return err
		}
		if f.Avvisi, err = tx.avvisi(ctx, t.TenantID, t.ContactID); err != nil {
			return err
		}
		if f.Appointments, err = tx.appointments(ctx, t.TenantID, t.ContactID); err != nil {
			return err
		}
		return tx.Audit(ctx, Actor{TenantID: t.TenantID, Kind: ActorAssistant, Name: "assistente virtuale"},
			AuditEntry{Action: "fascicolo.read", ContactID: t.ContactID,
				Reason: "domanda del cittadino nella conversazione " + fmt.Sprint(t.ConversationID),
				Detail: map[string]any{"conversation_id": t.ConversationID, "question": truncateRunes(question, 200)}})
	})
	return f, err
}

// truncateRunes cuts s to n characters, marking the cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// AnswerFeedback records a citizen's thumbs up (true) or down on an answer of
// the assistant in their own conversation; the last one given counts.
func (s *Store) AnswerFeedback(ctx context.Context, tenantID, contactID, conversationID, seq int64, useful bool) error {
	value := -1
	if useful {
		value = 1
	}
	tag, err := s.db.Exec(ctx, `
		UPDATE assistant_answers a SET feedback = $5, feedback_at = now()
		FROM conversations c
		WHERE a.tenant_id = $1 AND a.conversation_id = $3 AND a.seq = $4
		  AND c.tenant_id = a.tenant_id AND c.id = a.conversation_id AND c.contact_id = $2`,
		tenantID, contactID, conversationID, seq, value)
	if err != nil {
		return fmt.Errorf("answerFeedback(%d, %d): %w", conversationID, seq, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("answer %d/%d: %w", conversationID, seq, ErrNotFound)
	}
	return nil
}

// AssistantAnswer is an answer of the assistant as a knowledge editor sees it.
type AssistantAnswer struct {
	ID             int64  `json:"id"`
	ConversationID int64  `json:"conversation_id"`
	Seq            int64  `json:"seq"`
	Question       string `json:"question"`
	// Question is empty for a question about the citizen's own fascicolo,
	// and Answer for an answer from it: neither is shown outside the
	// conversation.
	Answer     string             `json:"answer"`
	Language   string             `json:"language"`
	Kind       string             `json:"kind"`
	Confidence float64            `json:"confidence"`
	Model      string             `json:"model"`
	Retrieved  []RetrievedPassage `json:"retrieved"`
	Feedback   int                `json:"feedback"` // 1, -1, or 0 when none
	CreatedAt  time.Time          `json:"created_at"`
}

// AnswerQuery filters the assistant's answers.
type AnswerQuery struct {
	ConversationID int64
	Kind           string
	Feedback       int   // 1 or -1 to keep only answers with that feedback
	BeforeID       int64 // for paging backwards
	Limit          int
}

// AssistantAnswers lists the assistant's answers, newest first, for knowledge
// editors and supervisors to see why it answered what it answered.
func (s *Store) AssistantAnswers(ctx context.Context, a Actor, q AnswerQuery) ([]AssistantAnswer, error) {
	if err := a.Require(RoleKnowledgeEditor, RoleSupervisor); err != nil {
		return nil, err
	}
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	rows, err := s.db.Query(ctx, `
		SELECT a.id, a.conversation_id, a.seq, CASE WHEN a.kind IN ('personal', 'login') THEN '' ELSE a.question END,
		       CASE WHEN a.kind = 'personal' THEN '' ELSE m.body_text END,
		       a.language, a.kind, a.confidence, a.model, a.retrieved, coalesce(a.feedback, 0), a.created_at
		FROM assistant_answers a
		JOIN messages m ON m.tenant_id = a.tenant_id AND m.id = a.message_id
		WHERE a.tenant_id = $1 AND ($2::bigint = 0 OR a.conversation_id = $2) AND ($3 = '' OR a.kind = $3)
		  AND ($4::int = 0 OR a.feedback = $4) AND ($5::bigint = 0 OR a.id < $5)
		ORDER BY a.id DESC LIMIT $6`, a.TenantID, q.ConversationID, q.Kind, q.Feedback, q.BeforeID, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("assistantAnswers: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AssistantAnswer, error) {
		var x AssistantAnswer
		err := r.Scan(&x.ID, &x.ConversationID, &x.Seq, &x.Question, &x.Answer, &x.Language, &x.Kind, &x.Confidence,
			&x.Model, &x.Retrieved, &x.Feedback, &x.CreatedAt)
		return x, err
	})
}
