package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the console shows times in Rome wherever the server runs

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/knowledge"
	"github.com/dialogo-pa/dialogo/web/i18n"
	"github.com/dialogo-pa/dialogo/web/static"
)

//go:embed templates
var templateFS embed.FS

// rome is where the ente is: the console shows its times there.
var rome = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err) // time/tzdata is embedded
	}
	return loc
}()

// pages holds each page's template set, by language then page name. Each set
// is the layout and the shared fragments with the page's own file, and its
// functions speak the set's language, so that templates write {{t "key"}} and
// {{euro .AmountCents}} without passing the language around.
type pages struct {
	sets map[string]map[string]*template.Template
}

// pageNames are the files of templates/ that are pages; layout.html and
// shared.html go into every set.
var pageNames = []string{"login", "inbox", "conversation", "supervisor", "knowledge", "answers", "error"}

func mustParsePages() *pages {
	p := &pages{sets: map[string]map[string]*template.Template{}}
	for _, lang := range i18n.Languages {
		p.sets[lang] = map[string]*template.Template{}
		for _, name := range pageNames {
			t := template.New(name).Funcs(funcs(lang))
			t = template.Must(t.ParseFS(templateFS, "templates/layout.html", "templates/shared.html", "templates/"+name+".html"))
			p.sets[lang][name] = t
		}
	}
	return p
}

// render writes a template of a page's set: "layout" for the whole page, or the
// name of a fragment.
func (c *Console) render(w http.ResponseWriter, status int, lang, page, tmpl string, data any) error {
	set, ok := c.pages.sets[lang]
	if !ok {
		set = c.pages.sets[i18n.Default]
	}
	var buf bytes.Buffer
	if err := set[page].ExecuteTemplate(&buf, tmpl, data); err != nil {
		return fmt.Errorf("rendering %s/%s: %w", page, tmpl, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages hold personal data: no cache may keep them.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// layout is what every page's frame shows; each page's view embeds it.
type layout struct {
	Lang       string
	Title      string
	Nav        string // the current section: inbox, supervisor, knowledge
	PageKind   string // for the script: login, inbox, conversation, supervisor, knowledge, error
	Tenant     crm.Tenant
	Staff      crm.Staff
	SignedIn   bool
	Desk       bool // an operator or supervisor: the inbox and the availability switch
	Supervisor bool
	Editor     bool // a knowledge editor: the knowledge base's sources
	Answers    bool // may read the assistant's answers
	Home       string
	Available  bool
	CSRF       string
	Flash      *flash
	Languages  []language
	Here       string // the current path and query, to come back to after a form
}

// language is a link of the language switch.
type language struct {
	Code, Name, URL string
	Current         bool
}

// newLayout fills the frame of a page for the request.
func (c *Console) newLayout(w http.ResponseWriter, r *http.Request, rq *request, title, nav, kind string) layout {
	l := layout{
		Lang: rq.lang, Title: title, Nav: nav, PageKind: kind,
		Tenant: rq.tenant, Staff: rq.staff, SignedIn: rq.signedIn(), Supervisor: rq.isSupervisor(),
		CSRF: rq.csrf, Flash: c.takeFlash(w, r), Here: here(r), Home: homeOf(rq.actor()),
	}
	if l.SignedIn {
		a := rq.actor()
		l.Desk = a.Has(crm.RoleOperator, crm.RoleSupervisor)
		l.Editor = a.Has(crm.RoleKnowledgeEditor)
		l.Answers = a.Has(crm.RoleKnowledgeEditor, crm.RoleSupervisor)
	}
	if l.Desk {
		av, err := c.store.StaffAvailability(r.Context(), rq.staff.TenantID, rq.staff.ID)
		l.Available = err == nil && av == crm.Available
	}
	for _, code := range i18n.Languages {
		q := r.URL.Query()
		q.Set("lang", code)
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		l.Languages = append(l.Languages, language{Code: code, Name: texts.T(code, "lang.name"), URL: u.String(),
			Current: code == rq.lang})
	}
	return l
}

// homeOf is the console's first page for a staff member: the inbox for
// operators and supervisors, the knowledge base for knowledge editors. Others
// (communication staff) have no page yet: the inbox says so.
func homeOf(a crm.Actor) string {
	if !a.Has(crm.RoleOperator, crm.RoleSupervisor) && a.Has(crm.RoleKnowledgeEditor) {
		return knowledgePath
	}
	return "/console"
}

// here is the request's path and query without the language, to come back to.
func here(r *http.Request) string {
	q := r.URL.Query()
	q.Del("lang")
	if len(q) == 0 {
		return r.URL.Path
	}
	return r.URL.Path + "?" + q.Encode()
}

// funcs are the template functions, in one language.
func funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"t":      func(key string, args ...any) string { return texts.T(lang, key, args...) },
		"static": static.URL,
		"fontsCSS": func() string {
			return "/console/fonts.css?v=" + fontsCSSVersion()
		},
		"biVersion": static.BootstrapItaliaVersion,
		"sprite":    func(icon string) string { return static.URL("vendor/bootstrap-italia/svg/sprites.svg") + "#" + icon },
		"datetime":  timeFunc(func(t time.Time) string { return formatDateTime(lang, t) }),
		"date":      timeFunc(func(t time.Time) string { return formatDate(lang, t) }),
		"iso":       timeFunc(func(t time.Time) string { return t.UTC().Format(time.RFC3339) }),
		"since":     timeFunc(func(t time.Time) string { return formatDuration(lang, now().Sub(t)) }),
		"duration":  func(d time.Duration) string { return formatDuration(lang, d) },
		"euro":      func(cents int64) string { return formatEuro(lang, cents) },
		"bytes":     func(n int64) string { return formatBytes(lang, n) },
		"channel":   func(ch crm.Channel) string { return texts.T(lang, "channel."+string(ch)) },
		"status":    func(s crm.Status) string { return texts.T(lang, "status."+string(s)) },
		"priority":  func(p int) string { return texts.T(lang, "priority."+strconv.Itoa(p)) },
		"identity":  func(k crm.IdentityKind) string { return texts.T(lang, "identity."+string(k)) },
		"verifiedBy": func(m string) string {
			if m == "" {
				return ""
			}
			return texts.T(lang, "verified_by."+m)
		},
		"consentChannel": func(ch string) string { return texts.T(lang, "consent_channel."+ch) },
		"purpose":        func(p string) string { return texts.T(lang, "purpose."+p) },
		"availability":   func(a crm.Availability) string { return texts.T(lang, "availability."+string(a)) },
		"answerKind":     func(k string) string { return texts.T(lang, "answer.kind."+k) },
		"sourceFormat":   func(f knowledge.Format) string { return texts.T(lang, "source.format."+string(f)) },
		"number":         func(n int) string { return formatInt(lang, n) },
		"score": func(x float64) string {
			s := strconv.FormatFloat(x, 'f', 4, 64)
			if lang == "it" {
				s = strings.Replace(s, ".", ",", 1)
			}
			return s
		},
		"share": func(x float64) string {
			// A confidence, between 0 and 1, as a percentage.
			return strconv.Itoa(int(math.Round(100*x))) + "%"
		},
		"percent": func(n, of int) int {
			if of <= 0 {
				return 0
			}
			// In tens: the page draws widths with classes, since its
			// content security policy allows no inline style.
			return min(100, 10*int(math.Round(10*float64(n)/float64(of))))
		},
	}
}

// timeFunc lets a template function take a time.Time or a *time.Time; nil
// shows as nothing.
func timeFunc(f func(time.Time) string) func(any) (string, error) {
	return func(v any) (string, error) {
		switch t := v.(type) {
		case time.Time:
			return f(t), nil
		case *time.Time:
			if t == nil {
				return "", nil
			}
			return f(*t), nil
		}
		return "", fmt.Errorf("not a time: %T", v)
	}
}

// attachmentURL is where the console serves a message's attachment, by its
// token (crm.SaveAttachment's). An attachment with no token, of a channel that
// keeps its files elsewhere, has no address here.
func attachmentURL(a crm.Attachment) string {
	token := attachmentToken(a)
	if token == "" {
		return ""
	}
	return "/console/attachments/" + url.PathEscape(token)
}

func attachmentToken(a crm.Attachment) string {
	if a.Token != "" {
		return a.Token
	}
	// Messages stored before tokens were kept carry the token as the last
	// segment of their URL.
	if a.URL == "" {
		return ""
	}
	u, err := url.Parse(a.URL)
	if err != nil {
		return ""
	}
	return path.Base(strings.TrimSuffix(u.Path, "/"))
}

var monthsIT = [...]string{"gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"}

func formatDate(lang string, t time.Time) string {
	t = t.In(rome)
	if lang == "it" {
		return fmt.Sprintf("%d %s %d", t.Day(), monthsIT[t.Month()-1], t.Year())
	}
	return t.Format("2 Jan 2006")
}

// formatDateTime shows only the time for today, and the day too otherwise.
func formatDateTime(lang string, t time.Time) string {
	t = t.In(rome)
	n := now().In(rome)
	if t.Year() == n.Year() && t.YearDay() == n.YearDay() {
		return t.Format("15:04")
	}
	return formatDate(lang, t) + ", " + t.Format("15:04")
}

// formatDuration is a waiting time as people say it: "45 s", "12 min",
// "2 h 05 min", "3 g".
func formatDuration(lang string, d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
	}
	days := int(d.Hours() / 24)
	if lang == "it" {
		return fmt.Sprintf("%d g", days)
	}
	return fmt.Sprintf("%d d", days)
}

