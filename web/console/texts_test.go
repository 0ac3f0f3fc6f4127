package console

import (
	"io/fs"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/knowledge"
)

func TestCatalogueHasEveryTextInBothLanguages(t *testing.T) {
	require.Empty(t, texts.Missing())

	files, err := templateFiles()
	require.NoError(t, err)
	used := regexp.MustCompile(`\{\{-?\s*t "([a-z0-9_.]+)"`)
	for _, f := range files {
		b, err := fs.ReadFile(templateFS, f)
		require.NoError(t, err)
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			require.Contains(t, texts, m[1], "%s uses a text that is not in the catalogue", f)
		}
	}
}

func TestCatalogueNamesEveryValueShown(t *testing.T) {
	var keys []string
	for _, ch := range crm.Channels {
		keys = append(keys, "channel."+string(ch))
	}
	for _, st := range []crm.Status{crm.StatusAssistant, crm.StatusQueued, crm.StatusAssigned, crm.StatusResolved} {
		keys = append(keys, "status."+string(st))
	}
	for p := crm.PriorityLow; p <= crm.PriorityUrgent; p++ {
		keys = append(keys, "priority."+strconv.Itoa(p))
	}
	for _, k := range []crm.IdentityKind{crm.IdentityWebchat, crm.IdentityEmail, crm.IdentityTelegram,
		crm.IdentityCodiceFiscale, crm.IdentityPhone} {
		keys = append(keys, "identity."+string(k))
	}
	for _, m := range []string{crm.VerifiedSPID, crm.VerifiedCIE, crm.VerifiedOIDC, crm.VerifiedEmailLink,
		crm.VerifiedTelegram, crm.VerifiedOperator, crm.VerifiedImport, crm.VerifiedSignedIdentity} {
		keys = append(keys, "verified_by."+m)
	}
	for _, d := range []crm.DeliveryStatus{crm.DeliveryReceived, crm.DeliveryPending, crm.DeliverySent,
		crm.DeliveryDelivered, crm.DeliveryRead, crm.DeliveryFailed} {
		keys = append(keys, "delivery."+string(d))
	}
	for _, a := range []crm.Availability{crm.Available, crm.Away} {
		keys = append(keys, "availability."+string(a), "availability.saved."+string(a))
	}
	for _, ch := range []string{"webchat", "email", "telegram", "appio", "sms", "phone"} {
		keys = append(keys, "consent_channel."+ch)
	}
	keys = append(keys, "purpose."+crm.PurposeService, "purpose."+crm.PurposeInformation)
	for _, k := range []string{crm.AnswerKnowledge, crm.AnswerUnknown, crm.AnswerPersonal, crm.AnswerLogin,
		crm.AnswerHandoff, crm.AnswerGreeting, crm.AnswerThanks} {
		keys = append(keys, "answer.kind."+k)
	}
	for _, r := range []string{crm.HandoffRequested, crm.HandoffFailures, crm.HandoffDistress, crm.HandoffPersonal} {
		keys = append(keys, "handoff.reason."+r)
	}
	for _, f := range []knowledge.Format{knowledge.Markdown, knowledge.Text, knowledge.HTML, knowledge.PDF} {
		keys = append(keys, "source.format."+string(f))
	}
	for _, o := range []knowledge.Outcome{knowledge.Added, knowledge.Replaced, knowledge.Unchanged} {
		keys = append(keys, "upload.done."+o.String(), "urls.outcome."+o.String())
	}
	for _, k := range keys {
		require.Contains(t, texts, k)
	}
}

func TestFormatEuro(t *testing.T) {
	tests := []struct {
		cents  int64
		it, en string
	}{
		{0, "€ 0,00", "€0.00"},
		{5, "€ 0,05", "€0.05"},
		{12850, "€ 128,50", "€128.50"},
		{123456, "€ 1.234,56", "€1,234.56"},
		{123456789, "€ 1.234.567,89", "€1,234,567.89"},
		{-2500, "-€ 25,00", "-€25.00"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.it, formatEuro("it", tt.cents))
		require.Equal(t, tt.en, formatEuro("en", tt.cents))
	}
}

func TestFormatDuration(t *testing.T) {
	require.Equal(t, "45 s", formatDuration("it", 45*time.Second))
	require.Equal(t, "12 min", formatDuration("it", 12*time.Minute+30*time.Second))
	require.Equal(t, "2 h 05 min", formatDuration("it", 2*time.Hour+5*time.Minute))
	require.Equal(t, "3 g", formatDuration("it", 72*time.Hour))
	require.Equal(t, "3 d", formatDuration("en", 72*time.Hour))
	require.Equal(t, "0 s", formatDuration("it", -time.Second))
}

func TestLocalPathKeepsRedirectsInTheConsole(t *testing.T) {
	for in, want := range map[string]string{
		"/console":                     "/console",
		"/console?tab=mine":            "/console?tab=mine",
		"/console/conversations/3":     "/console/conversations/3",
		"//evil.example/console":       "/def",
		"https://evil.example/console": "/def",
		"/console/..//evil.example":    "/def",
		`/console/\evil`:               "/def",
		"/api/v1/me":                   "/def",
		"":                             "/def",
		"/consolex":                    "/def",
	} {
		require.Equal(t, want, localPath(in, "/def"), in)
	}
}
