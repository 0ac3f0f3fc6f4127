package crm_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

// mergeCase is a source contact with something of every kind attached (a
// web-chat identity and its conversation, a consent, a fascicolo) and a target
// contact known only as a web-chat visitor.
type mergeCase struct {
	target, source int64
	sourceVisitor  crm.IdentityClaim
	conversation   int64
}

func newMergeCase(t *testing.T, b *bundle) mergeCase {
	t.Helper()
	mc := mergeCase{
		target:        b.visitor(t, "", ""),
		source:        b.importCitizen(t, citizenRecord(10, "Mario", "Rossi")),
		sourceVisitor: webchatClaim(""),
	}
	_, err := b.store.AddIdentity(b.ctx, b.operator.Actor(), mc.source, mc.sourceVisitor)
	require.NoError(t, err)
	r := b.ingest(t, inbound(mc.sourceVisitor, "Quando scade la TARI?"))
	require.Equal(t, mc.source, r.ContactID)
	mc.conversation = r.Message.ConversationID
	_, err = b.store.RecordConsent(b.ctx, b.operator.Actor(), mc.source, crm.ConsentInput{
		Channel: "email", Purpose: crm.PurposeInformation, Granted: true, Source: "modulo web"})
	require.NoError(t, err)
	return mc
}

func TestMergeMovesEverythingOfTheSourceToTheTarget(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mc := newMergeCase(t, b)

	res, err := b.store.Merge(b.ctx, b.operator.Actor(), mc.target, mc.source, "Stessa persona, confermato al telefono")
	require.NoError(t, err)

	require.Equal(t, map[string]int64{"contact_identities": 2, "conversations": 1, "consents": 1,
		"pratiche": 1, "avvisi": 1, "documents": 1, "appointments": 1}, res.Moved)
	target := b.contact(t, mc.target)
	require.Equal(t, codiceFiscale(10), target.CodiceFiscale, "the target takes the verified codice fiscale")
	require.Equal(t, "Mario Rossi", target.DisplayName, "the target takes the details it lacks")
	require.Len(t, target.Identities, 3)
	require.Equal(t, mc.target, b.conversation(t, mc.conversation).ContactID)
	consents, err := b.store.Consents(b.ctx, b.tenant.ID, mc.target, true)
	require.NoError(t, err)
	require.Len(t, consents, 1)
	f, err := b.store.Fascicolo(b.ctx, b.operator.Actor(), mc.target, "verifica dopo l'unione")
	require.NoError(t, err)
	require.Len(t, f.Pratiche, 1)
	require.Len(t, f.Avvisi, 1)
	require.Len(t, f.Documents, 1)
	require.Len(t, f.Appointments, 1)

	again := b.mustResolve(t, mc.sourceVisitor)
	require.Equal(t, mc.target, again.ContactID, "the source's identities now find the target")
	cf := b.mustResolve(t, crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale, ExternalID: codiceFiscale(10),
		Verified: true, VerifiedBy: crm.VerifiedSPID})
	require.Equal(t, mc.target, cf.ContactID)
}

func TestMergeLeavesTheSourceAsAPointerToTheTarget(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mc := newMergeCase(t, b)

	_, err := b.store.Merge(b.ctx, b.operator.Actor(), mc.target, mc.source, "Stessa persona")
	require.NoError(t, err)

	source := b.contact(t, mc.source)
	require.Equal(t, &mc.target, source.MergedInto)
	require.Empty(t, source.Identities)
	require.Empty(t, source.CodiceFiscale)
	found, err := b.store.SearchContacts(b.ctx, b.tenant.ID, crm.ContactQuery{})
	require.NoError(t, err)
	require.Len(t, found, 1, "only the target is an active contact")
	require.Equal(t, mc.target, found[0].ID)
}

