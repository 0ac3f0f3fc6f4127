package crm_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestContactHistorySpansChannelsAndConversations(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cf := codiceFiscale(41)
	spid := crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale, ExternalID: cf, Verified: true, VerifiedBy: crm.VerifiedSPID,
		DisplayName: "Lucia Bianchi"}
	chat := b.ingest(t, inbound(spid, "Buongiorno, scrivo dalla chat"))
	mail := b.ingest(t, crm.InboundMessage{Channel: crm.ChannelEmail, ExternalID: "mail-" + randomHex(6), From: spid,
		Subject: "TARI", Text: "E ora vi scrivo per e-mail"})
	require.Equal(t, chat.ContactID, mail.ContactID)
	require.NotEqual(t, chat.Message.ConversationID, mail.Message.ConversationID)
	_, err := b.store.PostReply(b.ctx, b.operator.Actor(), chat.Message.ConversationID,
		crm.Reply{Text: "Nota per i colleghi", Private: true})
	require.NoError(t, err)
	other := b.openConversation(t, "Qualcun altro")

	history, err := b.store.ContactHistory(b.ctx, b.tenant.ID, chat.ContactID, 0)
	require.NoError(t, err)

	var texts []string
	for _, m := range history {
		require.NotEqual(t, other.ID, m.ConversationID, "a message of another contact")
		texts = append(texts, string(m.Channel)+": "+m.Text)
	}
	require.Equal(t, []string{
		"webchat: Buongiorno, scrivo dalla chat",
		"email: E ora vi scrivo per e-mail",
		"webchat: Nota per i colleghi",
	}, texts)
	require.True(t, history[2].Private)
}

func TestContactHistoryKeepsTheNewestMessagesOldestFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from := webchatClaim("Paolo Verdi")
	var contactID int64
	for i := range 5 {
		contactID = b.ingest(t, inbound(from, "messaggio "+string(rune('1'+i)))).ContactID
	}

	history, err := b.store.ContactHistory(b.ctx, b.tenant.ID, contactID, 2)

	require.NoError(t, err)
	require.Len(t, history, 2)
	require.Equal(t, "messaggio 4", history[0].Text)
	require.Equal(t, "messaggio 5", history[1].Text)
}

func TestContactHistoryOfAnotherTenantIsEmpty(t *testing.T) {
	t.Parallel()
	b, other := setup(t), setup(t)
	c := b.openConversation(t, "Mario Rossi")

	history, err := other.store.ContactHistory(b.ctx, other.tenant.ID, c.ContactID, 0)

	require.NoError(t, err)
	require.Empty(t, history)
}

func TestSetTagsNormalisesAndNotifies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.openConversation(t, "Mario Rossi")

	got, err := b.store.SetTags(b.ctx, b.operator.Actor(), c.ID, []string{" TARI ", "rimborso", "tari", "", "Cambio  residenza"})

	require.NoError(t, err)
	require.Equal(t, []string{"tari", "rimborso", "cambio residenza"}, got.Tags)
	found, err := b.store.Inbox(b.ctx, b.tenant.ID, crm.InboxQuery{Tag: "rimborso"})
	require.NoError(t, err)
	require.Len(t, found, 1)
	require.Equal(t, c.ID, found[0].ID)
}

func TestSetTagsRefusesTooManyOrTooLong(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.openConversation(t, "Mario Rossi")

	_, err := b.store.SetTags(b.ctx, b.operator.Actor(), c.ID, []string{strings.Repeat("x", crm.MaxTagLen+1)})
	requireInvalidField(t, err, "tags")

	many := make([]string, crm.MaxTags+1)
	for i := range many {
		many[i] = "tag" + randomHex(3)
	}
	_, err = b.store.SetTags(b.ctx, b.operator.Actor(), c.ID, many)
	requireInvalidField(t, err, "tags")

	_, err = b.store.SetTags(b.ctx, b.communication.Actor(), c.ID, []string{"tari"})
	require.ErrorIs(t, err, crm.ErrForbidden)
}

func TestSetPriorityOrdersTheInbox(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.openConversation(t, "Prima Persona")
	second := b.openConversation(t, "Seconda Persona")

	_, err := b.store.SetPriority(b.ctx, b.operator.Actor(), second.ID, crm.PriorityUrgent)
	require.NoError(t, err)
	_, err = b.store.SetPriority(b.ctx, b.operator.Actor(), first.ID, 7)
	requireInvalidField(t, err, "priority")

	items, err := b.store.Inbox(b.ctx, b.tenant.ID, crm.InboxQuery{})
	require.NoError(t, err)
	require.Len(t, items, 2)
	require.Equal(t, second.ID, items[0].ID, "the urgent conversation first")
	require.Equal(t, first.ID, items[1].ID)
}

