package widget

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // dates are told in Rome wherever the server runs

	"github.com/dialogo-pa/dialogo/knowledge"
	"github.com/dialogo-pa/dialogo/web/i18n"
)

// sourceCache lets browsers and proxies keep a source page for five minutes:
// it changes only when the source is ingested again, and the assistant's
// answers may send many citizens to the same page.
const sourceCache = "public, max-age=300"

// SourcePath returns the path of the public page of the knowledge-base
// source called sourceName (as it was ingested) for the chat of the ente: the
// page the assistant links to when it cites a source without an address of
// its own. Each segment of the name is escaped, the slashes between them are
// kept; a slash that would make an empty segment, and a segment that is "."
// or "..", are escaped too, since the router would otherwise clean them away.
func SourcePath(enteSlug, sourceName string) string {
	var b strings.Builder
	b.WriteString("/chat/")
	b.WriteString(url.PathEscape(enteSlug))
	b.WriteString("/fonti/")
	segments := strings.Split(sourceName, "/")
	for i, s := range segments {
		if i > 0 {
			if s == "" || segments[i-1] == "" {
				b.WriteString("%2F")
			} else {
				b.WriteByte('/')
			}
		}
		switch s {
		case ".":
			b.WriteString("%2E")
		case "..":
			b.WriteString("%2E%2E")
		default:
			b.WriteString(url.PathEscape(s))
		}
	}
	return b.String()
}

// sourceView is what a source page shows besides the page's chrome.
type sourceView struct {
	Title string
	// Owner is the name of the ente whose shared knowledge base holds the
	// source, empty for a source of the ente of the page.
	Owner      string
	Updated    string // the date of the last update, in the page's language
	UpdatedISO string // the same, for <time datetime>
	Sections   []sourceSection
	ChatURL    string
	Stylesheet string
}

// sourceSection is a run of passages under the same headings.
type sourceSection struct {
	// Headings open the section: the parts of its section path that the
	// section before did not have.
	Headings []sourceHeading
	Blocks   []textBlock
}

type sourceHeading struct {
	Level int // 2 to 6: the page's title is the h1
	Text  string
}

// textBlock is a paragraph, a list or a quotation of a passage.
type textBlock struct {
	Kind  string   // "p", "ul", "ol" or "quote"
	Spans []span   // of a paragraph or a quotation
	Items [][]span // of a list
	Start int      // the number of the first item of an "ol"
}

// span is a run of text with its emphasis, or a link.
type span struct {
	Text   string
	Strong bool
	URL    string // a link's http or https address
}

// sourcePage serves GET /chat/{ente}/fonti/{name...}: a source of the ente's
// knowledge base, or of a shared one, as the assistant reads it. A source
// with a web address of its own is that page: the request is redirected
// there.
func (w *Widget) sourcePage(rw http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	lang := i18n.Lang(r)
	tenant, err := w.store.TenantBySlug(ctx, r.PathValue("ente"))
	if err != nil {
		return err
	}
	if w.pool == nil {
		return fmt.Errorf("widget: the knowledge base has no database")
	}
	src, err := knowledge.SourcePage(ctx, w.pool, tenant.ID, r.PathValue("name"))
	if err != nil {
		return err
	}
	if addr, ok := webAddress(src.URL); ok {
		rw.Header().Set("Cache-Control", sourceCache)
		http.Redirect(rw, r, addr, http.StatusFound)
		return nil
	}
	var owner string
	if src.TenantID != tenant.ID {
		shared, err := w.store.Tenant(ctx, src.TenantID)
		if err != nil {
			return err
		}
		owner = shared.Name
	}
	updated := src.UpdatedAt.In(rome)
	v := pageView{
		Lang:         lang,
		Tenant:       tenant,
		Languages:    languages(lang, false),
		Assets:       w.pageAssets(),
		CacheControl: sourceCache,
		Source: &sourceView{
			Title:      src.Title,
			Owner:      owner,
			Updated:    formatDate(lang, updated),
			UpdatedISO: updated.Format(time.DateOnly),
			Sections:   sections(src.Chunks),
			ChatURL:    "/chat/" + url.PathEscape(tenant.Slug),
			Stylesheet: w.assets.url("source.css"),
		},
	}
	// The language is not remembered here, as the chat page does: a cookie
	// would keep the page out of shared caches.
	return w.render(rw, http.StatusOK, "source.html", v)
}

// webAddress returns addr when it is an absolute http or https address,
// which a citizen can be sent to.
func webAddress(addr string) (string, bool) {
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return u.String(), true
}

// rome is where the ente is: dates are told there.
var rome = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err) // time/tzdata is embedded
	}
	return loc
}()

var monthsIT = [...]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno",
	"luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"}

func formatDate(lang string, t time.Time) string {
	if lang == "it" {
		return fmt.Sprintf("%d %s %d", t.Day(), monthsIT[t.Month()-1], t.Year())
	}
	return t.Format("2 January 2006")
}

