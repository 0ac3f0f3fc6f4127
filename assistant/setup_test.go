package assistant_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/assistant"
	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/testdb"
	"github.com/dialogo-pa/dialogo/knowledge"
	"github.com/dialogo-pa/dialogo/knowledge/demo"
)

// comuneDiMilano is a real creditor fiscal code, valid for avvisi.
const comuneDiMilano = "01199250158"

// bundle is an ente with the assistant enabled, the demo knowledge base, three
// teams (the URP, the first, takes what no topic routes elsewhere) and an
// operator in each.
type bundle struct {
	ctx      context.Context
	pool     *pgxpool.Pool
	store    *crm.Store
	tenant   crm.Tenant
	urp      crm.Team
	tributi  crm.Team
	anagrafe crm.Team
	operator crm.Staff
	asst     *assistant.Assistant
}

// sharedPool is one database for the package: the demo knowledge base is
// ingested once per tenant, and tenants keep tests apart.
var sharedPool *pgxpool.Pool

func setup(t *testing.T, cfg assistant.Config) *bundle {
	t.Helper()
	pool := testdb.New(t)
	b := &bundle{ctx: t.Context(), pool: pool, store: crm.NewStore(pool)}
	slug := "comune-" + randomHex(5)
	var err error
	b.tenant, err = b.store.EnsureTenant(b.ctx, slug, "Comune di Prova", comuneDiMilano)
	require.NoError(t, err)
	admin := crm.SystemActor(b.tenant.ID)
	require.NoError(t, b.store.SetAssistantSettings(b.ctx, admin, crm.AssistantSettings{Enabled: true,
		OfficeHours: "dal lunedì al venerdì, 9:00-17:00", Alternatives: "telefono 020202"}))
	b.urp, err = b.store.EnsureTeam(b.ctx, b.tenant.ID, "urp", "Ufficio Relazioni con il Pubblico")
	require.NoError(t, err)
	b.tributi, err = b.store.EnsureTeam(b.ctx, b.tenant.ID, "tributi", "Tributi")
	require.NoError(t, err)
	b.anagrafe, err = b.store.EnsureTeam(b.ctx, b.tenant.ID, "anagrafe", "Anagrafe")
	require.NoError(t, err)
	require.NoError(t, b.store.SetTeamTopics(b.ctx, admin, b.tributi.ID, []string{"tari", "tassa rifiuti", "imu", "pagopa"}))
	require.NoError(t, b.store.SetTeamTopics(b.ctx, admin, b.anagrafe.ID, []string{"residenza", "carta d'identità", "certificato"}))
	b.operator, err = b.store.EnsureStaff(b.ctx, b.tenant.ID, crm.StaffInput{
		Email: "op-" + randomHex(4) + "@example.it", Name: "Olga Operatrice", Roles: []crm.Role{crm.RoleOperator},
		Password: "correct horse battery staple"})
	require.NoError(t, err)
	for _, team := range []crm.Team{b.urp, b.tributi, b.anagrafe} {
		require.NoError(t, b.store.AddTeamMember(b.ctx, b.tenant.ID, team.ID, b.operator.ID))
	}
	_, err = knowledge.IngestFS(b.ctx, pool, knowledge.LocalEmbedder{}, b.tenant.ID, demo.FS)
	require.NoError(t, err)
	cfg.Store, cfg.Pool, cfg.Tenants = b.store, pool, []int64{b.tenant.ID}
	if cfg.Embedder == nil {
		cfg.Embedder = knowledge.LocalEmbedder{}
	}
	b.asst = assistant.New(cfg)
	return b
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// codiceFiscale returns the n-th of a family of valid codici fiscali.
func codiceFiscale(n int) string {
	first := fmt.Sprintf("RSSMRA80A01H%03d", n)
	return first + string(crm.CodiceFiscaleCheckChar(first))
}

func visitor() crm.IdentityClaim {
	return crm.IdentityClaim{Kind: crm.IdentityWebchat, ExternalID: "visitor-" + randomHex(8)}
}

// say stores a citizen's web-chat message.
func (b *bundle) say(t *testing.T, from crm.IdentityClaim, text string) crm.IngestResult {
	t.Helper()
	res, err := b.store.Ingest(b.ctx, b.tenant.ID, crm.InboundMessage{Channel: crm.ChannelWebchat,
		ExternalID: "msg-" + randomHex(8), From: from, Text: text})
	require.NoError(t, err)
	return res
}

// work lets the assistant answer everything waiting, and returns how many
// conversations it handled.
func (b *bundle) work(t *testing.T) int {
	t.Helper()
	n := 0
	for {
		k := b.asst.ProcessDue(b.ctx)
		if k == 0 {
			return n
		}
		n += k
	}
}

func (b *bundle) conversation(t *testing.T, id int64) crm.Conversation {
	t.Helper()
	c, err := b.store.Conversation(b.ctx, b.tenant.ID, id)
	require.NoError(t, err)
	return c
}

// assistantMessages returns what the assistant told the citizen.
func (b *bundle) assistantMessages(t *testing.T, convID int64) []crm.Message {
	t.Helper()
	var out []crm.Message
	for _, m := range b.conversation(t, convID).Messages {
		if m.AuthorKind == crm.AuthorAssistant && !m.Private {
			out = append(out, m)
		}
	}
	return out
}

// lastReply is the assistant's latest message to the citizen.
func (b *bundle) lastReply(t *testing.T, convID int64) string {
	t.Helper()
	ms := b.assistantMessages(t, convID)
	require.NotEmpty(t, ms, "the assistant said nothing")
	return ms[len(ms)-1].Text
}

func (b *bundle) answers(t *testing.T, convID int64) []crm.AssistantAnswer {
	t.Helper()
	as, err := b.store.AssistantAnswers(b.ctx, crm.SystemActor(b.tenant.ID), crm.AnswerQuery{ConversationID: convID})
	require.NoError(t, err)
	return as
}

// online makes the operator online and available, so that someone is on duty.
func (b *bundle) online(t *testing.T) {
	t.Helper()
	require.NoError(t, b.store.SetAvailability(b.ctx, b.operator.Actor(), crm.Available))
	require.NoError(t, b.store.TouchPresence(b.ctx, b.tenant.ID, b.operator.ID, "conn-"+randomHex(4)))
}

func containsAll(t *testing.T, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		require.True(t, strings.Contains(s, p), "%q\ndoes not contain %q", s, p)
	}
}

var _ = time.Second
