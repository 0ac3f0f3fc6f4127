// Package demo loads a realistic Italian demo dataset into the CRM: the Comune
// di Milano and two other Comuni of the Città Metropolitana di Milano, each with
// teams and staff, a few hundred citizens known on several channels, their
// fascicoli (pratiche, avvisi pagoPA, documents, appointments), past
// conversations and consents.
//
// Loading is idempotent: the data are generated from fixed seeds, and every step
// either relies on an idempotent operation of the CRM (tenants, teams and staff
// are ensured, ingest is keyed on the message id, replies on their client id,
// the fascicolo import on references) or is skipped when already done (merges,
// assignments, consents, imports, which would otherwise add audit records). Run
// twice, it leaves the same rows; only the staff password hashes are made anew
// (with new salts), which also resets the demo passwords. Dates are set around
// the day the Comune was first loaded, so a later load finds them unchanged.
//
// Everything is made through the crm.Store API, as a channel, an operator or an
// administrator would. The addresses are under the reserved .example domain, so
// that nothing the demo makes can reach a real mailbox.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/dialogo-pa/dialogo/crm"
)

// Summary is what Load made: counts per Comune, read back from the database, and
// the staff logins.
type Summary struct {
	Tenants []TenantSummary
	Logins  []Login
}

// TenantSummary counts a demo Comune's rows.
type TenantSummary struct {
	ID               int64
	Slug             string
	Name             string
	FiscalCode       string
	Teams            int
	Staff            int
	Contacts         int // active contacts (not merged into another)
	MergedContacts   int
	Identities       int
	MergeSuggestions int // open ones
	Conversations    int
	Queued           int
	Assigned         int
	Resolved         int
	Messages         int
	Pratiche         int
	Avvisi           int
	AvvisiOverdue    int
	Documents        int
	Appointments     int
	Consents         int
}

// Login is a demo staff account, with its password.
type Login struct {
	Tenant   string // the Comune's slug
	Email    string
	Password string
	Name     string
	Roles    []crm.Role
}

// Print writes the counts and the logins as two plain-text tables.
func (s Summary) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ente\tcontatti\tidentità\tsuggerimenti\tconversazioni\tmessaggi\tpratiche\tavvisi\tdocumenti\tappuntamenti\tconsensi\t")
	for _, t := range s.Tenants {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", t.Slug, t.Contacts, t.Identities, t.MergeSuggestions,
			t.Conversations, t.Messages, t.Pratiche, t.Avvisi, t.Documents, t.Appointments, t.Consents)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "e-mail\tpassword\truoli\tente")
	for _, l := range s.Logins {
		roles := make([]string, len(l.Roles))
		for i, r := range l.Roles {
			roles[i] = string(r)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.Email, l.Password, strings.Join(roles, ", "), l.Tenant)
	}
	return tw.Flush()
}

// Load loads the demo dataset, or brings it back to what it is after the first
// load. progress receives a progress bar (io.Discard for none); log, which may be
// nil, a line at the end (and one per Comune at debug level, since log lines
// would break the bar when both go to a terminal).
func Load(ctx context.Context, store *crm.Store, log *slog.Logger, progress io.Writer) (Summary, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if progress == nil {
		progress = io.Discard
	}
	start := time.Now()

	type plan struct {
		c      comune
		people []person
		convs  [][]conversation
	}
	plans := make([]plan, len(comuni))
	total := 0
	for i, c := range comuni {
		ps := people(c)
		plans[i] = plan{c: c, people: ps, convs: conversations(c, ps)}
		total += len(c.Staff) + 2*len(ps)
		for _, p := range ps {
			if p.Profile.hasCF() {
				total++
			}
		}
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(progress),
		progressbar.OptionSetDescription("Dati demo"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }),
	)

	var sum Summary
	for _, pl := range plans {
		l := &loader{store: store, log: log, bar: bar, c: pl.c, people: pl.people, convs: pl.convs,
			chatContact: map[int]int64{}}
		ts, logins, err := l.load(ctx)
		if err != nil {
			_ = bar.Exit()
			return Summary{}, fmt.Errorf("demo %s: %w", pl.c.Slug, err)
		}
		sum.Tenants = append(sum.Tenants, ts)
		sum.Logins = append(sum.Logins, logins...)
		log.Debug("demo data loaded", "tenant", ts.Slug, "contacts", ts.Contacts, "conversations", ts.Conversations,
			"messages", ts.Messages, "pratiche", ts.Pratiche, "avvisi", ts.Avvisi)
	}
	if err := bar.Finish(); err != nil {
		return Summary{}, err
	}
	contacts, messages := 0, 0
	for _, ts := range sum.Tenants {
		contacts += ts.Contacts
		messages += ts.Messages
	}
	log.Info("demo data ready", "tenants", len(sum.Tenants), "contacts", contacts, "messages", messages,
		"elapsed", time.Since(start).Round(time.Millisecond))
	return sum, nil
}

