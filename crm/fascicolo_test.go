package crm_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestImportFascicoloCreatesTheContactByVerifiedCodiceFiscale(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := citizenRecord(20, "Mario", "Rossi")
	rec.CodiceFiscale = crm.OmocodiaVariant(rec.CodiceFiscale, 2)
	rec.Email = "Mario.Rossi@example.it"

	res, err := b.store.ImportFascicolo(b.ctx, b.admin.Actor(), []crm.FascicoloRecord{rec})

	require.NoError(t, err)
	require.Equal(t, crm.ImportResult{Contacts: 1, ContactsCreated: 1, Pratiche: 1, Events: 2, Avvisi: 1,
		Documents: 1, Appointments: 1}, res)
	c := b.contact(t, b.contactByCodiceFiscale(t, codiceFiscale(20)))
	require.Equal(t, codiceFiscale(20), c.CodiceFiscale)
	require.Equal(t, "Mario Rossi", c.DisplayName)
	require.Equal(t, "mario.rossi@example.it", c.Email)
	require.Len(t, c.Identities, 1)
	require.Equal(t, crm.IdentityCodiceFiscale, c.Identities[0].Kind)
	require.True(t, c.Identities[0].Verified)
	require.Equal(t, crm.VerifiedImport, c.Identities[0].VerifiedBy)
}

func TestImportFascicoloFillsTheFascicoloOfAnExistingContact(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.mustResolve(t, crm.IdentityClaim{Kind: crm.IdentityCodiceFiscale, ExternalID: codiceFiscale(21),
		Verified: true, VerifiedBy: crm.VerifiedSPID}).ContactID

	res, err := b.store.ImportFascicolo(b.ctx, b.admin.Actor(), []crm.FascicoloRecord{citizenRecord(21, "Mario", "Rossi")})

	require.NoError(t, err)
	require.Equal(t, 0, res.ContactsCreated)
	f := b.fascicolo(t, id)
	require.Len(t, f.Pratiche, 1)
	require.Equal(t, "Mario Rossi", f.Contact.DisplayName, "the import fills the details the contact lacks")
}

func TestImportFascicoloIsIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	records := []crm.FascicoloRecord{citizenRecord(22, "Mario", "Rossi"), citizenRecord(23, "Anna", "Verdi")}
	first, err := b.store.ImportFascicolo(b.ctx, b.admin.Actor(), records)
	require.NoError(t, err)
	id := b.contactByCodiceFiscale(t, codiceFiscale(22))
	before := b.fascicolo(t, id)

	second, err := b.store.ImportFascicolo(b.ctx, b.admin.Actor(), records)

	require.NoError(t, err)
	require.Equal(t, 2, first.ContactsCreated)
	require.Equal(t, 0, second.ContactsCreated)
	first.ContactsCreated = 0
	require.Equal(t, first, second)
	require.Len(t, b.activeContacts(t), 2)
	require.Equal(t, before, b.fascicolo(t, id), "no row is added or changed")
}

func TestImportFascicoloUpdatesItemsByReference(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := citizenRecord(24, "Mario", "Rossi")
	id := b.importCitizen(t, rec)
	rec.Avvisi[0].Status, rec.Avvisi[0].PaidAt = "paid", new(time.Now().UTC().Truncate(time.Second))
	rec.Pratiche[0].Timeline = append(rec.Pratiche[0].Timeline, crm.PraticaEvent{
		Status: "conclusa", OccurredAt: rec.Pratiche[0].OpenedAt.Add(240 * time.Hour)})

	b.importCitizen(t, rec)

	f := b.fascicolo(t, id)
	require.Len(t, f.Avvisi, 1)
	require.Equal(t, "paid", f.Avvisi[0].Status)
	require.Len(t, f.Pratiche, 1)
	require.Equal(t, "conclusa", f.Pratiche[0].Status)
	require.Len(t, f.Pratiche[0].Timeline, 3)
}

func TestImportFascicoloIsAllOrNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		spoil func(r *crm.FascicoloRecord)
		field string
	}{
		{"invalid codice fiscale", func(r *crm.FascicoloRecord) { r.CodiceFiscale = "RSSMRA80A01H501X" },
			"records[3].codice_fiscale"},
		{"invalid notice number", func(r *crm.FascicoloRecord) { r.Avvisi[0].NoticeNumber = "301011100007347558" },
			"records[3].avvisi[0].notice_number"},
		{"invalid creditor", func(r *crm.FascicoloRecord) { r.Avvisi[0].CreditorFiscalCode = "01199250159" },
			"records[3].avvisi[0].creditor_fiscal_code"},
		{"paid avviso without a payment time", func(r *crm.FascicoloRecord) { r.Avvisi[0].Status = "paid" },
			"records[3].avvisi[0].paid_at"},
		{"zero amount", func(r *crm.FascicoloRecord) { r.Avvisi[0].AmountCents = 0 },
			"records[3].avvisi[0].amount_cents"},
		{"pratica without a title", func(r *crm.FascicoloRecord) { r.Pratiche[0].Title = "" },
			"records[3].pratiche[0].title"},
		{"timeline step without a time", func(r *crm.FascicoloRecord) { r.Pratiche[0].Timeline[1].OccurredAt = time.Time{} },
			"records[3].pratiche[0].timeline[1].occurred_at"},
		{"appointment ending before it starts", func(r *crm.FascicoloRecord) {
			r.Appointments[0].EndsAt = r.Appointments[0].StartsAt.Add(-time.Minute)
		}, "records[3].appointments[0].ends_at"},
		{"unknown appointment mode", func(r *crm.FascicoloRecord) { r.Appointments[0].Mode = "carrier pigeon" },
			"records[3].appointments[0].mode"},
		{"invalid phone", func(r *crm.FascicoloRecord) { r.Phone = "call me" }, "records[3].phone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var records []crm.FascicoloRecord
			for i := range 5 {
				records = append(records, citizenRecord(30+i, "Mario", "Rossi"))
			}
			tt.spoil(&records[3])

			_, err := b.store.ImportFascicolo(b.ctx, b.admin.Actor(), records)

			requireInvalidField(t, err, tt.field)
			require.Empty(t, b.activeContacts(t), "nothing is written")
			require.Empty(t, b.auditEntries(t, 0, "fascicolo.import"))
		})
	}
}

func TestImportFascicoloWritesNothingWhenALaterRecordConflicts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// A contact with a verified codice fiscale and, claimed by mistake, another
	// one: importing the other as verified is a conflict found only while writing.
	holder := b.importCitizen(t, citizenRecord(60, "Mario", "Rossi"))
	_, err := b.store.AddIdentity(b.ctx, b.operator.Actor(), holder, crm.IdentityClaim{
		Kind: crm.IdentityCodiceFiscale, ExternalID: codiceFiscale(63)})
	require.NoError(t, err)
	records := []crm.FascicoloRecord{citizenRecord(61, "Anna", "Verdi"), citizenRecord(62, "Bruno", "Gialli"),
		citizenRecord(64, "Carla", "Blu"), citizenRecord(63, "Mario", "Rossi")}

	_, err = b.store.ImportFascicolo(b.ctx, b.admin.Actor(), records)

	require.ErrorIs(t, err, crm.ErrConflict)
	contacts := b.activeContacts(t)
	require.Len(t, contacts, 1, "the records before the conflict are rolled back")
	require.Equal(t, holder, contacts[0].ID)
	require.Len(t, b.auditEntries(t, 0, "fascicolo.import"), 1)
}

func TestImportFascicoloIsOnlyForAdmins(t *testing.T) {
	t.Parallel()
	b := setup(t)

	_, err := b.store.ImportFascicolo(b.ctx, b.supervisor.Actor(), []crm.FascicoloRecord{citizenRecord(40, "Mario", "Rossi")})

	require.ErrorIs(t, err, crm.ErrForbidden)
	require.Empty(t, b.activeContacts(t))
}

func TestFascicoloDerivesOverdueAvvisi(t *testing.T) {
	t.Parallel()
	b := setup(t)
	paidAt := time.Now().UTC().Truncate(time.Second)
	rec := citizenRecord(41, "Mario", "Rossi")
	rec.Avvisi = nil
	tests := []struct {
		description string
		due         int // days from today
		status      string
		overdue     bool
	}{
		{"unpaid, due last week", -7, "unpaid", true},
		{"unpaid, due next week", 7, "unpaid", false},
		{"paid, due last week", -7, "paid", false},
		{"cancelled, due last week", -7, "cancelled", false},
	}
	for i, tt := range tests {
		a := crm.Avviso{NoticeNumber: noticeNumber(100 + i), CreditorFiscalCode: comuneDiMilano,
			Description: tt.description, AmountCents: 5000, DueDate: crm.Date{Time: day(tt.due)}, Status: tt.status}
		if tt.status == "paid" {
			a.PaidAt = &paidAt
		}
		rec.Avvisi = append(rec.Avvisi, a)
	}
	id := b.importCitizen(t, rec)

	f := b.fascicolo(t, id)

	overdue := map[string]bool{}
	for _, a := range f.Avvisi {
		overdue[a.Description] = a.Overdue
	}
	for _, tt := range tests {
		require.Equal(t, tt.overdue, overdue[tt.description], tt.description)
	}
}

