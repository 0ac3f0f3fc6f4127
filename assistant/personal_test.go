package assistant_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/assistant"
	"github.com/dialogo-pa/dialogo/crm"
)

var testNotice = crm.NoticeNumberWithCheck("3", "01", "0000000000042")

// citizen imports the fascicolo of a citizen and returns the claim with which
// they log in with SPID.
func (b *bundle) citizen(t *testing.T, n int) crm.IdentityClaim {
	t.Helper()
	cf := codiceFiscale(n)
	rome, err := time.LoadLocation("Europe/Rome")
	require.NoError(t, err)
	y, m, d := time.Now().In(rome).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, rome)
	opened := time.Date(2026, 9, 10, 9, 0, 0, 0, time.UTC)
	_, err = b.store.ImportFascicolo(b.ctx, crm.SystemActor(b.tenant.ID), []crm.FascicoloRecord{{
		CodiceFiscale: cf, GivenName: "Lucia", FamilyName: "Bianchi",
		Pratiche: []crm.Pratica{{Reference: "PG-2026-77", Type: "residenza", Title: "Cambio di residenza",
			Office: "Anagrafe", OpenedAt: opened, Timeline: []crm.PraticaEvent{
				{Status: "presentata", OccurredAt: opened},
				{Status: "in istruttoria", Note: "Verifica della Polizia Locale", OccurredAt: opened.Add(72 * time.Hour)},
			}}},
		Avvisi: []crm.Avviso{{NoticeNumber: testNotice,
			CreditorFiscalCode: comuneDiMilano, Description: "TARI 2026, prima rata", AmountCents: 123450,
			DueDate: crm.Date{Time: today.AddDate(0, 0, 30)}}},
		Appointments: []crm.Appointment{{Reference: "APP-9", Service: "Carta d'identità elettronica",
			Location: "Via Larga 12", Mode: "in_person", StartsAt: today.AddDate(0, 0, 7).Add(9 * time.Hour),
			EndsAt: today.AddDate(0, 0, 7).Add(9*time.Hour + 20*time.Minute), Status: "booked"}},
	}})
	require.NoError(t, err)
	return crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale, ExternalID: cf, Verified: true, VerifiedBy: crm.VerifiedSPID,
		DisplayName: "Lucia Bianchi"}
}

func (b *bundle) assistantReads(t *testing.T, contactID int64) []crm.AuditEntry {
	t.Helper()
	es, err := b.store.AuditLog(b.ctx, crm.SystemActor(b.tenant.ID), crm.AuditQuery{ContactID: contactID, Action: "fascicolo.read"})
	require.NoError(t, err)
	var out []crm.AuditEntry
	for _, e := range es {
		if e.ActorKind == crm.ActorAssistant {
			out = append(out, e)
		}
	}
	return out
}

func TestAnswersAVerifiedCitizenFromTheirFascicoloAndAuditsIt(t *testing.T) {
	t.Parallel()
	b := setup(t, assistant.Config{})
	spid := b.citizen(t, 11)
	res := b.say(t, spid, "A che punto è la mia pratica?")
	conv := res.Message.ConversationID
	b.work(t)
	containsAll(t, b.lastReply(t, conv), "Cambio di residenza", "PG-2026-77", "in istruttoria", "Verifica della Polizia Locale")
	require.Len(t, b.assistantReads(t, res.ContactID), 1, "the read is in the audit log")

	b.say(t, spid, "Ho avvisi da pagare?")
	b.work(t)
	containsAll(t, b.lastReply(t, conv), "1 avvisi pagoPA", "TARI 2026, prima rata", "€ 1.234,50", "codice avviso "+testNotice)

	b.say(t, spid, "Quando è il mio appuntamento?")
	b.work(t)
	containsAll(t, b.lastReply(t, conv), "Carta d'identità elettronica", "09:00", "Via Larga 12", "APP-9")
	require.Len(t, b.assistantReads(t, res.ContactID), 3)

	// Knowledge editors see that it answered, not what the fascicolo says.
	for _, a := range b.answers(t, conv) {
		require.Equal(t, crm.AnswerPersonal, a.Kind)
		require.Empty(t, a.Answer)
	}
}

func TestInvitesAnAnonymousCitizenToLogInForPersonalQuestions(t *testing.T) {
	t.Parallel()
	b := setup(t, assistant.Config{})
	b.citizen(t, 12)
	res := b.say(t, visitor(), "Ho avvisi da pagare?")
	b.work(t)
	containsAll(t, b.lastReply(t, res.Message.ConversationID), "accedi con SPID o CIE")
	require.Equal(t, crm.AnswerLogin, b.answers(t, res.Message.ConversationID)[0].Kind)
	require.Empty(t, b.assistantReads(t, res.ContactID), "nothing was read")
}

func TestNeverTellsPersonalDataByEmail(t *testing.T) {
	t.Parallel()
	b := setup(t, assistant.Config{})
	spid := b.citizen(t, 13)
	// Even a message that arrives by e-mail from a verified contact: anyone can
	// forge an e-mail's sender.
	res, err := b.store.Ingest(b.ctx, b.tenant.ID, crm.InboundMessage{Channel: crm.ChannelEmail,
		ExternalID: "<" + randomHex(6) + "@mx>", From: spid, Subject: "Pratica", Text: "A che punto è la mia pratica?"})
	require.NoError(t, err)
	b.work(t)
	reply := b.lastReply(t, res.Message.ConversationID)
	containsAll(t, reply, "non do informazioni personali per e-mail")
	require.NotContains(t, reply, "PG-2026-77")
	require.Empty(t, b.assistantReads(t, res.ContactID))
}
