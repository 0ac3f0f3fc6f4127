package crm_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestIngestOpensAQueuedConversationForANewSender(t *testing.T) {
	t.Parallel()
	b := setup(t)

	r := b.ingest(t, inbound(webchatClaim("Mario Rossi"), "Buongiorno"))

	require.True(t, r.NewContact)
	require.True(t, r.NewConversation)
	require.False(t, r.Duplicate)
	require.Equal(t, int64(1), r.Message.Seq)
	c := b.conversation(t, r.Message.ConversationID)
	require.Equal(t, r.ContactID, c.ContactID)
	require.Equal(t, crm.StatusQueued, c.Status)
	require.Equal(t, &b.team.ID, c.TeamID)
	require.Nil(t, c.AssigneeID)
	require.Len(t, c.Messages, 1)
	require.Equal(t, crm.Inbound, c.Messages[0].Direction)
	require.Equal(t, crm.AuthorCitizen, c.Messages[0].AuthorKind)
	require.Equal(t, "Buongiorno", c.Messages[0].Text)
}

func TestIngestAppendsToTheOpenConversationOfTheThread(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from := webchatClaim("Mario Rossi")
	first := b.ingest(t, inbound(from, "Buongiorno"))

	second := b.ingest(t, inbound(from, "Vorrei un'informazione"))

	require.False(t, second.NewContact)
	require.False(t, second.NewConversation)
	require.Equal(t, first.Message.ConversationID, second.Message.ConversationID)
	require.Equal(t, int64(2), second.Message.Seq)
}

func TestIngestStoresTheSameEventOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := inbound(webchatClaim("Mario Rossi"), "Buongiorno")
	first := b.ingest(t, in)

	second := b.ingest(t, in)

	require.True(t, second.Duplicate)
	require.Equal(t, first.Message.ID, second.Message.ID)
	require.Equal(t, first.ContactID, second.ContactID)
	c := b.conversation(t, first.Message.ConversationID)
	require.Len(t, c.Messages, 1)
	require.Equal(t, int64(1), c.LastSeq)
}

func TestIngestStoresTheSameEventOnceWhenDeliveredConcurrently(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := inbound(webchatClaim("Mario Rossi"), "Buongiorno")

	results := ingestConcurrently(t, b, 20, func(int) crm.InboundMessage { return in })

	duplicates := 0
	for _, r := range results {
		require.Equal(t, results[0].Message.ID, r.Message.ID)
		if r.Duplicate {
			duplicates++
		}
	}
	require.Equal(t, 19, duplicates)
	c := b.conversation(t, results[0].Message.ConversationID)
	require.Len(t, c.Messages, 1)
	require.Equal(t, int64(1), c.LastSeq)
	require.Len(t, b.activeContacts(t), 1)
}

func TestIngestOfConcurrentFirstMessagesOfANewSenderMakesOneContactAndOneConversation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from := webchatClaim("Mario Rossi")

	results := ingestConcurrently(t, b, 20, func(i int) crm.InboundMessage {
		return inbound(from, fmt.Sprintf("Messaggio %d", i))
	})

	newContacts, newConversations := 0, 0
	for _, r := range results {
		require.False(t, r.Duplicate)
		require.Equal(t, results[0].ContactID, r.ContactID)
		require.Equal(t, results[0].Message.ConversationID, r.Message.ConversationID)
		if r.NewContact {
			newContacts++
		}
		if r.NewConversation {
			newConversations++
		}
	}
	require.Equal(t, 1, newContacts)
	require.Equal(t, 1, newConversations)
	require.Len(t, b.activeContacts(t), 1)
	convs, err := b.store.Conversations(b.ctx, b.tenant.ID, crm.ConversationQuery{})
	require.NoError(t, err)
	require.Len(t, convs, 1)
	c := b.conversation(t, convs[0].ID)
	require.Equal(t, int64(20), c.LastSeq)
	require.Len(t, c.Messages, 20)
	for i, m := range c.Messages {
		require.Equal(t, int64(i+1), m.Seq, "sequence numbers have no gaps")
	}
}

