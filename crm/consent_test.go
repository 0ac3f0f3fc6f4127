package crm_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestConsentsInForceAreTheNewestDecisionPerChannelAndPurpose(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.visitor(t, "Mario Rossi", "")
	record := func(channel, purpose string, granted bool, source string) crm.Consent {
		t.Helper()
		c, err := b.store.RecordConsent(b.ctx, b.communication.Actor(), id, crm.ConsentInput{
			Channel: channel, Purpose: purpose, Granted: granted, Source: source})
		require.NoError(t, err)
		return c
	}
	record("email", crm.PurposeInformation, true, "modulo web")
	service := record("email", crm.PurposeService, true, "modulo web")
	revoked := record("email", crm.PurposeInformation, false, "link di disiscrizione")
	telegram := record("telegram", crm.PurposeInformation, true, "comando /iscriviti")

	inForce, err := b.store.Consents(b.ctx, b.tenant.ID, id, false)

	require.NoError(t, err)
	require.Equal(t, []crm.Consent{revoked, service, telegram}, inForce)
}

func TestConsentsHistoryKeepsEveryDecision(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.visitor(t, "Mario Rossi", "")
	var recorded []crm.Consent
	for _, granted := range []bool{true, false, true} {
		c, err := b.store.RecordConsent(b.ctx, b.operator.Actor(), id, crm.ConsentInput{
			Channel: "appio", Purpose: crm.PurposeService, Granted: granted, Source: "sportello"})
		require.NoError(t, err)
		recorded = append([]crm.Consent{c}, recorded...)
	}

	history, err := b.store.Consents(b.ctx, b.tenant.ID, id, true)

	require.NoError(t, err)
	require.Equal(t, recorded, history, "newest first")
	require.Equal(t, &b.operator.ID, history[0].RecordedBy)
	require.Len(t, b.auditEntries(t, id, "consent.record"), 3)
}

func TestRecordConsentRejectsInvalidInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    crm.ConsentInput
		field string
	}{
		{"unknown channel", crm.ConsentInput{Channel: "fax", Purpose: crm.PurposeService, Source: "web"}, "channel"},
		{"unknown purpose", crm.ConsentInput{Channel: "email", Purpose: "marketing", Source: "web"}, "purpose"},
		{"no source", crm.ConsentInput{Channel: "email", Purpose: crm.PurposeService, Source: " "}, "source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			id := b.visitor(t, "Mario Rossi", "")

			_, err := b.store.RecordConsent(b.ctx, b.operator.Actor(), id, tt.in)

			requireInvalidField(t, err, tt.field)
			history, err := b.store.Consents(b.ctx, b.tenant.ID, id, true)
			require.NoError(t, err)
			require.Empty(t, history)
		})
	}
}