func TestInboxShowsPreviewWaitingTimeAndNames(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.openConversation(t, "Mario Rossi")
	_, err := b.store.Assign(b.ctx, b.operator.Actor(), c.ID, crm.Assignment{AssigneeID: &b.operator.ID})
	require.NoError(t, err)

	items, err := b.store.Inbox(b.ctx, b.tenant.ID, crm.InboxQuery{AssigneeID: b.operator.ID})
	require.NoError(t, err)
	require.Len(t, items, 1)
	it := items[0]
	require.Equal(t, "Mario Rossi", it.ContactName)
	require.Equal(t, b.team.Name, it.TeamName)
	require.Equal(t, b.operator.Name, it.AssigneeName)
	require.Equal(t, "Buongiorno, vorrei informazioni sulla TARI.", it.Preview, "the activity note is not a preview")
	require.Equal(t, crm.AuthorCitizen, it.PreviewAuthor)
	require.NotNil(t, it.WaitingSince)
	require.WithinDuration(t, time.Now(), *it.WaitingSince, time.Minute)

	_, err = b.store.PostReply(b.ctx, b.operator.Actor(), c.ID, crm.Reply{Text: "Buongiorno, mi dica."})
	require.NoError(t, err)
	items, err = b.store.Inbox(b.ctx, b.tenant.ID, crm.InboxQuery{AssigneeID: b.operator.ID})
	require.NoError(t, err)
	require.Nil(t, items[0].WaitingSince, "answered")
	require.Equal(t, "Buongiorno, mi dica.", items[0].Preview)
}

func TestInboxFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other, err := b.store.EnsureTeam(b.ctx, b.tenant.ID, "tributi", "Tributi")
	require.NoError(t, err)
	rossi := b.openConversation(t, "Mario Rossi")
	bianchi := b.ingest(t, crm.InboundMessage{Channel: crm.ChannelTelegram, ExternalID: "tg-" + randomHex(4),
		From: crm.IdentityClaim{Kind: crm.IdentityTelegram, ExternalID: fmt.Sprint(time.Now().UnixNano() % 1e12), DisplayName: "Anna Bianchi"},
		Text: "Ciao", TeamID: other.ID})
	mine := b.openConversation(t, "Giulia Neri")
	_, err = b.store.Assign(b.ctx, b.operator.Actor(), mine.ID, crm.Assignment{AssigneeID: &b.operator.ID})
	require.NoError(t, err)
	resolved := b.openConversation(t, "Luca Gialli")
	_, err = b.store.SetStatus(b.ctx, b.operator.Actor(), resolved.ID, true)
	require.NoError(t, err)

	ids := func(q crm.InboxQuery) []int64 {
		t.Helper()
		items, err := b.store.Inbox(b.ctx, b.tenant.ID, q)
		require.NoError(t, err)
		var out []int64
		for _, it := range items {
			out = append(out, it.ID)
		}
		return out
	}
	tg := bianchi.Message.ConversationID
	require.ElementsMatch(t, []int64{rossi.ID, tg, mine.ID}, ids(crm.InboxQuery{}), "open")
	require.ElementsMatch(t, []int64{rossi.ID, tg}, ids(crm.InboxQuery{Unassigned: true}))
	require.Equal(t, []int64{mine.ID}, ids(crm.InboxQuery{AssigneeID: b.operator.ID}))
	require.Equal(t, []int64{tg}, ids(crm.InboxQuery{TeamID: other.ID}))
	require.Equal(t, []int64{tg}, ids(crm.InboxQuery{Channel: crm.ChannelTelegram}))
	require.Equal(t, []int64{resolved.ID}, ids(crm.InboxQuery{Status: crm.StatusResolved}))
	require.Equal(t, []int64{rossi.ID}, ids(crm.InboxQuery{Search: "ROSS"}))
	require.Empty(t, ids(crm.InboxQuery{Search: "%"}), "LIKE wildcards are literal")

	n, err := b.store.InboxCounts(b.ctx, b.tenant.ID, b.operator.ID)
	require.NoError(t, err)
	require.Equal(t, 1, n.Mine)
	require.Equal(t, 2, n.Unassigned)
	require.Equal(t, 3, n.Open)
	require.Equal(t, map[int64]int{b.team.ID: 1, other.ID: 1}, n.Teams)
}

func TestQueueStats(t *testing.T) {
	t.Parallel()
	b := setup(t)
	empty, err := b.store.EnsureTeam(b.ctx, b.tenant.ID, "zeta", "Zeta")
	require.NoError(t, err)
	b.openConversation(t, "Uno")
	b.openConversation(t, "Due")
	taken := b.openConversation(t, "Tre")
	_, err = b.store.Assign(b.ctx, b.operator.Actor(), taken.ID, crm.Assignment{AssigneeID: &b.operator.ID})
	require.NoError(t, err)
	done := b.openConversation(t, "Quattro")
	_, err = b.store.SetStatus(b.ctx, b.operator.Actor(), done.ID, true)
	require.NoError(t, err)
	_, err = b.pool.Exec(b.ctx, `UPDATE conversations SET queued_at = now() - interval '10 minutes'
		WHERE tenant_id = $1 AND status = 'queued' AND id = (SELECT min(id) FROM conversations WHERE tenant_id = $1)`, b.tenant.ID)
	require.NoError(t, err)

	stats, err := b.store.QueueStats(b.ctx, b.tenant.ID)

	require.NoError(t, err)
	require.Len(t, stats, 2)
	urp := stats[1]
	if stats[0].TeamID == b.team.ID {
		urp = stats[0]
	}
	require.Equal(t, b.team.ID, urp.TeamID)
	require.Equal(t, 2, urp.Queued)
	require.Equal(t, 1, urp.Assigned)
	require.Equal(t, 1, urp.ResolvedToday)
	require.InDelta(t, (10 * time.Minute).Seconds(), urp.LongestWait.Seconds(), 30)
	require.Greater(t, urp.LongestWait, urp.AverageWait)
	require.Greater(t, urp.AverageWait, 4*time.Minute)
	for _, s := range stats {
		if s.TeamID == empty.ID {
			require.Zero(t, s.Queued)
			require.Zero(t, s.LongestWait)
		}
	}
}
