package demo

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/testdb"
)

func TestCodiceFiscaleFollowsTheDecree(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		require.NoError(t, err)
		return d
	}
	for _, tc := range []struct {
		family, given string
		born          string
		female        bool
		belfiore      string
		want          string
	}{
		// The worked example of the reference notes.
		{"Rossi", "Mario", "1980-01-01", false, "H501", "RSSMRA80A01H501U"},
		// A name with four consonants or more takes the first, third and fourth.
		{"Bianchi", "Gianfranco", "1975-06-15", false, "F205", "BNCGFR75H15F205"},
		// Women have 40 added to the day; short surnames are padded with X.
		{"Fo", "Anna", "1990-12-03", true, "Z129", "FOXNNA90T43Z129"},
		// Accents, spaces and apostrophes do not count.
		{"D'Angelo", "Nicolò", "2001-03-31", false, "I690", "DNGNCL01C31I690"},
		{"De Luca", "Maria Grazia", "1962-10-09", true, "H264", "DLCMGR62R49H264"},
	} {
		want := tc.want
		if len(want) == 15 {
			want += string(crm.CodiceFiscaleCheckChar(want))
		}
		got := codiceFiscale(tc.family, tc.given, day(tc.born), tc.female, tc.belfiore)
		require.Equal(t, want, got, "%s %s", tc.given, tc.family)
	}
}

func TestPeopleHaveValidDistinctCodiciFiscali(t *testing.T) {
	omocodia := 0
	for _, c := range comuni {
		seen := map[string]bool{}
		for _, p := range people(c) {
			if !p.Profile.hasCF() {
				require.Empty(t, p.CF, "person %d of %s", p.Index, c.Slug)
				continue
			}
			canonical, err := crm.NormalizeCodiceFiscale(p.CF)
			require.NoError(t, err, "%s (%s) of %s", p.CF, p.FullName(), c.Slug)
			require.Equal(t, codiceFiscale(p.Family, p.Given, p.Born, p.Female, p.Place.Belfiore), canonical,
				"the code must follow from the person's data")
			require.False(t, seen[canonical], "two people of %s share %s", c.Slug, canonical)
			seen[canonical] = true
			if p.Omocodia {
				omocodia++
				require.NotEqual(t, canonical, p.CF)
			}
		}
	}
	require.GreaterOrEqual(t, omocodia, 2)
}

func TestPeopleAreTheSameEveryTime(t *testing.T) {
	for _, c := range comuni {
		require.Equal(t, people(c), people(c))
		require.Equal(t, conversations(c, people(c)), conversations(c, people(c)))
	}
}

