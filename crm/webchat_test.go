package crm_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestTheWebchatIdentitySecretIsSetReadAndRemoved(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.WebchatIdentitySecret(b.ctx, b.tenant.ID)
	require.ErrorIs(t, err, crm.ErrNoIdentitySecret)
	require.ErrorIs(t, err, crm.ErrNotFound)
	secret := []byte("un segreto lungo almeno trentadue caratteri")

	require.NoError(t, b.store.SetWebchatIdentitySecret(b.ctx, b.tenant.ID, secret))
	got, err := b.store.WebchatIdentitySecret(b.ctx, b.tenant.ID)
	require.NoError(t, err)
	require.Equal(t, secret, got)

	requireInvalidField(t, b.store.SetWebchatIdentitySecret(b.ctx, b.tenant.ID, []byte("corto")), "webchat_identity_secret")
	require.NoError(t, b.store.SetWebchatIdentitySecret(b.ctx, b.tenant.ID, nil))
	_, err = b.store.WebchatIdentitySecret(b.ctx, b.tenant.ID)
	require.ErrorIs(t, err, crm.ErrNoIdentitySecret)
}

// conversationWithReplies opens a conversation (the citizen's message is 1)
// and adds operator replies, one per text; "" adds a private note.
func (b *bundle) conversationWithReplies(t *testing.T, texts ...string) crm.Conversation {
	t.Helper()
	c := b.openConversation(t, "Mario Rossi")
	for _, text := range texts {
		r := crm.Reply{Text: text}
		if text == "" {
			r = crm.Reply{Text: "nota", Private: true}
		}
		_, err := b.store.PostReply(b.ctx, b.operator.Actor(), c.ID, r)
		require.NoError(t, err)
	}
	return b.conversation(t, c.ID)
}

func (b *bundle) deliveryStatuses(t *testing.T, conversationID int64) map[int64]crm.DeliveryStatus {
	t.Helper()
	out := map[int64]crm.DeliveryStatus{}
	for _, m := range b.conversation(t, conversationID).Messages {
		out[m.Seq] = m.DeliveryStatus
	}
	return out
}

func TestMarkDeliveryRaisesOnlyTheStatusOfOutboundMessages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.conversationWithReplies(t, "uno", "due", "tre", "", "cinque")

	require.NoError(t, b.store.MarkDelivery(b.ctx, b.tenant.ID, c.ID, 5, crm.DeliveryDelivered))

	require.Equal(t, map[int64]crm.DeliveryStatus{1: crm.DeliveryReceived, 2: crm.DeliveryDelivered,
		3: crm.DeliveryDelivered, 4: crm.DeliveryDelivered, 5: crm.DeliveryDelivered, 6: crm.DeliveryPending},
		b.deliveryStatuses(t, c.ID))
}

func TestMarkDeliveryNeverLowersAStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.conversationWithReplies(t, "uno", "due", "tre")

	require.NoError(t, b.store.MarkDelivery(b.ctx, b.tenant.ID, c.ID, 3, crm.DeliveryRead))
	require.NoError(t, b.store.MarkDelivery(b.ctx, b.tenant.ID, c.ID, 4, crm.DeliveryDelivered))
	require.NoError(t, b.store.MarkDelivery(b.ctx, b.tenant.ID, c.ID, 2, crm.DeliverySent))

	require.Equal(t, map[int64]crm.DeliveryStatus{1: crm.DeliveryReceived, 2: crm.DeliveryRead,
		3: crm.DeliveryRead, 4: crm.DeliveryDelivered}, b.deliveryStatuses(t, c.ID))
}

func TestMarkDeliveryTellsTheConsolesOnlyWhenSomethingChanged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.conversationWithReplies(t, "uno", "due")
	hub := crm.NewHub(b.pool, nil)
	go func() { _ = hub.Run(t.Context()) }()
	<-hub.Ready()
	sub := hub.Subscribe(func(e crm.Event) bool { return e.TenantID == b.tenant.ID && e.Kind == crm.EventDelivery }, 16)
	defer sub.Close()

	require.NoError(t, b.store.MarkDelivery(b.ctx, b.tenant.ID, c.ID, 3, crm.DeliveryRead))
	require.NoError(t, b.store.MarkDelivery(b.ctx, b.tenant.ID, c.ID, 3, crm.DeliveryDelivered))

	select {
	case e := <-sub.C:
		require.Equal(t, crm.Event{Kind: crm.EventDelivery, TenantID: b.tenant.ID, ConversationID: c.ID,
			ContactID: c.ContactID, Seq: 3, Status: string(crm.DeliveryRead)}, e)
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery event")
	}
	select {
	case e := <-sub.C:
		t.Fatalf("an event for a receipt that changed nothing: %+v", e)
	case <-time.After(300 * time.Millisecond):
	}
}