// sections groups the passages by section path, with the headings that each
// new path adds to the one before.
func sections(chunks []knowledge.Chunk) []sourceSection {
	var (
		out  []sourceSection
		path []string
	)
	for i, c := range chunks {
		var next []string
		if c.SectionPath != "" {
			next = strings.Split(c.SectionPath, " > ")
		}
		if i == 0 || c.SectionPath != strings.Join(path, " > ") {
			common := 0
			for common < len(next) && common < len(path) && next[common] == path[common] {
				common++
			}
			// A section that goes back to a heading above the current one
			// starts again under that heading, which is shown again.
			if common == len(next) && len(next) > 0 && len(next) < len(path) {
				common--
			}
			s := sourceSection{}
			for j := common; j < len(next); j++ {
				s.Headings = append(s.Headings, sourceHeading{Level: min(j+2, 6), Text: next[j]})
			}
			out = append(out, s)
			path = next
		}
		last := &out[len(out)-1]
		last.Blocks = append(last.Blocks, textBlocks(c.Text)...)
	}
	return out
}

var numbered = regexp.MustCompile(`^(\d{1,9})[.)] `)

// textBlocks reads a passage as the chunker writes it, Markdown or plain
// text: paragraphs separated by blank lines, list items starting with "- ",
// "* ", "+ " or a number, quotations starting with "> ". The lines of a
// paragraph are joined as Markdown does. Everything is text: the page's
// template escapes it, so a passage that looks like HTML shows as written.
func textBlocks(text string) []textBlock {
	var (
		out   []textBlock
		open  *textBlock // the block being read, nil between blocks
		lines []string   // the lines of the open paragraph, quotation or item
		blank bool       // a blank line since the last line of the open list
	)
	flushLines := func() {
		if open == nil || len(lines) == 0 {
			return
		}
		spans := inline(strings.Join(lines, " "))
		if open.Kind == "ul" || open.Kind == "ol" {
			open.Items = append(open.Items, spans)
		} else {
			open.Spans = spans
		}
		lines = nil
	}
	closeBlock := func() {
		flushLines()
		if open != nil {
			out = append(out, *open)
		}
		open, blank = nil, false
	}
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		trimmed := strings.TrimSpace(line)
		kind, rest, start := lineKind(trimmed)
		switch {
		case trimmed == "":
			if open != nil && (open.Kind == "ul" || open.Kind == "ol") {
				// A list may go on after a blank line.
				blank = true
				continue
			}
			closeBlock()
		case kind == "ul" || kind == "ol":
			if open == nil || open.Kind != kind {
				closeBlock()
				open = &textBlock{Kind: kind, Start: start}
			}
			flushLines()
			lines, blank = []string{rest}, false
		case kind == "quote":
			if open == nil || open.Kind != "quote" {
				closeBlock()
				open = &textBlock{Kind: "quote"}
			}
			if rest != "" {
				lines = append(lines, rest)
			}
		default:
			inList := open != nil && (open.Kind == "ul" || open.Kind == "ol")
			indented := strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")
			if open == nil || (inList && blank && !indented) {
				closeBlock()
				open = &textBlock{Kind: "p"}
			}
			// Otherwise the line goes on the open paragraph, quotation or
			// list item.
			lines, blank = append(lines, trimmed), false
		}
	}
	closeBlock()
	return out
}

// lineKind tells whether a trimmed line starts a list item or is a line of
// a quotation, and returns it without its marker.
func lineKind(line string) (kind, rest string, start int) {
	switch {
	case strings.HasPrefix(line, "- "), strings.HasPrefix(line, "* "), strings.HasPrefix(line, "+ "):
		return "ul", strings.TrimSpace(line[2:]), 0
	case line == ">":
		return "quote", "", 0
	case strings.HasPrefix(line, "> "):
		return "quote", strings.TrimSpace(line[2:]), 0
	}
	if m := numbered.FindStringSubmatch(line); m != nil {
		n, _ := strconv.Atoi(m[1]) // nine digits at most
		return "ol", strings.TrimSpace(line[len(m[0]):]), n
	}
	return "", line, 0
}

var link = regexp.MustCompile(`\[([^\[\]]+)\]\((https?://[^\s()]+)\)`)

// inline reads a line's **strong** runs and [links](https://...). The "**"
// are paired from the left; the last one, when unpaired, stays as written,
// and so does a link to anything but an http or https address.
func inline(text string) []span {
	var out []span
	parts := strings.Split(text, "**")
	if n := len(parts); n%2 == 0 {
		parts = append(parts[:n-2], parts[n-2]+"**"+parts[n-1])
	}
	for i, p := range parts {
		strong := i%2 == 1
		for p != "" {
			m := link.FindStringSubmatchIndex(p)
			if m == nil {
				out = append(out, span{Text: p, Strong: strong})
				break
			}
			if m[0] > 0 {
				out = append(out, span{Text: p[:m[0]], Strong: strong})
			}
			out = append(out, span{Text: p[m[2]:m[3]], Strong: strong, URL: p[m[4]:m[5]]})
			p = p[m[1]:]
		}
	}
	return out
}
