package console_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

func TestInboxTabsCountAndFilter(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.citizenWrites(visitor("Mario Rossi"), "Vorrei pagare la TARI")
	e.ingest(crm.InboundMessage{Channel: crm.ChannelEmail, ExternalID: "mail-" + randomHex(4),
		From:    crm.IdentityClaim{Kind: crm.IdentityEmail, ExternalID: "anna." + randomHex(3) + "@example.org", DisplayName: "Anna Verdi"},
		Subject: "Residenza", Text: "Buongiorno, chiedo del cambio di residenza."})
	mine := e.citizenWrites(visitor("Giulia Neri"), "Ciao").Message.ConversationID
	c := e.login(e.operator())
	c.post(convPath(mine, "/take"), nil)

	unassigned := c.get("/console?tab=unassigned")
	require.Equal(t, http.StatusOK, unassigned.status)
	require.Contains(t, unassigned.body, `data-count="unassigned">2<`)
	require.Contains(t, unassigned.body, `data-count="mine">1<`)
	require.Contains(t, unassigned.body, `data-count="team-`+itoa(e.team.ID)+`">2<`)
	require.NotContains(t, unassigned.body, `data-count="all"`, "operators have no 'all' tab")
	require.Contains(t, unassigned.body, "Mario Rossi")
	require.Contains(t, unassigned.body, "Vorrei pagare la TARI", "the last message")
	require.Contains(t, unassigned.body, "Anna Verdi")
	require.NotContains(t, unassigned.body, "Giulia Neri")
	require.Contains(t, unassigned.body, `data-since=`, "waiting time")

	require.Contains(t, c.get("/console").body, "Giulia Neri", "'mine' is the default tab")
	byChannel := c.get("/console?tab=unassigned&channel=email")
	require.Contains(t, byChannel.body, "Anna Verdi")
	require.NotContains(t, byChannel.body, "Mario Rossi")
	byName := c.get("/console?tab=unassigned&q=ross")
	require.Contains(t, byName.body, "Mario Rossi")
	require.NotContains(t, byName.body, "Anna Verdi")

	all := e.login(e.supervisor()).get("/console?tab=all")
	require.Contains(t, all.body, `data-count="all">3<`)
	require.Contains(t, all.body, "Giulia Neri")
}

func TestInboxFragmentsForTheScript(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.citizenWrites(visitor("Mario Rossi"), "Buongiorno")
	c := e.login(e.operator())

	list := c.get("/console/inbox/list?tab=unassigned", "X-Dialogo-Fetch", "1")
	counts := c.get("/console/inbox/counts", "X-Dialogo-Fetch", "1")

	require.Equal(t, http.StatusOK, list.status)
	require.True(t, strings.HasPrefix(list.body, `<div id="dlg-inbox-list"`), list.body)
	require.Contains(t, list.body, "Mario Rossi")
	require.NotContains(t, list.body, "<html")
	var n map[string]int
	counts.decode(&n)
	require.Equal(t, 1, n["unassigned"])
	require.Equal(t, 1, n["team-"+itoa(e.team.ID)])
	require.Equal(t, "no-store", list.header.Get("Cache-Control"))
}

func TestConversationShowsTheCitizensHistoryOnEveryChannel(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cf := codiceFiscale(7)
	spid := verifiedCitizen(cf, "Lucia Bianchi")
	chat := e.citizenWrites(spid, "Scrivo dalla chat del sito")
	mail := e.ingest(crm.InboundMessage{Channel: crm.ChannelEmail, ExternalID: "mail-" + randomHex(4), From: spid,
		Subject: "Mensa", Text: "E poi vi ho scritto per e-mail"})
	require.Equal(t, chat.ContactID, mail.ContactID)
	e.citizenWrites(visitor("Qualcun Altro"), "Messaggio di un altro cittadino")
	c := e.login(e.operator())

	page := c.get(convPath(chat.Message.ConversationID, ""))

	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, "Scrivo dalla chat del sito")
	require.Contains(t, page.body, "E poi vi ho scritto per e-mail")
	require.NotContains(t, page.body, "Messaggio di un altro cittadino")
	require.Contains(t, page.body, fmt.Sprintf("E-mail · conversazione n. %d", mail.Message.ConversationID), "a separator per conversation")
	require.Contains(t, page.body, `role="log" aria-live="polite"`)
	require.Contains(t, page.body, cf, "the citizen panel")
	require.Contains(t, page.body, "Verificata · SPID")
}