func TestMarkDeliveryRefusesWhatIsNotAReceipt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.conversationWithReplies(t, "uno")

	requireInvalidField(t, b.store.MarkDelivery(b.ctx, b.tenant.ID, c.ID, 2, crm.DeliveryFailed), "status")
	requireInvalidField(t, b.store.MarkDelivery(b.ctx, b.tenant.ID, c.ID, 0, crm.DeliveryRead), "seq")
}

func TestQueuePositionFollowsTheTeamsQueue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.openConversation(t, "Primo")
	second := b.openConversation(t, "Secondo")
	third := b.openConversation(t, "Terzo")
	position := func(c crm.Conversation) int {
		t.Helper()
		p, err := b.store.QueuePosition(b.ctx, b.tenant.ID, c.ID)
		require.NoError(t, err)
		return p
	}
	require.Equal(t, []int{1, 2, 3}, []int{position(first), position(second), position(third)})

	_, err := b.store.Assign(b.ctx, b.operator.Actor(), first.ID, crm.Assignment{AssigneeID: &b.operator.ID})
	require.NoError(t, err)
	_, err = b.pool.Exec(b.ctx, `UPDATE conversations SET priority = 3 WHERE tenant_id = $1 AND id = $2`, b.tenant.ID, third.ID)
	require.NoError(t, err)

	require.Equal(t, []int{0, 2, 1}, []int{position(first), position(second), position(third)})

	// All the positions of the tenant at once agree with the counts one by one.
	all, err := b.store.QueuePositions(b.ctx, b.tenant.ID)
	require.NoError(t, err)
	require.Equal(t, map[int64]int{second.ID: 2, third.ID: 1}, all)

	_, err = b.store.QueuePosition(b.ctx, b.tenant.ID, 0)
	require.ErrorIs(t, err, crm.ErrNotFound)
}

func TestQueuesOfOtherTeamsAreApart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	anagrafe, err := b.store.EnsureTeam(b.ctx, b.tenant.ID, "anagrafe", "Anagrafe")
	require.NoError(t, err)
	b.openConversation(t, "Primo")
	r := b.ingest(t, crm.InboundMessage{Channel: crm.ChannelWebchat, ExternalID: "msg-" + randomHex(8),
		From: webchatClaim("Secondo"), Text: "Cambio di residenza", TeamID: anagrafe.ID})

	p, err := b.store.QueuePosition(b.ctx, b.tenant.ID, r.Message.ConversationID)
	require.NoError(t, err)
	require.Equal(t, 1, p)
}

func TestContactConversationIsTheOpenOneOnTheThreadElseTheLatest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from := webchatClaim("Mario Rossi")
	contact := b.mustResolve(t, from).ContactID
	_, err := b.store.ContactConversation(b.ctx, b.tenant.ID, contact, crm.ChannelWebchat, "")
	require.ErrorIs(t, err, crm.ErrNotFound)

	first := b.ingest(t, inbound(from, "Buongiorno")).Message.ConversationID
	_, err = b.store.SetStatus(b.ctx, b.operator.Actor(), first, true)
	require.NoError(t, err)
	got, err := b.store.ContactConversation(b.ctx, b.tenant.ID, contact, crm.ChannelWebchat, "")
	require.NoError(t, err)
	require.Equal(t, first, got.ID, "the latest, resolved")
	require.Nil(t, got.Messages)

	second := b.ingest(t, inbound(from, "Di nuovo")).Message.ConversationID
	other := inbound(from, "Su un altro filo")
	other.ThreadKey = "#merged-1"
	b.ingest(t, other)
	got, err = b.store.ContactConversation(b.ctx, b.tenant.ID, contact, crm.ChannelWebchat, "")
	require.NoError(t, err)
	require.Equal(t, second, got.ID, "the open one on the thread, though another is more recent")
}

func TestOwnerOfSaysWhetherTheContactIsVerified(t *testing.T) {
	t.Parallel()
	b := setup(t)
	anon := webchatClaim("")
	b.mustResolve(t, anon)
	known := webchatClaim("Mario Rossi")
	r := b.mustResolve(t, known)
	_, err := b.store.SignIn(b.ctx, b.tenant.ID, known, crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale,
		ExternalID: codiceFiscale(2), Verified: true, VerifiedBy: crm.VerifiedSPID}, "prova")
	require.NoError(t, err)

	a, err := b.store.OwnerOf(b.ctx, b.tenant.ID, crm.IdentityWebchat, anon.ExternalID)
	require.NoError(t, err)
	k, err := b.store.OwnerOf(b.ctx, b.tenant.ID, crm.IdentityWebchat, known.ExternalID)
	require.NoError(t, err)
	_, err = b.store.OwnerOf(b.ctx, b.tenant.ID, crm.IdentityWebchat, "visitor-never-seen")

	require.False(t, a.Verified)
	require.True(t, k.Verified)
	require.Equal(t, r.ContactID, k.ContactID)
	require.Equal(t, "Mario Rossi", k.Name)
	require.ErrorIs(t, err, crm.ErrNotFound)
}