func TestIngestSanitisesHTML(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := crm.InboundMessage{
		Channel:    crm.ChannelEmail,
		ExternalID: "<" + randomHex(8) + "@mail.example.it>",
		From:       crm.IdentityClaim{Kind: crm.IdentityEmail, ExternalID: "mario.rossi@example.it"},
		Subject:    "Richiesta certificato",
		Text:       "Buongiorno",
		HTML:       `<p onclick="steal()">Buongiorno</p><script>alert(document.cookie)</script><a href="javascript:alert(1)">link</a>`,
	}

	r := b.ingest(t, in)

	html := b.conversation(t, r.Message.ConversationID).Messages[0].HTML
	require.Contains(t, html, "<p>Buongiorno</p>")
	for _, bad := range []string{"<script", "alert(document.cookie)", "onclick", "javascript:"} {
		require.NotContains(t, html, bad)
	}
}

func TestIngestRejectsInvalidMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(in *crm.InboundMessage)
		field  string
	}{
		{"unknown channel", func(in *crm.InboundMessage) { in.Channel = "fax" }, "channel"},
		{"no channel", func(in *crm.InboundMessage) { in.Channel = "" }, "channel"},
		{"no external id", func(in *crm.InboundMessage) { in.ExternalID = "" }, "external_id"},
		{"empty message", func(in *crm.InboundMessage) { in.Text = "" }, "text"},
		{"blank message", func(in *crm.InboundMessage) { in.Text = " \n\t " }, "text"},
		{"oversized text", func(in *crm.InboundMessage) { in.Text = strings.Repeat("a", crm.MaxTextLen+1) }, "text"},
		{"oversized HTML", func(in *crm.InboundMessage) { in.HTML = strings.Repeat("a", crm.MaxHTMLLen+1) }, "html"},
		{"text that is not UTF-8", func(in *crm.InboundMessage) { in.Text = "\xff\xfe" }, "text"},
		{"attachment without a name", func(in *crm.InboundMessage) {
			in.Attachments = []crm.Attachment{{Name: "ok.pdf", Size: 1}, {Size: 1}}
		}, "attachments[1]"},
		{"invalid sender", func(in *crm.InboundMessage) { in.From.ExternalID = "x" }, "external_id"},
		{"sender with an invalid codice fiscale", func(in *crm.InboundMessage) {
			in.Channel, in.From = crm.ChannelAppIO, crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale,
				ExternalID: "RSSMRA80A01H501X", Verified: true, VerifiedBy: crm.VerifiedSPID}
		}, "external_id"},
		{"resolved status", func(in *crm.InboundMessage) { in.Status = crm.StatusResolved }, "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			in := inbound(webchatClaim("Mario Rossi"), "Buongiorno")
			tt.change(&in)

			_, err := b.store.Ingest(b.ctx, b.tenant.ID, in)

			requireInvalidField(t, err, tt.field)
			require.Empty(t, b.activeContacts(t), "nothing is written")
		})
	}
}

func TestIngestAcceptsTextOfTheMaximumLength(t *testing.T) {
	t.Parallel()
	b := setup(t)

	r := b.ingest(t, inbound(webchatClaim(""), strings.Repeat("è", crm.MaxTextLen)))

	require.Len(t, []rune(b.conversation(t, r.Message.ConversationID).Messages[0].Text), crm.MaxTextLen)
}