// formatEuro writes an amount in cents as Italians do, "€ 1.234,56", or as
// English readers do, "€1,234.56".
func formatEuro(lang string, cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	units := strconv.FormatInt(cents/100, 10)
	thousands, decimal, space := ".", ",", " "
	if lang != "it" {
		thousands, decimal, space = ",", ".", ""
	}
	var b strings.Builder
	for i, r := range units {
		if i > 0 && (len(units)-i)%3 == 0 {
			b.WriteString(thousands)
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s€%s%s%s%02d", sign, space, b.String(), decimal, cents%100)
}

// formatInt writes a count with the thousands separator of the language.
func formatInt(lang string, n int) string {
	digits := strconv.Itoa(n)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	sep := "."
	if lang != "it" {
		sep = ","
	}
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return sign + b.String()
}

func formatBytes(lang string, n int64) string {
	f := func(v float64, unit string) string {
		s := strconv.FormatFloat(v, 'f', 1, 64)
		if lang == "it" {
			s = strings.Replace(s, ".", ",", 1)
		}
		return s + " " + unit
	}
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1024*1024:
		return f(float64(n)/1024, "KB")
	default:
		return f(float64(n)/(1024*1024), "MB")
	}
}

// templateFiles lists the embedded templates, for the test that checks that
// every text they use is in the catalogue.
func templateFiles() ([]string, error) {
	return fs.Glob(templateFS, "templates/*.html")
}