func TestFascicoloReadIsAudited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.importCitizen(t, citizenRecord(42, "Mario", "Rossi"))

	_, err := b.store.Fascicolo(b.ctx, b.operator.Actor(), id, "richiesta del cittadino in chat")
	require.NoError(t, err)

	es := b.auditEntries(t, id, "fascicolo.read")
	require.Len(t, es, 1)
	require.Equal(t, crm.ActorStaff, es[0].ActorKind)
	require.Equal(t, b.operator.ID, es[0].ActorID)
	require.Equal(t, "richiesta del cittadino in chat", es[0].Reason)
	require.Equal(t, float64(1), es[0].Detail["pratiche"])
}

func TestFascicoloReadAndItsAuditShareTheCallersTransaction(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.importCitizen(t, citizenRecord(43, "Mario", "Rossi"))
	errRollback := errors.New("roll back")

	err := b.store.InTx(b.ctx, func(tx *crm.Store) error {
		if _, err := tx.Fascicolo(b.ctx, b.operator.Actor(), id, "verifica"); err != nil {
			return err
		}
		var n int
		if err := tx.DB().QueryRow(b.ctx, `SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND action = 'fascicolo.read'`,
			b.tenant.ID).Scan(&n); err != nil {
			return err
		}
		require.Equal(t, 1, n, "the record exists inside the transaction")
		return errRollback
	})

	require.ErrorIs(t, err, errRollback)
	require.Empty(t, b.auditEntries(t, id, "fascicolo.read"), "and goes with it")
}

func TestFascicoloIsForbiddenToCommunicationStaffAndNotAudited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.importCitizen(t, citizenRecord(44, "Mario", "Rossi"))

	_, err := b.store.Fascicolo(b.ctx, b.communication.Actor(), id, "campagna informativa")

	require.ErrorIs(t, err, crm.ErrForbidden)
	require.Empty(t, b.auditEntries(t, id, "fascicolo.read"))
}

func TestFascicoloOfAMergedContactIsNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	source := b.importCitizen(t, citizenRecord(45, "Mario", "Rossi"))
	target := b.visitor(t, "Mario Rossi", "")
	b.merge(t, target, source)

	_, err := b.store.Fascicolo(b.ctx, b.operator.Actor(), source, "verifica")

	require.ErrorIs(t, err, crm.ErrNotFound)
	require.Empty(t, b.auditEntries(t, source, "fascicolo.read"))
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.importCitizen(t, citizenRecord(46, "Mario", "Rossi"))
	require.NotEmpty(t, b.auditEntries(t, id, ""))

	for _, stmt := range []string{
		`UPDATE audit_log SET reason = 'cancellato' WHERE tenant_id = $1`,
		`DELETE FROM audit_log WHERE tenant_id = $1`,
	} {
		_, err := b.pool.Exec(b.ctx, stmt, b.tenant.ID)
		require.ErrorContains(t, err, "audit_log is append-only", stmt)
	}
	es := b.auditEntries(t, id, "")
	require.NotEmpty(t, es)
	for _, e := range es {
		require.Empty(t, e.Reason)
	}
}

func TestAuditLogFiltersAndPagesBackwards(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.importCitizen(t, citizenRecord(47, "Mario", "Rossi"))
	second := b.importCitizen(t, citizenRecord(48, "Anna", "Verdi"))
	for _, id := range []int64{first, second, first} {
		b.fascicolo(t, id)
	}

	reads := b.auditEntries(t, first, "fascicolo.read")
	require.Len(t, reads, 2)
	require.Greater(t, reads[0].ID, reads[1].ID, "newest first")
	older, err := b.store.AuditLog(b.ctx, b.supervisor.Actor(), crm.AuditQuery{ContactID: first, BeforeID: reads[0].ID})
	require.NoError(t, err)
	require.Equal(t, []int64{reads[1].ID, b.auditEntries(t, first, "fascicolo.import")[0].ID}, auditIDs(older))
	all, err := b.store.AuditLog(b.ctx, b.supervisor.Actor(), crm.AuditQuery{Action: "fascicolo.read"})
	require.NoError(t, err)
	require.Len(t, all, 3)
	none, err := b.store.AuditLog(b.ctx, b.supervisor.Actor(), crm.AuditQuery{ContactID: 1 << 40, BeforeID: 1 << 40})
	require.NoError(t, err, "ids are 64-bit")
	require.Empty(t, none)
}

func TestAuditLogIsForSupervisors(t *testing.T) {
	t.Parallel()
	b := setup(t)

	_, err := b.store.AuditLog(b.ctx, b.operator.Actor(), crm.AuditQuery{})

	require.ErrorIs(t, err, crm.ErrForbidden)
}

func (b *bundle) fascicolo(t *testing.T, contactID int64) crm.Fascicolo {
	t.Helper()
	f, err := b.store.Fascicolo(b.ctx, b.operator.Actor(), contactID, "verifica")
	require.NoError(t, err)
	return f
}

func auditIDs(es []crm.AuditEntry) []int64 {
	ids := []int64{}
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}