func TestIngestOpensANewConversationAfterTheOpenOneIsResolved(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from := webchatClaim("Mario Rossi")
	first := b.ingest(t, inbound(from, "Buongiorno"))
	_, err := b.store.SetStatus(b.ctx, b.operator.Actor(), first.Message.ConversationID, true)
	require.NoError(t, err)

	next := b.ingest(t, inbound(from, "Ho un'altra domanda"))

	require.True(t, next.NewConversation)
	require.NotEqual(t, first.Message.ConversationID, next.Message.ConversationID)
	require.Equal(t, int64(1), next.Message.Seq)
	require.Equal(t, crm.StatusResolved, b.conversation(t, first.Message.ConversationID).Status)
}

func TestIngestKeepsThreadsApart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from := crm.IdentityClaim{Kind: crm.IdentityEmail, ExternalID: "mario.rossi@example.it"}
	in := func(thread string) crm.InboundMessage {
		return crm.InboundMessage{Channel: crm.ChannelEmail, ExternalID: randomHex(8), From: from, ThreadKey: thread, Text: "Buongiorno"}
	}

	a := b.ingest(t, in("<thread-a@example.it>"))
	c := b.ingest(t, in("<thread-b@example.it>"))

	require.Equal(t, a.ContactID, c.ContactID)
	require.NotEqual(t, a.Message.ConversationID, c.Message.ConversationID)
}

func TestPostReplyStoresAPendingOutboundMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv := b.openConversation(t, "Mario Rossi")

	m, err := b.store.PostReply(b.ctx, b.operator.Actor(), conv.ID, crm.Reply{Text: "Buongiorno, come posso aiutarla?"})

	require.NoError(t, err)
	require.Equal(t, crm.Outbound, m.Direction)
	require.Equal(t, crm.AuthorOperator, m.AuthorKind)
	require.Equal(t, &b.operator.ID, m.AuthorStaffID)
	require.Equal(t, crm.DeliveryPending, m.DeliveryStatus)
	require.Equal(t, int64(2), m.Seq)
	require.False(t, m.Private)
}

func TestPostReplyIsIdempotentByClientID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv := b.openConversation(t, "Mario Rossi")
	reply := crm.Reply{Text: "Buongiorno", ClientID: "c-" + randomHex(8)}
	first, err := b.store.PostReply(b.ctx, b.operator.Actor(), conv.ID, reply)
	require.NoError(t, err)

	second, err := b.store.PostReply(b.ctx, b.operator.Actor(), conv.ID, reply)

	require.NoError(t, err)
	require.Equal(t, first.ID, second.ID)
	c := b.conversation(t, conv.ID)
	require.Len(t, c.Messages, 2, "the citizen's message and one reply")
	require.Equal(t, int64(2), c.LastSeq)
}

func TestPostReplyAssignsAnUnassignedConversationToTheOperator(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv := b.openConversation(t, "Mario Rossi")

	_, err := b.store.PostReply(b.ctx, b.operator.Actor(), conv.ID, crm.Reply{Text: "Buongiorno"})
	require.NoError(t, err)

	c := b.conversation(t, conv.ID)
	require.Equal(t, crm.StatusAssigned, c.Status)
	require.Equal(t, &b.operator.ID, c.AssigneeID)
}

func TestPostReplyKeepsPrivateNotesFromTheCitizensView(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv := b.openConversation(t, "Mario Rossi")

	note, err := b.store.PostReply(b.ctx, b.operator.Actor(), conv.ID, crm.Reply{Text: "Cittadino già noto all'ufficio", Private: true})
	require.NoError(t, err)

	require.True(t, note.Private)
	require.Equal(t, crm.Internal, note.Direction)
	public, err := b.store.Messages(b.ctx, b.tenant.ID, conv.ID, 0, false)
	require.NoError(t, err)
	require.Len(t, public, 1)
	require.NotEqual(t, note.ID, public[0].ID)
	staff, err := b.store.Messages(b.ctx, b.tenant.ID, conv.ID, 0, true)
	require.NoError(t, err)
	require.Len(t, staff, 2)
	require.Equal(t, note.ID, staff[1].ID)
	c := b.conversation(t, conv.ID)
	require.Nil(t, c.AssigneeID, "a note does not take the conversation")
	require.Equal(t, crm.StatusQueued, c.Status)
}