func TestMessagesFragmentCatchesUpAfterTheCursor(t *testing.T) {
	t.Parallel()
	e := setup(t)
	from := verifiedCitizen(codiceFiscale(8), "Lucia Bianchi")
	chat := e.citizenWrites(from, "primo")
	convID := chat.Message.ConversationID
	c := e.login(e.operator())
	c.get(convPath(convID, ""))
	// While the console was away: a new message here and one on another channel.
	e.citizenWrites(from, "secondo")
	mail := e.ingest(crm.InboundMessage{Channel: crm.ChannelEmail, ExternalID: "mail-" + randomHex(4), From: from, Text: "terzo"})
	mailConv := mail.Message.ConversationID

	cursor := fmt.Sprintf("%d:1", convID)
	all := c.get(convPath(convID, "/messages?last="+itoa(convID)+"&after="+url.QueryEscape(cursor)), "X-Dialogo-Fetch", "1")
	only := c.get(convPath(convID, fmt.Sprintf("/messages?only=%d&after=%d:0&last=%d", mailConv, mailConv, convID)))

	require.Equal(t, http.StatusOK, all.status, all.body)
	require.NotContains(t, all.body, "primo")
	require.Contains(t, all.body, "secondo")
	require.Contains(t, all.body, "terzo")
	require.Less(t, strings.Index(all.body, "secondo"), strings.Index(all.body, "terzo"))
	require.Contains(t, only.body, "terzo")
	require.NotContains(t, only.body, "secondo")
	require.Contains(t, only.body, `class="dlg-sep`, "a new conversation opens with a separator")

	stranger := e.citizenWrites(visitor("Altro"), "non mio").Message.ConversationID
	res := c.get(convPath(convID, fmt.Sprintf("/messages?only=%d", stranger)))
	require.Equal(t, http.StatusNotFound, res.status, "another citizen's conversation")
}

