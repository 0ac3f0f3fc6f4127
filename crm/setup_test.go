package crm_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/testdb"
)

// testPassword is the password of every staff member that setup makes.
const testPassword = "correct horse battery staple"

// comuneDiMilano is a real creditor fiscal code (the Comune di Milano's), valid
// for the tenants and the avvisi of the tests.
const comuneDiMilano = "01199250158"

// bundle is what a test of the store needs: a store on the test database, a
// tenant of its own (so that tests run in parallel without seeing each other's
// rows), its first team, and one staff member per role.
type bundle struct {
	ctx    context.Context
	pool   *pgxpool.Pool
	store  *crm.Store
	tenant crm.Tenant
	team   crm.Team

	operator      crm.Staff
	supervisor    crm.Staff
	communication crm.Staff
	admin         crm.Staff
}

func setup(t *testing.T) *bundle {
	t.Helper()
	pool := testdb.New(t)
	b := &bundle{ctx: t.Context(), pool: pool, store: crm.NewStore(pool)}
	slug := "comune-" + randomHex(6)
	var err error
	b.tenant, err = b.store.EnsureTenant(b.ctx, slug, "Comune di Prova "+slug, comuneDiMilano)
	require.NoError(t, err)
	b.team, err = b.store.EnsureTeam(b.ctx, b.tenant.ID, "urp", "Ufficio Relazioni con il Pubblico")
	require.NoError(t, err)
	b.operator = b.newStaff(t, "Olga Operatrice", crm.RoleOperator)
	b.supervisor = b.newStaff(t, "Sergio Supervisore", crm.RoleSupervisor)
	b.communication = b.newStaff(t, "Carla Comunicazione", crm.RoleCommunication)
	b.admin = b.newStaff(t, "Aldo Amministratore", crm.RoleAdmin)
	return b
}

// newStaff makes a staff member of the bundle's tenant with a unique e-mail
// address and testPassword, in the bundle's team.
func (b *bundle) newStaff(t *testing.T, name string, roles ...crm.Role) crm.Staff {
	t.Helper()
	st, err := b.store.EnsureStaff(b.ctx, b.tenant.ID, crm.StaffInput{
		Email:    "staff-" + randomHex(6) + "@" + b.tenant.Slug + ".example.it",
		Name:     name,
		Roles:    roles,
		Password: testPassword,
	})
	require.NoError(t, err)
	require.NoError(t, b.store.AddTeamMember(b.ctx, b.tenant.ID, b.team.ID, st.ID))
	return st
}

// resolve runs ResolveContact in a transaction of its own, as callers should.
func (b *bundle) resolve(claim crm.IdentityClaim) (crm.Resolution, error) {
	var r crm.Resolution
	err := b.store.InTx(b.ctx, func(tx *crm.Store) error {
		var err error
		r, err = tx.ResolveContact(b.ctx, b.tenant.ID, claim)
		return err
	})
	return r, err
}

func (b *bundle) mustResolve(t *testing.T, claim crm.IdentityClaim) crm.Resolution {
	t.Helper()
	r, err := b.resolve(claim)
	require.NoError(t, err)
	return r
}

// visitor makes a contact known only by a web-chat visitor id, with a name and
// optional e-mail hint, and returns its id.
func (b *bundle) visitor(t *testing.T, name, email string) int64 {
	t.Helper()
	c := webchatClaim(name)
	c.Email = email
	r := b.mustResolve(t, c)
	require.True(t, r.Created)
	return r.ContactID
}

func (b *bundle) contact(t *testing.T, id int64) crm.Contact {
	t.Helper()
	c, err := b.store.Contact(b.ctx, b.tenant.ID, id)
	require.NoError(t, err)
	return c
}

func (b *bundle) ingest(t *testing.T, in crm.InboundMessage) crm.IngestResult {
	t.Helper()
	r, err := b.store.Ingest(b.ctx, b.tenant.ID, in)
	require.NoError(t, err)
	return r
}

// openConversation ingests a first web-chat message of a new visitor and returns
// the conversation it opened, queued in the bundle's team and unassigned.
func (b *bundle) openConversation(t *testing.T, name string) crm.Conversation {
	t.Helper()
	r := b.ingest(t, inbound(webchatClaim(name), "Buongiorno, vorrei informazioni sulla TARI."))
	require.True(t, r.NewConversation)
	return b.conversation(t, r.Message.ConversationID)
}