func TestPostReplyIsForbiddenToCommunicationStaff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv := b.openConversation(t, "Mario Rossi")

	_, err := b.store.PostReply(b.ctx, b.communication.Actor(), conv.ID, crm.Reply{Text: "Buongiorno"})

	require.ErrorIs(t, err, crm.ErrForbidden)
	require.Len(t, b.conversation(t, conv.ID).Messages, 1)
}

func TestPostReplyRejectsAnEmptyReply(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv := b.openConversation(t, "Mario Rossi")

	_, err := b.store.PostReply(b.ctx, b.operator.Actor(), conv.ID, crm.Reply{Text: "  "})

	requireInvalidField(t, err, "text")
}

func TestPostReplyToAResolvedConversationWhoseThreadReopenedIsAConflict(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from := webchatClaim("Mario Rossi")
	old := b.ingest(t, inbound(from, "Buongiorno")).Message.ConversationID
	_, err := b.store.SetStatus(b.ctx, b.operator.Actor(), old, true)
	require.NoError(t, err)
	b.ingest(t, inbound(from, "Ho un'altra domanda"))

	_, err = b.store.PostReply(b.ctx, b.operator.Actor(), old, crm.Reply{Text: "Risposta in ritardo"})

	require.ErrorIs(t, err, crm.ErrConflict)
	require.Len(t, b.conversation(t, old).Messages, 2, "the message and the resolution note, nothing else")
}

func TestAssign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		actor    func(b *bundle) crm.Actor
		assignee func(b *bundle) *int64
		want     error // nil: the conversation is assigned to the assignee
	}{
		{"an operator takes a conversation", func(b *bundle) crm.Actor { return b.operator.Actor() },
			func(b *bundle) *int64 { return &b.operator.ID }, nil},
		{"an operator gives a conversation to another", func(b *bundle) crm.Actor { return b.operator.Actor() },
			func(b *bundle) *int64 { return &b.supervisor.ID }, crm.ErrForbidden},
		{"a supervisor gives a conversation to an operator", func(b *bundle) crm.Actor { return b.supervisor.Actor() },
			func(b *bundle) *int64 { return &b.operator.ID }, nil},
		{"communication staff take a conversation", func(b *bundle) crm.Actor { return b.communication.Actor() },
			func(b *bundle) *int64 { return &b.communication.ID }, crm.ErrForbidden},
		{"to nobody of this ente", func(b *bundle) crm.Actor { return b.supervisor.Actor() },
			func(b *bundle) *int64 { id := int64(1 << 40); return &id }, crm.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			conv := b.openConversation(t, "Mario Rossi")

			got, err := b.store.Assign(b.ctx, tt.actor(b), conv.ID, crm.Assignment{AssigneeID: tt.assignee(b)})

			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
				c := b.conversation(t, conv.ID)
				require.Equal(t, crm.StatusQueued, c.Status)
				require.Nil(t, c.AssigneeID)
				return
			}
			require.NoError(t, err)
			require.Equal(t, crm.StatusAssigned, got.Status)
			require.Equal(t, tt.assignee(b), got.AssigneeID)
			last := got.Messages[len(got.Messages)-1]
			require.True(t, last.Private, "the assignment is noted in the conversation")
			require.Equal(t, crm.AuthorSystem, last.AuthorKind)
		})
	}
}

func TestAssignBackToTheQueue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv := b.openConversation(t, "Mario Rossi")
	_, err := b.store.Assign(b.ctx, b.operator.Actor(), conv.ID, crm.Assignment{AssigneeID: &b.operator.ID})
	require.NoError(t, err)

	got, err := b.store.Assign(b.ctx, b.operator.Actor(), conv.ID, crm.Assignment{})

	require.NoError(t, err)
	require.Equal(t, crm.StatusQueued, got.Status)
	require.Nil(t, got.AssigneeID)
	require.Equal(t, &b.team.ID, got.TeamID)
}