// loader loads one Comune.
type loader struct {
	store  *crm.Store
	log    *slog.Logger
	bar    *progressbar.ProgressBar
	c      comune
	people []person
	convs  [][]conversation

	tenant crm.Tenant
	teams  map[string]crm.Team
	staff  []crm.Staff // as c.Staff
	// chatContact is the contact that a person's messages landed on, by person
	// index: for residents, it is the contact of their codice fiscale, except for
	// those who wrote from an unverified address.
	chatContact map[int]int64
}

func (l *loader) load(ctx context.Context) (TenantSummary, []Login, error) {
	var err error
	l.tenant, err = l.store.EnsureTenant(ctx, l.c.Slug, l.c.Name, l.c.FiscalCode)
	if err != nil {
		return TenantSummary{}, nil, err
	}
	logins, err := l.ensureStaff(ctx)
	if err != nil {
		return TenantSummary{}, nil, err
	}
	for i := range l.people {
		if err := l.converse(ctx, &l.people[i], l.convs[i]); err != nil {
			return TenantSummary{}, nil, fmt.Errorf("conversations of person %d: %w", i, err)
		}
		_ = l.bar.Add(1)
	}
	if err := l.importFascicoli(ctx); err != nil {
		return TenantSummary{}, nil, fmt.Errorf("fascicoli: %w", err)
	}
	for i := range l.people {
		if err := l.recordConsents(ctx, &l.people[i]); err != nil {
			return TenantSummary{}, nil, fmt.Errorf("consents of person %d: %w", i, err)
		}
		_ = l.bar.Add(1)
	}
	// The assistant answers new conversations; the demo's past ones stay
	// where they were put.
	admin := crm.SystemActor(l.tenant.ID)
	if err := l.store.SetAssistantSettings(ctx, admin, assistantSettings); err != nil {
		return TenantSummary{}, nil, err
	}
	for _, t := range teams {
		if err := l.store.SetTeamTopics(ctx, admin, l.teams[t.Slug].ID, t.Topics); err != nil {
			return TenantSummary{}, nil, err
		}
	}
	ts, err := l.count(ctx)
	return ts, logins, err
}

func (l *loader) ensureStaff(ctx context.Context) ([]Login, error) {
	l.teams = map[string]crm.Team{}
	for _, t := range teams {
		tm, err := l.store.EnsureTeam(ctx, l.tenant.ID, t.Slug, t.Name)
		if err != nil {
			return nil, err
		}
		l.teams[t.Slug] = tm
	}
	var logins []Login
	for _, sm := range l.c.Staff {
		st, err := l.store.EnsureStaff(ctx, l.tenant.ID, crm.StaffInput{Email: sm.Email, Name: sm.Name, Roles: sm.Roles, Password: sm.Password})
		if err != nil {
			return nil, err
		}
		for _, t := range sm.Teams {
			if err := l.store.AddTeamMember(ctx, l.tenant.ID, l.teams[t].ID, st.ID); err != nil {
				return nil, err
			}
		}
		l.staff = append(l.staff, st)
		logins = append(logins, Login{Tenant: l.c.Slug, Email: sm.Email, Password: sm.Password, Name: sm.Name, Roles: sm.Roles})
		_ = l.bar.Add(1)
	}
	return logins, nil
}

// staffWith returns the first staff member with the role.
func (l *loader) staffWith(role crm.Role) crm.Staff {
	for i, sm := range l.c.Staff {
		if slices.Contains(sm.Roles, role) {
			return l.staff[i]
		}
	}
	panic("demo: no staff member with role " + string(role))
}