func TestMergeIsAuditedWithWhoWhenAndWhy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mc := newMergeCase(t, b)
	before := time.Now()

	res, err := b.store.Merge(b.ctx, b.operator.Actor(), mc.target, mc.source, "Stessa persona, confermato allo sportello")
	require.NoError(t, err)

	es := b.auditEntries(t, mc.target, "contact.merge")
	require.Len(t, es, 1)
	e := es[0]
	require.Equal(t, res.AuditRecordID, e.ID)
	require.Equal(t, crm.ActorStaff, e.ActorKind)
	require.Equal(t, b.operator.ID, e.ActorID)
	require.Equal(t, b.operator.Name, e.ActorName)
	require.WithinRange(t, e.At, before.Add(-time.Second), time.Now().Add(time.Second))
	require.Equal(t, "Stessa persona, confermato allo sportello", e.Reason)
	require.Equal(t, float64(mc.source), e.Detail["source_id"])
	require.Equal(t, float64(1), e.Detail["moved"].(map[string]any)["pratiche"])
}

func TestMergeRefusesTwoContactsWithDifferentVerifiedCodiciFiscali(t *testing.T) {
	t.Parallel()
	b := setup(t)
	target := b.importCitizen(t, citizenRecord(11, "Mario", "Rossi"))
	source := b.importCitizen(t, citizenRecord(12, "Mario", "Rossi"))
	before := map[int64]crm.Contact{target: b.contact(t, target), source: b.contact(t, source)}

	_, err := b.store.Merge(b.ctx, b.supervisor.Actor(), target, source, "Stesso nome")

	require.ErrorIs(t, err, crm.ErrConflict)
	for id, c := range before {
		require.Equal(t, c, b.contact(t, id), "contact %d is unchanged", id)
		f, err := b.store.Fascicolo(b.ctx, b.operator.Actor(), id, "verifica")
		require.NoError(t, err)
		require.Len(t, f.Pratiche, 1)
	}
	require.Empty(t, b.auditEntries(t, 0, "contact.merge"))
}

func TestMergeRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// pick returns the target and the source to merge.
		pick   func(t *testing.T, b *bundle) (target, source int64)
		reason string
		want   error
		field  string
	}{
		{
			name: "a contact into itself",
			pick: func(t *testing.T, b *bundle) (int64, int64) {
				id := b.visitor(t, "Mario Rossi", "")
				return id, id
			},
			reason: "doppione", want: crm.ErrInvalid, field: "source_id",
		},
		{
			name: "into a merged contact",
			pick: func(t *testing.T, b *bundle) (int64, int64) {
				merged, into := b.visitor(t, "Mario Rossi", ""), b.visitor(t, "Mario Rossi", "")
				b.merge(t, into, merged)
				return merged, b.visitor(t, "Mario Rossi", "")
			},
			reason: "doppione", want: crm.ErrNotFound,
		},
		{
			name: "a merged contact",
			pick: func(t *testing.T, b *bundle) (int64, int64) {
				merged, into := b.visitor(t, "Mario Rossi", ""), b.visitor(t, "Mario Rossi", "")
				b.merge(t, into, merged)
				return b.visitor(t, "Mario Rossi", ""), merged
			},
			reason: "doppione", want: crm.ErrNotFound,
		},
		{
			name: "a contact that does not exist",
			pick: func(t *testing.T, b *bundle) (int64, int64) {
				return b.visitor(t, "Mario Rossi", ""), 1 << 40
			},
			reason: "doppione", want: crm.ErrNotFound,
		},
		{
			name: "without a reason",
			pick: func(t *testing.T, b *bundle) (int64, int64) {
				return b.visitor(t, "Mario Rossi", ""), b.visitor(t, "Mario Rossi", "")
			},
			reason: "", want: crm.ErrInvalid, field: "reason",
		},
		{
			name: "with a blank reason",
			pick: func(t *testing.T, b *bundle) (int64, int64) {
				return b.visitor(t, "Mario Rossi", ""), b.visitor(t, "Mario Rossi", "")
			},
			reason: " \t\n", want: crm.ErrInvalid, field: "reason",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			target, source := tt.pick(t, b)
			merges := len(b.auditEntries(t, 0, "contact.merge"))

			_, err := b.store.Merge(b.ctx, b.operator.Actor(), target, source, tt.reason)

			require.ErrorIs(t, err, tt.want)
			if tt.field != "" {
				requireInvalidField(t, err, tt.field)
			}
			require.Len(t, b.auditEntries(t, 0, "contact.merge"), merges)
		})
	}
}

