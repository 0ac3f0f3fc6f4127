package webchat_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/web/citizenauth"
)

// siteSecret is what the ente's website signs its users' ids with.
const siteSecret = "il segreto condiviso con il sito del Comune, abbastanza lungo"

func (e *env) withSiteSecret() {
	e.t.Helper()
	require.NoError(e.t, e.store.SetWebchatIdentitySecret(e.ctx, e.tenant.ID, []byte(siteSecret)))
}

func signed(userID, name string) map[string]any {
	return map[string]any{"user_id": userID, "hash": citizenauth.SignIdentity([]byte(siteSecret), userID),
		"name": name, "email": "mario.rossi@example.it"}
}

func TestASignedIdentityMakesTheVisitorThatUser(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.withSiteSecret()

	c, w := e.connect(hello{Identity: signed("utente-42", "Mario Rossi")})
	require.True(t, w.Contact.Verified)
	require.Equal(t, "Mario Rossi", w.Contact.Name)
	c.say("c-signed-user", "Buongiorno")
	conv := c.ack("c-signed-user").conversation()

	// The same user on another device finds the same conversation.
	_, other := e.connect(hello{Identity: signed("utente-42", "Mario Rossi")})
	require.NotEqual(t, w.Visitor, other.Visitor)
	require.Equal(t, conv, other.conversation())
	contact, err := e.store.Contact(e.ctx, e.tenant.ID, e.conversation(conv).ContactID)
	require.NoError(t, err)
	var verified []crm.Identity
	for _, id := range contact.Identities {
		if id.Verified {
			verified = append(verified, id)
		}
	}
	require.Len(t, verified, 1)
	require.Equal(t, crm.VerifiedSignedIdentity, verified[0].VerifiedBy)
	require.Equal(t, "mario.rossi@example.it", contact.Email)
}

func TestASignedCodiceFiscaleJoinsTheCitizensContact(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.withSiteSecret()
	cf := "RSSMRA80A01H501U"
	known, err := e.store.EnsureContact(e.ctx, e.tenant.ID, crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale,
		ExternalID: cf, Verified: true, VerifiedBy: crm.VerifiedImport, GivenName: "Mario", FamilyName: "Rossi"})
	require.NoError(t, err)

	c, w := e.connect(hello{Identity: signed(cf, "")})
	c.say("c-signed-cf", "Buongiorno")
	conv := c.ack("c-signed-cf").conversation()

	require.True(t, w.Contact.Verified)
	require.Equal(t, "Mario Rossi", w.Contact.Name)
	require.Equal(t, known, e.conversation(conv).ContactID)
}

func TestAnIdentityWithAWrongSignatureIsRefusedAndTheChatGoesOnAnonymously(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.withSiteSecret()
	forged := signed("utente-42", "Mario Rossi")
	forged["hash"] = citizenauth.SignIdentity([]byte("un altro segreto, non quello del Comune"), "utente-42")

	c, w := e.connect(hello{Identity: forged})

	require.False(t, w.Contact.Verified)
	f := c.errorFrame()
	require.Equal(t, "bad_identity", f.Code)
	c.say("c-anonymous-after-all", "Buongiorno")
	conv := c.ack("c-anonymous-after-all").conversation()
	contact, err := e.store.Contact(e.ctx, e.tenant.ID, e.conversation(conv).ContactID)
	require.NoError(t, err)
	require.Len(t, contact.Identities, 1)
	require.False(t, contact.Identities[0].Verified)
}

func TestWithoutASecretNoIdentityIsAccepted(t *testing.T) {
	t.Parallel()
	e := setup(t)

	c, w := e.connect(hello{Identity: signed("utente-42", "Mario Rossi")})

	require.False(t, w.Contact.Verified)
	require.Equal(t, "bad_identity", c.errorFrame().Code)
}

func TestAnotherUserSignedInOnTheSameBrowserGetsANewVisitor(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.withSiteSecret()
	first, w := e.connect(hello{Identity: signed("utente-42", "Mario Rossi")})
	first.say("c-mario-rossi", "Sono Mario")
	marioConv := first.ack("c-mario-rossi").conversation()
	first.ws.Close()

	// Mario leaves the library's computer; Anna signs in on the same site.
	second, w2 := e.connect(hello{Visitor: w.Visitor, Identity: signed("utente-43", "Anna Verdi")})

	require.NotEqual(t, w.Visitor, w2.Visitor)
	require.Equal(t, "Anna Verdi", w2.Contact.Name)
	require.Nil(t, w2.ConversationID, "Anna does not see Mario's conversation")
	second.say("c-anna-verdi", "Sono Anna")
	require.NotEqual(t, marioConv, second.ack("c-anna-verdi").conversation())
	// And Mario, back on the old token, is still Mario.
	_, again := e.connect(hello{Visitor: w.Visitor})
	require.Equal(t, marioConv, again.conversation())
}