// converse plays a person's conversations: the citizen's messages come in
// through Ingest, the operator's replies through PostReply, then the
// conversation is resolved, left open, or handed to an operator.
func (l *loader) converse(ctx context.Context, p *person, cvs []conversation) error {
	var telegramContact, spidContact int64
	for _, cv := range cvs {
		op := l.staff[cv.Operator]
		subject, text := l.renderer(p, cv, op)
		var convID, contactID int64
		ingest := func(ext, text string, att []crm.Attachment) error {
			res, err := l.store.Ingest(ctx, l.tenant.ID, crm.InboundMessage{
				Channel: cv.Channel, ExternalID: ext, From: cv.From, ThreadKey: cv.Thread, Subject: subject,
				Text: text, Attachments: att, TeamID: l.teams[cv.Topic.Team].ID, Status: crm.StatusQueued,
			})
			if err != nil {
				return err
			}
			convID, contactID = res.Message.ConversationID, res.ContactID
			return nil
		}
		for turn := range cv.Turns() {
			id := fmt.Sprintf("demo:%s:%d:%s:%d", l.c.Slug, p.Index, cv.Key, turn)
			if turn%2 == 0 {
				var att []crm.Attachment
				if a, ok := cv.Topic.Attach[turn]; ok {
					att = []crm.Attachment{a}
				}
				if err := ingest(id, text(turn), att); err != nil {
					return fmt.Errorf("%s turn %d: %w", cv.Key, turn, err)
				}
				continue
			}
			if _, err := l.store.PostReply(ctx, op.Actor(), convID, crm.Reply{Text: text(turn), ClientID: id}); err != nil {
				return fmt.Errorf("%s reply %d: %w", cv.Key, turn, err)
			}
		}
		if cv.Nudge {
			id := fmt.Sprintf("demo:%s:%d:%s:nudge", l.c.Slug, p.Index, cv.Key)
			if err := ingest(id, nudges[p.Index%len(nudges)], nil); err != nil {
				return fmt.Errorf("%s nudge: %w", cv.Key, err)
			}
		}
		switch cv.Outcome {
		case outcomeResolved:
			if _, err := l.store.SetStatus(ctx, op.Actor(), convID, true); err != nil {
				return fmt.Errorf("%s resolve: %w", cv.Key, err)
			}
		case outcomeHandedOver:
			if err := l.handOver(ctx, convID, op); err != nil {
				return fmt.Errorf("%s hand over: %w", cv.Key, err)
			}
		}
		switch {
		case cv.Channel == crm.ChannelTelegram:
			telegramContact = contactID
		case cv.From.Kind == crm.IdentityCodiceFiscale:
			spidContact = contactID
		}
		l.chatContact[p.Index] = contactID
	}
	if p.Profile == profileUnified && telegramContact != spidContact {
		// The citizen told the operator in the SPID chat that the Telegram
		// account is theirs. Once merged, the Telegram conversation's contact
		// is the SPID one, which is how a second load knows it is done.
		op := l.staff[cvs[1].Operator]
		login := strings.ToUpper(p.LoginBy)
		_, err := l.store.Merge(ctx, op.Actor(), spidContact, telegramContact,
			"Il cittadino, autenticato con "+login+" nella chat del sito, ha confermato di essere la stessa persona che ci ha scritto su Telegram.")
		if err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		l.chatContact[p.Index] = spidContact
	}
	return nil
}

// handOver has the supervisor assign a queued conversation to the operator,
// unless that was done already. An operator who has meanwhile taken on the
// most conversations they may have (someone trying the demo) keeps the
// conversation in the queue.
func (l *loader) handOver(ctx context.Context, convID int64, op crm.Staff) error {
	cv, err := l.store.Conversation(ctx, l.tenant.ID, convID)
	if err != nil {
		return err
	}
	if cv.Status != crm.StatusQueued {
		return nil
	}
	_, err = l.store.Assign(ctx, l.staffWith(crm.RoleSupervisor).Actor(), convID, crm.Assignment{AssigneeID: &op.ID})
	if errors.Is(err, crm.ErrConflict) {
		l.log.Warn("demo conversation left in the queue", "tenant", l.c.Slug, "conversation", convID, "err", err)
		return nil
	}
	return err
}