func TestLoadIsIdempotent(t *testing.T) {
	pool := testdb.New(t)
	ctx := t.Context()
	store := crm.NewStore(pool)
	log := slog.New(slog.NewTextHandler(t.Output(), nil))

	start := time.Now()
	first, err := Load(ctx, store, log, io.Discard)
	require.NoError(t, err)
	t.Logf("first load: %v", time.Since(start))
	rows := rowCounts(t, pool)

	start = time.Now()
	second, err := Load(ctx, store, log, io.Discard)
	require.NoError(t, err)
	t.Logf("second load: %v", time.Since(start))
	require.Equal(t, first, second)
	require.Equal(t, rows, rowCounts(t, pool), "a second load must not add, or remove, any row")

	t.Run("counts", func(t *testing.T) {
		require.Len(t, first.Tenants, 3)
		for _, ts := range first.Tenants {
			c := comuneBySlug(t, ts.Slug)
			require.Equal(t, len(teams), ts.Teams)
			require.Equal(t, len(c.Staff), ts.Staff)
			// Every person is a contact; a few residents have a second contact
			// made by their unverified e-mail address.
			require.GreaterOrEqual(t, ts.Contacts, c.People, ts.Slug)
			require.LessOrEqual(t, ts.Contacts, c.People*11/10, ts.Slug)
			require.Equal(t, c.People/10, ts.MergedContacts, "the Telegram contacts of the unified people")
			require.Positive(t, ts.MergeSuggestions, ts.Slug)
			require.Positive(t, ts.Queued, ts.Slug)
			require.Positive(t, ts.Assigned, ts.Slug)
			require.Positive(t, ts.Resolved, ts.Slug)
			require.Equal(t, ts.Conversations, ts.Queued+ts.Assigned+ts.Resolved)
			require.Greater(t, ts.Messages, 2*ts.Conversations, ts.Slug)
			require.Greater(t, ts.Pratiche, c.People/2, ts.Slug)
			require.Positive(t, ts.AvvisiOverdue, ts.Slug)
			require.Positive(t, ts.Documents, ts.Slug)
			require.Positive(t, ts.Appointments, ts.Slug)
			require.Greater(t, ts.Consents, c.People/2, ts.Slug)
		}
		milano := first.Tenants[0]
		require.Equal(t, "milano", milano.Slug)
		require.Equal(t, "01199250158", milano.FiscalCode)
		require.InDelta(t, 300, milano.Contacts, 30)
	})

	t.Run("every resident has a fascicolo keyed to the canonical codice fiscale", func(t *testing.T) {
		var without int
		require.NoError(t, pool.QueryRow(ctx, `
			SELECT count(*) FROM contacts c
			WHERE c.codice_fiscale IS NOT NULL AND c.merged_into IS NULL
			  AND NOT EXISTS (SELECT 1 FROM pratiche p WHERE p.tenant_id = c.tenant_id AND p.contact_id = c.id)`).Scan(&without))
		require.Zero(t, without)
		for _, c := range comuni {
			tenant, err := store.TenantBySlug(ctx, c.Slug)
			require.NoError(t, err)
			for _, p := range people(c) {
				if !p.Omocodia {
					continue
				}
				cs, err := store.SearchContacts(ctx, tenant.ID, crm.ContactQuery{CodiceFiscale: p.CF})
				require.NoError(t, err)
				require.Len(t, cs, 1, "the omocodia variant %s finds its contact", p.CF)
				canonical, _ := crm.NormalizeCodiceFiscale(p.CF)
				require.Equal(t, canonical, cs[0].CodiceFiscale)
			}
		}
	})

	t.Run("a citizen is one contact across e-mail, Telegram and SPID", func(t *testing.T) {
		var contactID, tenantID int64
		var kinds []string
		err := pool.QueryRow(ctx, `
			SELECT c.tenant_id, c.id, array_agg(DISTINCT i.kind ORDER BY i.kind)
			FROM contacts c JOIN contact_identities i ON i.tenant_id = c.tenant_id AND i.contact_id = c.id
			WHERE c.merged_into IS NULL
			GROUP BY c.tenant_id, c.id
			HAVING count(DISTINCT i.kind) >= 3
			   AND bool_or(i.kind = 'codice_fiscale' AND i.verified_by IN ('spid', 'cie'))
			ORDER BY c.tenant_id, c.id LIMIT 1`).Scan(&tenantID, &contactID, &kinds)
		require.NoError(t, err)
		require.Equal(t, []string{"codice_fiscale", "email", "telegram"}, kinds)

		convs, err := store.Conversations(ctx, tenantID, crm.ConversationQuery{ContactID: contactID})
		require.NoError(t, err)
		channels := map[crm.Channel]bool{}
		for _, cv := range convs {
			channels[cv.Channel] = true
		}
		require.Len(t, channels, 3, "the conversations of every channel are on the one contact")
	})

	t.Run("weak signals are merge suggestions", func(t *testing.T) {
		milano, err := store.TenantBySlug(ctx, "milano")
		require.NoError(t, err)
		ss, err := store.MergeSuggestions(ctx, milano.ID, 0, 500)
		require.NoError(t, err)
		reasons := map[string]int{}
		for _, s := range ss {
			reasons[s.Reason]++
		}
		require.Positive(t, reasons["same_name"])
		require.Positive(t, reasons["same_email"])
	})

	t.Run("avvisi are paid, due and overdue, with valid notice numbers", func(t *testing.T) {
		rows, err := pool.Query(ctx, `
			SELECT a.notice_number, a.creditor_fiscal_code, t.fiscal_code,
			       CASE WHEN a.status <> 'unpaid' THEN a.status WHEN a.due_date < current_date THEN 'overdue' ELSE 'due' END
			FROM avvisi a JOIN tenants t ON t.id = a.tenant_id`)
		require.NoError(t, err)
		kinds := map[string]int{}
		for rows.Next() {
			var nav, creditor, tenantCode, kind string
			require.NoError(t, rows.Scan(&nav, &creditor, &tenantCode, &kind))
			require.NoError(t, crm.ValidateNoticeNumber(nav))
			require.True(t, strings.HasPrefix(nav, "3"))
			require.Equal(t, tenantCode, creditor)
			kinds[kind]++
		}
		require.NoError(t, rows.Err())
		for _, k := range []string{"paid", "due", "overdue", "cancelled"} {
			require.Positive(t, kinds[k], k)
		}
	})

	t.Run("the printed logins work", func(t *testing.T) {
		require.Len(t, first.Logins, 7+6+6)
		roles := map[crm.Role]bool{}
		for _, l := range first.Logins {
			st, err := store.Authenticate(ctx, l.Email, l.Password)
			require.NoError(t, err, l.Email)
			require.Equal(t, l.Roles, st.Roles)
			require.True(t, strings.HasSuffix(l.Email, "@"+l.Tenant+".dialogo.example"))
			for _, r := range l.Roles {
				roles[r] = true
			}
		}
		require.Len(t, roles, len(crm.Roles))

		var out strings.Builder
		require.NoError(t, first.Print(&out))
		require.Regexp(t, `(?m)^operatore1@milano\.dialogo\.example +demo-operatore +operator +milano$`, out.String())
	})
}

func comuneBySlug(t *testing.T, slug string) comune {
	t.Helper()
	for _, c := range comuni {
		if c.Slug == slug {
			return c
		}
	}
	t.Fatalf("no comune %s", slug)
	return comune{}
}

// rowCounts counts the rows of every table of the database.
func rowCounts(t *testing.T, pool *pgxpool.Pool) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Contains(t, tables, "messages")
	counts := map[string]int64{}
	for _, table := range tables {
		var n int64
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n))
		counts[table] = n
	}
	return counts
}