func TestOpeningTheFascicoloIsAudited(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cf := codiceFiscale(9)
	e.importCitizen(cf, "Lucia", "Bianchi")
	conv := e.citizenWrites(verifiedCitizen(cf, "Lucia Bianchi"), "Ho pagato la mensa?").Message
	contactID := e.conversation(conv.ConversationID).ContactID
	c := e.login(e.operator())
	audits := func() int {
		entries, err := e.store.AuditLog(e.ctx, e.supervisor().Actor(), crm.AuditQuery{ContactID: contactID, Action: "fascicolo.read"})
		require.NoError(t, err)
		return len(entries)
	}

	page := c.get(convPath(conv.ConversationID, ""))
	require.Contains(t, page.body, "Mostra fascicolo")
	require.NotContains(t, page.body, "Cambio di residenza", "not read until asked")
	require.Equal(t, 0, audits())

	shown := c.get(convPath(conv.ConversationID, "?fascicolo=1"))
	require.Equal(t, 1, audits())
	require.Contains(t, shown.body, "Cambio di residenza")
	require.Contains(t, shown.body, "Verifica della Polizia Locale", "the pratica's timeline")
	require.Contains(t, shown.body, "€ 128,50")
	require.Contains(t, shown.body, "€ 1.234,56")
	require.Contains(t, shown.body, "dlg-avviso--overdue")
	require.Contains(t, shown.body, "Scaduto")
	require.Contains(t, shown.body, "Carta d&#39;identità elettronica")
	require.Contains(t, shown.body, "Consultazione registrata alle")

	fragment := c.get(convPath(conv.ConversationID, "/fascicolo"), "X-Dialogo-Fetch", "1")
	require.Equal(t, http.StatusOK, fragment.status)
	require.NotContains(t, fragment.body, "<html")
	require.Contains(t, fragment.body, "TARI 2025, prima rata")
	require.Equal(t, 2, audits(), "each opening is recorded")
	entries, err := e.store.AuditLog(e.ctx, e.supervisor().Actor(), crm.AuditQuery{ContactID: contactID, Action: "fascicolo.read"})
	require.NoError(t, err)
	require.Equal(t, e.operator().ID, entries[0].ActorID)
	require.Contains(t, entries[0].Reason, fmt.Sprintf("conversazione n. %d", conv.ConversationID))

	english := c.get(convPath(conv.ConversationID, "?fascicolo=1&lang=en"))
	require.Contains(t, english.body, "€1,234.56")
	require.Equal(t, 3, audits())

	// A link from another site, or a request not made by the console's
	// script, reads nothing and records nothing.
	crossSite := c.get(convPath(conv.ConversationID, "?fascicolo=1"), "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusOK, crossSite.status)
	require.NotContains(t, crossSite.body, "Cambio di residenza")
	require.Equal(t, http.StatusForbidden, c.get(convPath(conv.ConversationID, "/fascicolo")).status)
	require.Equal(t, 3, audits())
}

func TestAnonymousCitizenHasNoFascicolo(t *testing.T) {
	t.Parallel()
	e := setup(t)
	conv := e.citizenWrites(visitor("Mario Rossi"), "Buongiorno").Message.ConversationID
	c := e.login(e.operator())

	page := c.get(convPath(conv, "?fascicolo=1"))

	require.NotContains(t, page.body, "Mostra fascicolo")
	require.Contains(t, page.body, "Il fascicolo è disponibile solo per i cittadini identificati")
	require.Equal(t, http.StatusNotFound, c.get(convPath(conv, "/fascicolo"), "X-Dialogo-Fetch", "1").status)
}

// onePixelPNG is a valid 1×1 PNG.
var onePixelPNG, _ = base64.StdEncoding.DecodeString(
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")

func TestAttachmentsAreServedToStaffOfTheEnte(t *testing.T) {
	t.Parallel()
	e := setup(t)
	from := visitor("Mario Rossi")
	first := e.citizenWrites(from, "Buongiorno")
	img, err := e.store.SaveAttachment(e.ctx, e.tenant.ID, crm.AttachmentUpload{Name: "ricevuta.png", Data: onePixelPNG,
		ContactID: first.ContactID})
	require.NoError(t, err)
	pdf, err := e.store.SaveAttachment(e.ctx, e.tenant.ID, crm.AttachmentUpload{Name: "modulo.pdf",
		Data: []byte("%PDF-1.4\n%%EOF\n"), ContactID: first.ContactID})
	require.NoError(t, err)
	e.ingest(crm.InboundMessage{Channel: crm.ChannelWebchat, ExternalID: "m-" + randomHex(4), From: from,
		Attachments: []crm.Attachment{img, pdf}})
	c := e.login(e.operator())

	page := c.get(convPath(first.Message.ConversationID, ""))
	file := c.get("/console/attachments/" + img.Token)
	other := setup(t)
	theirs := other.login(other.operator()).get("/console/attachments/" + img.Token)
	anonymous := e.anonymous().get("/console/attachments/" + img.Token)

	require.Contains(t, page.body, `<img src="/console/attachments/`+img.Token+`" alt="ricevuta.png"`)
	require.Contains(t, page.body, `href="/console/attachments/`+pdf.Token+`"`)
	require.Contains(t, page.body, "modulo.pdf")
	require.Equal(t, http.StatusOK, file.status)
	require.Equal(t, "image/png", file.header.Get("Content-Type"))
	require.True(t, bytes.Equal(onePixelPNG, []byte(file.body)))
	require.Equal(t, http.StatusNotFound, theirs.status)
	require.Equal(t, http.StatusSeeOther, anonymous.status)
	require.Equal(t, http.StatusNotFound, c.get("/console/attachments/nope").status)
}

func TestSupervisorSeesQueuesAndOperators(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.citizenWrites(visitor("Mario Rossi"), "Buongiorno")
	e.citizenWrites(visitor("Anna Verdi"), "Salve")
	require.NoError(t, e.store.TouchPresence(e.ctx, e.tenant.ID, e.operator().ID, "test-connection"))
	require.NoError(t, e.store.SetAvailability(e.ctx, e.operator().Actor(), crm.Available))
	c := e.login(e.supervisor())

	page := c.get("/console/supervisor")
	stats := c.get("/console/supervisor/stats", "X-Dialogo-Fetch", "1")

	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, "Code per team")
	require.Contains(t, page.body, e.team.Name)
	require.Contains(t, page.body, `<svg class="dlg-chart"`)
	require.Contains(t, page.body, "Operatori connessi")
	require.Contains(t, page.body, e.operator().Name)
	require.Contains(t, page.body, "Disponibile")
	require.Contains(t, page.body, "0 su 5", "load against the maximum")
	require.Contains(t, page.body, "Non connessi")
	require.True(t, strings.HasPrefix(stats.body, `<div id="dlg-stats"`), stats.body)
}