func TestAssignRefusesAnOperatorAtTheirMaximum(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, 5, b.operator.MaxConcurrent)
	from := crm.IdentityClaim{Kind: crm.IdentityEmail, ExternalID: "mario.rossi@example.it"}
	var convs []int64
	for i := range b.operator.MaxConcurrent + 1 {
		r := b.ingest(t, crm.InboundMessage{Channel: crm.ChannelEmail, ExternalID: randomHex(8), From: from,
			ThreadKey: fmt.Sprintf("<thread-%d@example.it>", i), Text: "Buongiorno"})
		convs = append(convs, r.Message.ConversationID)
	}
	for _, id := range convs[:b.operator.MaxConcurrent] {
		_, err := b.store.Assign(b.ctx, b.supervisor.Actor(), id, crm.Assignment{AssigneeID: &b.operator.ID})
		require.NoError(t, err)
	}

	_, err := b.store.Assign(b.ctx, b.supervisor.Actor(), convs[len(convs)-1], crm.Assignment{AssigneeID: &b.operator.ID})

	require.ErrorIs(t, err, crm.ErrConflict)
	require.Nil(t, b.conversation(t, convs[len(convs)-1]).AssigneeID)
	_, err = b.store.Assign(b.ctx, b.supervisor.Actor(), convs[0], crm.Assignment{AssigneeID: &b.operator.ID})
	require.NoError(t, err, "assigning again a conversation the operator has is not one more")
}

func TestAssignRefusesAResolvedConversation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv := b.openConversation(t, "Mario Rossi")
	_, err := b.store.SetStatus(b.ctx, b.operator.Actor(), conv.ID, true)
	require.NoError(t, err)

	_, err = b.store.Assign(b.ctx, b.operator.Actor(), conv.ID, crm.Assignment{AssigneeID: &b.operator.ID})

	require.ErrorIs(t, err, crm.ErrConflict)
}

func TestSetStatusResolvesAConversation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv := b.openConversation(t, "Mario Rossi")

	got, err := b.store.SetStatus(b.ctx, b.operator.Actor(), conv.ID, true)

	require.NoError(t, err)
	require.Equal(t, crm.StatusResolved, got.Status)
	require.NotNil(t, got.ResolvedAt)
}

func TestSetStatusReopensAConversation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		assignedTo func(b *bundle) *int64
		want       crm.Status
	}{
		{"to its operator", func(b *bundle) *int64 { return &b.operator.ID }, crm.StatusAssigned},
		{"to its team's queue", func(b *bundle) *int64 { return nil }, crm.StatusQueued},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			conv := b.openConversation(t, "Mario Rossi")
			if id := tt.assignedTo(b); id != nil {
				_, err := b.store.Assign(b.ctx, b.supervisor.Actor(), conv.ID, crm.Assignment{AssigneeID: id})
				require.NoError(t, err)
			}
			_, err := b.store.SetStatus(b.ctx, b.operator.Actor(), conv.ID, true)
			require.NoError(t, err)

			got, err := b.store.SetStatus(b.ctx, b.operator.Actor(), conv.ID, false)

			require.NoError(t, err)
			require.Equal(t, tt.want, got.Status)
			require.Equal(t, tt.assignedTo(b), got.AssigneeID)
			require.Nil(t, got.ResolvedAt)
		})
	}
}

func TestSetStatusRefusesToReopenWhenTheThreadHasAnotherOpenConversation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from := webchatClaim("Mario Rossi")
	old := b.ingest(t, inbound(from, "Buongiorno")).Message.ConversationID
	_, err := b.store.SetStatus(b.ctx, b.operator.Actor(), old, true)
	require.NoError(t, err)
	b.ingest(t, inbound(from, "Ho un'altra domanda"))

	_, err = b.store.SetStatus(b.ctx, b.operator.Actor(), old, false)

	require.ErrorIs(t, err, crm.ErrConflict)
	require.Equal(t, crm.StatusResolved, b.conversation(t, old).Status)
}

func TestConversationsFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	otherTeam, err := b.store.EnsureTeam(b.ctx, b.tenant.ID, "tributi", "Ufficio Tributi")
	require.NoError(t, err)
	queued := b.openConversation(t, "Anna Verdi")
	assigned := b.openConversation(t, "Bruno Gialli")
	_, err = b.store.Assign(b.ctx, b.operator.Actor(), assigned.ID, crm.Assignment{AssigneeID: &b.operator.ID})
	require.NoError(t, err)
	resolved := b.openConversation(t, "Carla Blu")
	_, err = b.store.SetStatus(b.ctx, b.operator.Actor(), resolved.ID, true)
	require.NoError(t, err)
	email := b.ingest(t, crm.InboundMessage{Channel: crm.ChannelEmail, ExternalID: randomHex(8), TeamID: otherTeam.ID,
		From: crm.IdentityClaim{Kind: crm.IdentityEmail, ExternalID: "dario@example.it"}, Text: "Buongiorno"}).Message.ConversationID
	withAssistant := b.ingest(t, crm.InboundMessage{Channel: crm.ChannelTelegram, ExternalID: randomHex(8),
		Status: crm.StatusAssistant, From: crm.IdentityClaim{Kind: crm.IdentityTelegram, ExternalID: "424242"},
		Text: "Ciao"}).Message.ConversationID

	tests := []struct {
		name  string
		query crm.ConversationQuery
		want  []int64 // newest first
	}{
		{"all", crm.ConversationQuery{}, []int64{withAssistant, email, resolved.ID, assigned.ID, queued.ID}},
		{"by status", crm.ConversationQuery{Status: crm.StatusQueued}, []int64{email, queued.ID}},
		{"with the assistant", crm.ConversationQuery{Status: crm.StatusAssistant}, []int64{withAssistant}},
		{"by channel", crm.ConversationQuery{Channel: crm.ChannelEmail}, []int64{email}},
		{"by team", crm.ConversationQuery{TeamID: otherTeam.ID}, []int64{email}},
		{"by assignee", crm.ConversationQuery{AssigneeID: b.operator.ID}, []int64{assigned.ID}},
		{"unassigned and queued", crm.ConversationQuery{Unassigned: true, Status: crm.StatusQueued}, []int64{email, queued.ID}},
		{"by contact", crm.ConversationQuery{ContactID: resolved.ContactID}, []int64{resolved.ID}},
		{"a page", crm.ConversationQuery{BeforeID: resolved.ID, Limit: 1}, []int64{assigned.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := b.store.Conversations(b.ctx, b.tenant.ID, tt.query)
			require.NoError(t, err)
			ids := []int64{}
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			require.Equal(t, tt.want, ids)
		})
	}
}

func TestConversationsRejectsAnUnknownStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)

	_, err := b.store.Conversations(b.ctx, b.tenant.ID, crm.ConversationQuery{Status: "closed"})

	requireInvalidField(t, err, "status")
}

// ingestConcurrently delivers n messages at once and returns the results.
func ingestConcurrently(t *testing.T, b *bundle, n int, message func(i int) crm.InboundMessage) []crm.IngestResult {
	t.Helper()
	results := make([]crm.IngestResult, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = b.store.Ingest(b.ctx, b.tenant.ID, message(i))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "delivery %d", i)
	}
	return results
}

// activeContacts lists the tenant's contacts that were not merged.
func (b *bundle) activeContacts(t *testing.T) []crm.Contact {
	t.Helper()
	cs, err := b.store.SearchContacts(b.ctx, b.tenant.ID, crm.ContactQuery{Limit: 200})
	require.NoError(t, err)
	return cs
}