// renderer returns the subject of a conversation and the text of each of its
// turns, filled in for the person and the Comune and, for e-mail, signed.
func (l *loader) renderer(p *person, cv conversation, op crm.Staff) (string, func(turn int) string) {
	name := p.Given
	if cv.From.Kind == crm.IdentityWebchat && !p.Named {
		name = "" // an anonymous visitor
	}
	fill := strings.NewReplacer(
		"{citta}", l.c.City, "{ente}", l.c.Name, "{ztl}", l.c.ZTL, "{anagrafe}", l.c.Anagrafe,
		"{via}", streets[p.Index%len(streets)], "{figlio}", p.Child.Phrase(),
		"{ref}", fmt.Sprintf("%s-SEG-%04d%s", l.c.RefPrefix, p.Index, strings.TrimPrefix(cv.Key, "c")),
	)
	return fill.Replace(cv.Topic.Subject), func(turn int) string {
		s := cv.Topic.Turns[turn]
		if name == "" {
			s = strings.NewReplacer(" {nome},", ",", ", {nome}.", ".", "{nome}", "").Replace(s)
		} else {
			s = strings.ReplaceAll(s, "{nome}", name)
		}
		s = fill.Replace(s)
		if cv.Channel != crm.ChannelEmail {
			return s
		}
		if turn%2 == 0 {
			return s + "\n\nCordiali saluti,\n" + p.FullName()
		}
		return s + "\n\nCordiali saluti,\n" + op.Name + "\n" + teamName(cv.Topic.Team) + " – " + l.c.Name
	}
}

func teamName(slug string) string {
	for _, t := range teams {
		if t.Slug == slug {
			return t.Name
		}
	}
	return slug
}

// importBatch is how many records one import carries: small enough to show
// progress, well under crm.MaxImportRecords.
const importBatch = 100

// importFascicoli imports the residents' fascicoli as the Comune's
// administrator. Records whose items are all there already are left out: the
// import would change nothing but add audit records.
func (l *loader) importFascicoli(ctx context.Context) error {
	day := referenceDay(l.tenant.CreatedAt)
	have, err := l.existingItems(ctx)
	if err != nil {
		return err
	}
	admin := l.staffWith(crm.RoleAdmin).Actor()
	var batch []crm.FascicoloRecord
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := l.store.ImportFascicolo(ctx, admin, batch); err != nil {
			return err
		}
		batch = batch[:0]
		return nil
	}
	for i := range l.people {
		p := &l.people[i]
		if !p.Profile.hasCF() {
			continue
		}
		rec := fascicoloOf(l.c, p, day)
		if !have.all(rec) {
			batch = append(batch, rec)
		}
		if len(batch) == importBatch {
			if err := flush(); err != nil {
				return err
			}
		}
		_ = l.bar.Add(1)
	}
	return flush()
}

// referenceDay is the day the demo dates are set around: the day the tenant was
// made, so that later loads give the same dates.
func referenceDay(created time.Time) time.Time {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		loc = time.FixedZone("CET", 3600)
	}
	t := created.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// items holds the references of the fascicolo items a tenant has.
type items map[string]bool

func (l *loader) existingItems(ctx context.Context) (items, error) {
	rows, err := l.store.DB().Query(ctx, `
		SELECT 'p' || reference FROM pratiche WHERE tenant_id = $1
		UNION ALL SELECT 'a' || creditor_fiscal_code || notice_number FROM avvisi WHERE tenant_id = $1
		UNION ALL SELECT 'd' || reference FROM documents WHERE tenant_id = $1
		UNION ALL SELECT 'k' || reference FROM appointments WHERE tenant_id = $1`, l.tenant.ID)
	if err != nil {
		return nil, fmt.Errorf("existing fascicolo items: %w", err)
	}
	defer rows.Close()
	have := items{}
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			return nil, err
		}
		have[ref] = true
	}
	return have, rows.Err()
}

// all reports whether every item of the record is there.
func (have items) all(rec crm.FascicoloRecord) bool {
	for _, p := range rec.Pratiche {
		if !have["p"+p.Reference] {
			return false
		}
	}
	for _, a := range rec.Avvisi {
		if !have["a"+a.CreditorFiscalCode+a.NoticeNumber] {
			return false
		}
	}
	for _, d := range rec.Documents {
		if !have["d"+d.Reference] {
			return false
		}
	}
	for _, a := range rec.Appointments {
		if !have["k"+a.Reference] {
			return false
		}
	}
	return true
}