func (b *bundle) conversation(t *testing.T, id int64) crm.Conversation {
	t.Helper()
	c, err := b.store.Conversation(b.ctx, b.tenant.ID, id)
	require.NoError(t, err)
	return c
}

// importCitizen imports one fascicolo record and returns the id of its contact.
func (b *bundle) importCitizen(t *testing.T, rec crm.FascicoloRecord) int64 {
	t.Helper()
	_, err := b.store.ImportFascicolo(b.ctx, b.admin.Actor(), []crm.FascicoloRecord{rec})
	require.NoError(t, err)
	return b.contactByCodiceFiscale(t, rec.CodiceFiscale)
}

func (b *bundle) contactByCodiceFiscale(t *testing.T, cf string) int64 {
	t.Helper()
	found, err := b.store.SearchContacts(b.ctx, b.tenant.ID, crm.ContactQuery{CodiceFiscale: cf})
	require.NoError(t, err)
	require.Len(t, found, 1, "contacts with codice fiscale %s", cf)
	return found[0].ID
}

// auditEntries returns the tenant's audit entries about a contact with this action.
func (b *bundle) auditEntries(t *testing.T, contactID int64, action string) []crm.AuditEntry {
	t.Helper()
	es, err := b.store.AuditLog(b.ctx, b.supervisor.Actor(), crm.AuditQuery{ContactID: contactID, Action: action})
	require.NoError(t, err)
	return es
}

func webchatClaim(name string) crm.IdentityClaim {
	return crm.IdentityClaim{Kind: crm.IdentityWebchat, ExternalID: "visitor-" + randomHex(8), DisplayName: name}
}

// inbound is a web-chat message from the claimed sender with a fresh external id.
func inbound(from crm.IdentityClaim, text string) crm.InboundMessage {
	return crm.InboundMessage{Channel: crm.ChannelWebchat, ExternalID: "msg-" + randomHex(8), From: from, Text: text}
}

// codiceFiscale returns the n-th of a family of valid, canonical codici fiscali.
func codiceFiscale(n int) string {
	return withCheck(fmt.Sprintf("RSSMRA80A01H%03d", n))
}

// noticeNumber returns the n-th of a family of valid pagoPA notice numbers.
func noticeNumber(n int) string {
	return crm.NoticeNumberWithCheck("3", "01", fmt.Sprintf("%013d", n))
}

// day is midnight UTC of the day that is days away from today.
func day(days int) time.Time {
	return time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, days)
}

// citizenRecord is the fascicolo record of the citizen with codiceFiscale(n),
// with one item of every kind: a pratica with a two-step timeline, an unpaid
// avviso due in a month, a document and an appointment.
func citizenRecord(n int, given, family string) crm.FascicoloRecord {
	cf := codiceFiscale(n)
	opened := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	return crm.FascicoloRecord{
		CodiceFiscale: cf,
		GivenName:     given,
		FamilyName:    family,
		Pratiche: []crm.Pratica{{
			Reference: "PG-" + cf, Type: "residenza", Title: "Cambio di residenza", Office: "Anagrafe",
			OpenedAt: opened,
			Timeline: []crm.PraticaEvent{
				{Status: "presentata", OccurredAt: opened},
				{Status: "in istruttoria", Note: "Verifica della Polizia Locale", OccurredAt: opened.Add(72 * time.Hour)},
			},
		}},
		Avvisi: []crm.Avviso{{
			NoticeNumber: noticeNumber(n), CreditorFiscalCode: comuneDiMilano,
			Description: "TARI 2025, prima rata", AmountCents: 12850, DueDate: crm.Date{Time: day(30)},
		}},
		Documents: []crm.Document{{
			Reference: "DOC-" + cf, Kind: "certificato", Title: "Certificato di residenza", IssuedAt: opened,
		}},
		Appointments: []crm.Appointment{{
			Reference: "APP-" + cf, Service: "Carta d'identità elettronica", Location: "Via Larga 12",
			Mode: "in_person", StartsAt: day(7).Add(9 * time.Hour), EndsAt: day(7).Add(9*time.Hour + 20*time.Minute),
			Status: "booked",
		}},
	}
}

// requireInvalidField asserts that err is ErrInvalid about the named field.
func requireInvalidField(t *testing.T, err error, field string) {
	t.Helper()
	require.ErrorIs(t, err, crm.ErrInvalid)
	var fe *crm.FieldError
	require.True(t, errors.As(err, &fe), "want a *crm.FieldError, got %T: %v", err, err)
	require.Equal(t, field, fe.Field, "field of %v", err)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