func TestEnsureContactMakesOneContactForConcurrentFirstActions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	claim := webchatClaim("")
	ids := make([]int64, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := b.store.EnsureContact(b.ctx, b.tenant.ID, claim)
			require.NoError(t, err)
			ids[i] = id
		}()
	}
	wg.Wait()

	for _, id := range ids {
		require.Equal(t, ids[0], id)
	}
}

func spid(n int) crm.IdentityClaim {
	return crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale, ExternalID: codiceFiscale(n), Verified: true,
		VerifiedBy: crm.VerifiedSPID, GivenName: "Mario", FamilyName: "Rossi"}
}

func TestSignInOfANewVisitorJoinsTheVerifiedCitizen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	visitor := webchatClaim("")

	res, err := b.store.SignIn(b.ctx, b.tenant.ID, visitor, spid(1), "Accesso con SPID dalla web chat")

	require.NoError(t, err)
	require.Zero(t, res.MergedID)
	c := b.contact(t, res.ContactID)
	require.Equal(t, codiceFiscale(1), c.CodiceFiscale)
	require.Equal(t, "Mario Rossi", c.DisplayName)
	require.Len(t, c.Identities, 2)
	owner, err := b.store.OwnerOf(b.ctx, b.tenant.ID, crm.IdentityWebchat, visitor.ExternalID)
	require.NoError(t, err)
	require.Equal(t, res.ContactID, owner.ContactID)
	require.Len(t, b.auditEntries(t, res.ContactID, "contact.sign_in"), 1)
}

func TestSignInOfAnAnonymousVisitorVerifiesTheirOwnContact(t *testing.T) {
	t.Parallel()
	b := setup(t)
	visitor := webchatClaim("")
	conv := b.ingest(t, inbound(visitor, "Buongiorno")).Message.ConversationID
	anonymous := b.conversation(t, conv).ContactID

	res, err := b.store.SignIn(b.ctx, b.tenant.ID, visitor, spid(1), "Accesso con SPID dalla web chat")

	require.NoError(t, err)
	require.Equal(t, anonymous, res.ContactID, "nothing to merge: the proof was new")
	require.Zero(t, res.MergedID)
	require.Equal(t, codiceFiscale(1), b.contact(t, anonymous).CodiceFiscale)
}

func TestSignInMergesTheAnonymousVisitorIntoTheKnownCitizen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	known := b.importCitizen(t, citizenRecord(1, "Mario", "Rossi"))
	visitor := webchatClaim("")
	conv := b.ingest(t, inbound(visitor, "Buongiorno")).Message.ConversationID
	anonymous := b.conversation(t, conv).ContactID

	res, err := b.store.SignIn(b.ctx, b.tenant.ID, visitor, spid(1), "Accesso con SPID dalla web chat")

	require.NoError(t, err)
	require.Equal(t, known, res.ContactID)
	require.Equal(t, anonymous, res.MergedID)
	require.Equal(t, known, b.conversation(t, conv).ContactID)
	require.Equal(t, &known, b.contact(t, anonymous).MergedInto)
	merges := b.auditEntries(t, known, "contact.merge")
	require.Len(t, merges, 1)
	require.Equal(t, "Accesso con SPID dalla web chat", merges[0].Reason)
}

func TestSignInNeverJoinsTwoVerifiedPeople(t *testing.T) {
	t.Parallel()
	b := setup(t)
	visitor := webchatClaim("")
	first, err := b.store.SignIn(b.ctx, b.tenant.ID, visitor, spid(1), "prova")
	require.NoError(t, err)
	b.importCitizen(t, citizenRecord(2, "Anna", "Verdi"))

	for _, proof := range []crm.IdentityClaim{spid(2), spid(3), {Kind: crm.IdentityWebchat, ExternalID: "u-signed-user-43",
		Verified: true, VerifiedBy: crm.VerifiedSignedIdentity}} {
		_, err = b.store.SignIn(b.ctx, b.tenant.ID, visitor, proof, "prova")
		require.ErrorIs(t, err, crm.ErrAnotherPerson, "proof %s", proof.ExternalID)
	}

	c := b.contact(t, first.ContactID)
	require.Equal(t, codiceFiscale(1), c.CodiceFiscale)
	require.Nil(t, c.MergedInto)
}

func TestSigningInAgainChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	visitor := webchatClaim("")
	first, err := b.store.SignIn(b.ctx, b.tenant.ID, visitor, spid(1), "prova")
	require.NoError(t, err)

	again, err := b.store.SignIn(b.ctx, b.tenant.ID, visitor, spid(1), "prova")

	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Len(t, b.auditEntries(t, first.ContactID, "contact.sign_in"), 1)
}

func TestSignInNeedsAVerifiedProof(t *testing.T) {
	t.Parallel()
	b := setup(t)
	proof := spid(1)
	proof.Verified = false

	_, err := b.store.SignIn(b.ctx, b.tenant.ID, webchatClaim(""), proof, "prova")

	requireInvalidField(t, err, "verified")
}