// recordConsents records a person's consents, unless their contact has some
// already: consents are a history, and recording them again would add to it.
func (l *loader) recordConsents(ctx context.Context, p *person) error {
	decisions := consents(l.c, p)
	if len(decisions) == 0 {
		return nil
	}
	main, err := l.mainContact(ctx, p)
	if err != nil {
		return err
	}
	done := map[int64]bool{}
	for _, d := range decisions {
		contact := main
		if d.OnSecond {
			contact = l.chatContact[p.Index]
		}
		if _, ok := done[contact]; !ok {
			have, err := l.store.Consents(ctx, l.tenant.ID, contact, true)
			if err != nil {
				return err
			}
			done[contact] = len(have) > 0
		}
		if done[contact] {
			continue
		}
		actor := crm.SystemActor(l.tenant.ID)
		if d.ByOperator {
			actor = l.staffWith(crm.RoleOperator).Actor()
		}
		if _, err := l.store.RecordConsent(ctx, actor, contact, crm.ConsentInput{
			Channel: d.Channel, Purpose: d.Purpose, Granted: d.Granted, Source: d.Source}); err != nil {
			return err
		}
	}
	return nil
}

// mainContact is the contact of a resident's codice fiscale, or the one a
// non-resident's messages made.
func (l *loader) mainContact(ctx context.Context, p *person) (int64, error) {
	if !p.Profile.hasCF() {
		id, ok := l.chatContact[p.Index]
		if !ok {
			return 0, errors.New("no contact for a person without codice fiscale")
		}
		return id, nil
	}
	cs, err := l.store.SearchContacts(ctx, l.tenant.ID, crm.ContactQuery{CodiceFiscale: p.CF, Limit: 1})
	if err != nil {
		return 0, err
	}
	if len(cs) == 0 {
		return 0, fmt.Errorf("no contact with codice fiscale %s: %w", p.CF, crm.ErrNotFound)
	}
	return cs[0].ID, nil
}

// count reads the Comune's row counts back from the database.
func (l *loader) count(ctx context.Context) (TenantSummary, error) {
	ts := TenantSummary{ID: l.tenant.ID, Slug: l.tenant.Slug, Name: l.tenant.Name, FiscalCode: l.tenant.FiscalCode}
	err := l.store.DB().QueryRow(ctx, `
		SELECT
			(SELECT count(*) FROM teams WHERE tenant_id = $1),
			(SELECT count(*) FROM staff WHERE tenant_id = $1),
			(SELECT count(*) FILTER (WHERE merged_into IS NULL) FROM contacts WHERE tenant_id = $1),
			(SELECT count(*) FILTER (WHERE merged_into IS NOT NULL) FROM contacts WHERE tenant_id = $1),
			(SELECT count(*) FROM contact_identities WHERE tenant_id = $1),
			(SELECT count(*) FROM merge_suggestions WHERE tenant_id = $1 AND status = 'open'),
			(SELECT count(*) FROM conversations WHERE tenant_id = $1),
			(SELECT count(*) FROM conversations WHERE tenant_id = $1 AND status = 'queued'),
			(SELECT count(*) FROM conversations WHERE tenant_id = $1 AND status = 'assigned'),
			(SELECT count(*) FROM conversations WHERE tenant_id = $1 AND status = 'resolved'),
			(SELECT count(*) FROM messages WHERE tenant_id = $1),
			(SELECT count(*) FROM pratiche WHERE tenant_id = $1),
			(SELECT count(*) FROM avvisi WHERE tenant_id = $1),
			(SELECT count(*) FROM avvisi WHERE tenant_id = $1 AND status = 'unpaid' AND due_date < current_date),
			(SELECT count(*) FROM documents WHERE tenant_id = $1),
			(SELECT count(*) FROM appointments WHERE tenant_id = $1),
			(SELECT count(*) FROM consents WHERE tenant_id = $1)`, l.tenant.ID).Scan(
		&ts.Teams, &ts.Staff, &ts.Contacts, &ts.MergedContacts, &ts.Identities, &ts.MergeSuggestions,
		&ts.Conversations, &ts.Queued, &ts.Assigned, &ts.Resolved, &ts.Messages,
		&ts.Pratiche, &ts.Avvisi, &ts.AvvisiOverdue, &ts.Documents, &ts.Appointments, &ts.Consents)
	if err != nil {
		return TenantSummary{}, fmt.Errorf("counting: %w", err)
	}
	return ts, nil
}