func TestMergeIsForbiddenToCommunicationStaff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	target, source := b.visitor(t, "Mario Rossi", ""), b.visitor(t, "Mario Rossi", "")

	_, err := b.store.Merge(b.ctx, b.communication.Actor(), target, source, "Stessa persona")

	require.ErrorIs(t, err, crm.ErrForbidden)
	require.Nil(t, b.contact(t, source).MergedInto)
}

func TestMergeKeepsBothOpenConversationsOfTheSameThread(t *testing.T) {
	t.Parallel()
	b := setup(t)
	targetConv := b.openConversation(t, "Mario Rossi")
	sourceConv := b.openConversation(t, "Mario Rossi")

	_, err := b.store.Merge(b.ctx, b.operator.Actor(), targetConv.ContactID, sourceConv.ContactID, "Stessa persona")
	require.NoError(t, err)

	convs, err := b.store.Conversations(b.ctx, b.tenant.ID, crm.ConversationQuery{ContactID: targetConv.ContactID})
	require.NoError(t, err)
	require.Len(t, convs, 2)
	for _, c := range convs {
		require.Equal(t, crm.StatusQueued, c.Status, "conversation %d stays in the inbox", c.ID)
		require.Equal(t, crm.ChannelWebchat, c.Channel)
	}
	require.ElementsMatch(t, []int64{targetConv.ID, sourceConv.ID}, []int64{convs[0].ID, convs[1].ID})
}

func TestMergeRepointsTheSourcesSuggestionsToTheTarget(t *testing.T) {
	t.Parallel()
	b := setup(t)
	source := b.visitor(t, "Giulia Bianchi", "")
	lookalike := b.visitor(t, "Giulia Bianchi", "")
	require.Len(t, b.suggestions(t, source), 1)
	target := b.visitor(t, "G. Bianchi", "")

	_, err := b.store.Merge(b.ctx, b.operator.Actor(), target, source, "Stessa persona")
	require.NoError(t, err)

	require.Empty(t, b.suggestions(t, source))
	ss := b.suggestions(t, target)
	require.Len(t, ss, 1)
	require.Equal(t, lookalike, other(ss[0], target))
	require.Equal(t, "same_name", ss[0].Reason)
}

func TestMergeSettlesTheSuggestionOfThePair(t *testing.T) {
	t.Parallel()
	b := setup(t)
	target := b.visitor(t, "Giulia Bianchi", "")
	source := b.visitor(t, "Giulia Bianchi", "")
	require.Len(t, b.suggestions(t, target), 1)

	b.merge(t, target, source)

	require.Empty(t, b.suggestions(t, target))
}

func (b *bundle) merge(t *testing.T, target, source int64) {
	t.Helper()
	_, err := b.store.Merge(b.ctx, b.operator.Actor(), target, source, "Stessa persona")
	require.NoError(t, err)
}

func TestMergeSuggestionsOfAnUnknownContactAreNone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.visitor(t, "Giulia Bianchi", "")
	b.visitor(t, "Giulia Bianchi", "")

	for _, id := range []int64{1 << 20, 1 << 40} { // contact ids are 64-bit
		ss, err := b.store.MergeSuggestions(b.ctx, b.tenant.ID, id, 0)
		require.NoError(t, err)
		require.Empty(t, ss)
	}
}
