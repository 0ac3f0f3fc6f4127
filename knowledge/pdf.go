package knowledge

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"
)

// Limits on a PDF source: a file above them is refused before any of it is
// parsed, so that one document cannot hold ingestion up or exhaust memory.
const (
	MaxPDFSize  = 20 << 20 // bytes
	MaxPDFPages = 1000
)

// The ways a PDF can be refused. Each is wrapped with the details.
var (
	// ErrInvalidPDF is returned for a file that is not a PDF, is damaged, or
	// uses a feature the reader does not support.
	ErrInvalidPDF = errors.New("knowledge: not a readable PDF")
	// ErrEncryptedPDF is returned for a PDF that needs a password to open.
	// (A PDF that is only restricted, with an empty user password, is read.)
	ErrEncryptedPDF = errors.New("knowledge: the PDF is protected by a password")
	// ErrNoText is returned for a PDF without extractable text, typically a
	// scanned document that has not been through OCR.
	ErrNoText = errors.New("knowledge: the PDF has no text (a scanned document needs OCR first)")
)

// pdfLine is a line of text on a page, with what heading detection needs.
type pdfLine struct {
	text    string
	size    float64 // font size of its first glyph, in points
	uniform bool    // every glyph has that size
	bold    bool    // every glyph is in a bold font
	y       float64 // baseline, in points from the bottom of the page
}

// pdfBlocks extracts the text of a PDF, held as bytes in body, as paragraphs
// whose section path is the headings above them followed by "Pagina N".
// Headings are told from the text by their font: larger than the body text,
// or bold where the body is not. The title is the first page's opening
// heading, else the document's Title property. The PDF library panics on
// some damaged files: the panic is turned into ErrInvalidPDF.
func pdfBlocks(body string) (title string, blocks []block, err error) {
	if len(body) > MaxPDFSize {
		return "", nil, fmt.Errorf("%w: the PDF has %d bytes, the limit is %d", ErrTooLarge, len(body), MaxPDFSize)
	}
	data := []byte(body)
	// The library opens only 1.x headers, while PDF 2.0 writes the objects
	// text extraction reads in the same syntax.
	if bytes.HasPrefix(data, []byte("%PDF-2.")) && len(data) > 8 {
		data[5], data[7] = '1', '7'
	}
	defer func() {
		if r := recover(); r != nil {
			title, blocks, err = "", nil, fmt.Errorf("%w: %v", ErrInvalidPDF, r)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	switch {
	case errors.Is(err, pdf.ErrInvalidPassword):
		return "", nil, ErrEncryptedPDF
	case err != nil:
		return "", nil, fmt.Errorf("%w: %v", ErrInvalidPDF, err)
	}
	n := r.NumPage()
	switch {
	case n <= 0:
		return "", nil, fmt.Errorf("%w: it has no pages", ErrInvalidPDF)
	case n > MaxPDFPages:
		return "", nil, fmt.Errorf("%w: the PDF has %d pages, the limit is %d", ErrTooLarge, n, MaxPDFPages)
	}
	pages := make([][]pdfLine, n)
	for i := range pages {
		p := r.Page(i + 1)
		if p.V.IsNull() {
			return "", nil, fmt.Errorf("%w: page %d is missing", ErrInvalidPDF, i+1)
		}
		pages[i] = pdfPageLines(p.Content().Text)
	}
	title, blocks = pdfLayout(dropPageFurniture(pages))
	if len(blocks) == 0 && title == "" {
		return "", nil, ErrNoText
	}
	if title == "" {
		title = pdfInfoTitle(r)
	}
	return title, blocks, nil
}

// pdfInfoTitle is the document's Title property, unless it is the name of the
// file it was made from, as word processors often leave it.
func pdfInfoTitle(r *pdf.Reader) string {
	t := collapse(r.Trailer().Key("Info").Key("Title").Text())
	lower := strings.ToLower(t)
	if strings.HasPrefix(lower, "microsoft word") {
		return ""
	}
	for _, ext := range []string{".doc", ".docx", ".odt", ".rtf", ".pdf"} {
		if strings.HasSuffix(lower, ext) {
			return ""
		}
	}
	return t
}

// pdfPageLines groups a page's glyphs, in the order they are drawn, into
// lines: a glyph starts a new line when its baseline moves by more than half
// the font size. A space is added where the text has one, and where the gap
// before a glyph is wider than a space would be (many PDFs position words
// instead of writing spaces).
func pdfPageLines(glyphs []pdf.Text) []pdfLine {
	var (
		lines   []pdfLine
		b       strings.Builder
		cur     pdfLine
		space   bool
		last    pdf.Text
		started bool
	)
	flush := func() {
		if t := collapse(b.String()); t != "" {
			cur.text = t
			lines = append(lines, cur)
		}
		b.Reset()
		started, space = false, false
	}
	for _, g := range glyphs {
		r, _ := utf8.DecodeRuneInString(g.S)
		r = pdfRune(r)
		if r == 0 {
			continue
		}
		if unicode.IsSpace(r) {
			space = started
			continue
		}
		size := math.Abs(g.FontSize)
		bold := isBoldFont(g.Font)
		if started && math.Abs(g.Y-cur.y) > 0.5*max(size, cur.size) {
			flush()
		}
		if !started {
			cur = pdfLine{size: size, uniform: true, bold: bold, y: g.Y}
			started = true
		} else {
			if space || wordGap(last, g, size) {
				b.WriteByte(' ')
			}
			cur.uniform = cur.uniform && math.Abs(size-cur.size) < 0.5
			cur.bold = cur.bold && bold
		}
		b.WriteRune(r)
		last, space = g, false
	}
	flush()
	return lines
}

// pdfRune maps a glyph's character to the one to keep: the bullets of symbol
// fonts (in the private use area) become "•", and characters that carry no
// text (controls, the replacement character of undecodable glyphs, other
// private use symbols) become 0, to be skipped. The library reports a "\n"
// after each TJ operator, which is no text either: spaces between strings
// are found by wordGap.
func pdfRune(r rune) rune {
	switch {
	case r == '\uf0b7' || r == '\uf0a7' || r == '\uf076' || r == '\uf0d8' || r == '\uf0fc':
		return '•'
	case r == '\t' || r == '\u00a0':
		return ' '
	case r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Co, r):
		return 0
	}
	return r
}

// wordGap tells whether the horizontal gap between two glyphs on a line is a
// space between words. A font without widths puts every glyph of a string at
// the same place, so that a move there means a new string, which in such
// PDFs is a new word or cell.
func wordGap(prev, next pdf.Text, size float64) bool {
	if prev.W == 0 {
		return math.Abs(next.X-prev.X) > 0.5
	}
	gap := next.X - (prev.X + prev.W)
	return gap > 0.15*size || gap < -size
}

func isBoldFont(name string) bool {
	name = strings.ToLower(name)
	return strings.Contains(name, "bold") || strings.Contains(name, "black") || strings.Contains(name, "heavy")
}

// pageNumber matches a line that is only a page number: "3", "- 3 -",
// "3/10", "Pagina 3 di 10", "pag. 3".
var pageNumber = regexp.MustCompile(`(?i)^[\s\-–—|.]*(pag(ina|\.)?\s*)?\d{1,4}(\s*(/|di|of)\s*\d{1,4})?[\s\-–—|.]*$`)

// dropPageFurniture removes page numbers, and the running headers and footers
// that a document of three pages or more repeats at the top or bottom of most
// of its pages ("Comune di Prova - Regolamento TARI - pagina 3"): they are
// not part of any paragraph, and would otherwise be found by every search for
// their words.
func dropPageFurniture(pages [][]pdfLine) [][]pdfLine {
	// edge tells whether a line is one of the first or last two of its page.
	edge := func(lines []pdfLine, i int) bool { return i < 2 || i >= len(lines)-2 }
	key := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsDigit(r) {
				return '#'
			}
			return unicode.ToLower(r)
		}, s)
	}
	repeated := map[string]bool{}
	if len(pages) >= 3 {
		count := map[string]int{}
		for _, lines := range pages {
			seen := map[string]bool{}
			for i, l := range lines {
				if k := key(l.text); edge(lines, i) && !seen[k] {
					seen[k] = true
					count[k]++
				}
			}
		}
		for k, c := range count {
			if c >= 3 && c*10 >= len(pages)*6 {
				repeated[k] = true
			}
		}
	}
	out := make([][]pdfLine, len(pages))
	for p, lines := range pages {
		for i, l := range lines {
			if pageNumber.MatchString(l.text) || edge(lines, i) && repeated[key(l.text)] {
				continue
			}
			out[p] = append(out[p], l)
		}
	}
	return out
}

// roundSize rounds a font size to half a point, so that sizes computed
// through different text matrices compare equal.
func roundSize(s float64) float64 { return math.Round(s*2) / 2 }

// pdfLayout turns a document's lines into its title and blocks.
func pdfLayout(pages [][]pdfLine) (title string, blocks []block) {
	// The body size is the one most text is written in; headings are larger,
	// each larger size a level above, or bold where the body text is not.
	chars := map[float64]int{}
	boldChars, allChars := 0, 0
	for _, lines := range pages {
		for _, l := range lines {
			n := utf8.RuneCountInString(l.text)
			chars[roundSize(l.size)] += n
			allChars += n
			if l.bold {
				boldChars += n
			}
		}
	}
	body, most := 0.0, -1
	for s, n := range chars {
		if n > most || n == most && s < body {
			body, most = s, n
		}
	}
	bodyBold := boldChars*2 > allChars
	headingLike := func(l pdfLine) bool {
		n := utf8.RuneCountInString(l.text)
		return n <= 150 && strings.IndexFunc(l.text, unicode.IsLetter) >= 0 && !startsWithBullet(l.text)
	}
	var sizes []float64 // heading sizes, largest first
	for _, lines := range pages {
		for _, l := range lines {
			if s := roundSize(l.size); l.uniform && s >= body*1.15 && headingLike(l) && !slices.Contains(sizes, s) {
				sizes = append(sizes, s)
			}
		}
	}
	slices.SortFunc(sizes, func(a, b float64) int { return -compareFloat(a, b) })
	level := func(l pdfLine) int {
		if !headingLike(l) {
			return -1
		}
		if i := slices.Index(sizes, roundSize(l.size)); i >= 0 && l.uniform {
			return i
		}
		last, _ := utf8.DecodeLastRuneInString(l.text)
		if l.bold && !bodyBold && roundSize(l.size) >= body && utf8.RuneCountInString(l.text) <= 80 && !strings.ContainsRune(".,;", last) {
			return len(sizes)
		}
		return -1
	}

	// The usual distance between two lines of a paragraph: a wider one
	// separates paragraphs.
	advances := map[float64]int{}
	for _, lines := range pages {
		for i := 1; i < len(lines); i++ {
			prev, l := lines[i-1], lines[i]
			if d := roundSize(prev.y - l.y); d > 0 && d < 3*l.size && roundSize(prev.size) == roundSize(l.size) && level(prev) < 0 && level(l) < 0 {
				advances[d]++
			}
		}
	}
	advance, most := 1.2*body, 0
	for d, n := range advances {
		if n > most || n == most && d < advance {
			advance, most = d, n
		}
	}

	// closeTo tells whether a line follows the one before it in the same
	// paragraph (or heading), rather than after a paragraph's spacing.
	closeTo := func(lines []pdfLine, i int) bool {
		gap := 0.0
		if i > 0 {
			gap = lines[i-1].y - lines[i].y
		}
		return gap > 0 && gap <= advance*1.4
	}

	// The title is the opening heading of the first page, over one line or
	// more, when no other heading is as large: otherwise that size is the
	// one of the sections.
	nTitle := 0
	for first := pages[0]; nTitle < len(first) && level(first[nTitle]) == 0 && (nTitle == 0 || closeTo(first, nTitle)); nTitle++ {
		title = strings.TrimSpace(title + " " + first[nTitle].text)
	}
	for p, lines := range pages {
		for i, l := range lines {
			if (p > 0 || i >= nTitle) && level(l) == 0 {
				title, nTitle = "", 0
			}
		}
	}
	if nTitle > 0 {
		// The title's size is no section's: the next size down is the
		// outermost section's.
		sizes = sizes[1:]
	}

	var (
		path      []string // the headings above, outermost first
		para      []string // the lines of the paragraph or list being read
		list      bool     // para is a list, one item per line
		lastLevel = -1     // the level of the previous line, -1 if it was not a heading
		page      int
	)
	flush := func() {
		if len(para) > 0 {
			sep := " "
			if list {
				sep = "\n"
			}
			p := append(slices.Clone(path), "Pagina "+strconv.Itoa(page+1))
			blocks = append(blocks, block{path: p, text: strings.Join(para, sep)})
		}
		para, list = nil, false
	}
	for page = range pages {
		lines := pages[page]
		for i, l := range lines {
			if page == 0 && i < nTitle {
				continue
			}
			lv := level(l)
			switch {
			case lv >= 0 && lv < len(sizes) && lv == lastLevel && closeTo(lines, i) && len(path) > 0 &&
				utf8.RuneCountInString(path[len(path)-1]+l.text) < 150:
				// A heading over two lines. Longer text in a large font is
				// rather a lead paragraph: its lines stay headings of their
				// own, not one endless heading.
				path[len(path)-1] += " " + l.text
			case lv >= 0:
				flush()
				path = append(path[:min(lv, len(path))], l.text)
			default:
				item, isItem := bulletItem(l.text)
				if len(para) > 0 && (!closeTo(lines, i) || isItem && !list) {
					flush()
				}
				switch {
				case isItem:
					list = true
					para = append(para, item)
				case len(para) == 0:
					para = append(para, l.text)
				default:
					para[len(para)-1] = joinLines(para[len(para)-1], l.text)
				}
			}
			lastLevel = lv
		}
		flush()
		lastLevel = -1
	}
	return title, blocks
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// bullets are the characters list items start with, which bulletItem turns
// into Markdown's "- ".
var bullets = []string{"•", "●", "▪", "■", "◦", "‣", "–", "-", "*"}

func startsWithBullet(s string) bool {
	_, ok := bulletItem(s)
	return ok
}

// bulletItem tells whether a line starts a list item, and returns it with a
// Markdown marker: bulleted items get "- ", numbered ones ("1.", "2)") are
// kept as they are.
func bulletItem(s string) (string, bool) {
	for _, b := range bullets {
		if rest, ok := strings.CutPrefix(s, b); ok && (rest == "" || rest[0] == ' ') {
			return "- " + strings.TrimSpace(rest), true
		}
	}
	if isListItem(s) {
		return s, true
	}
	return s, false
}

// joinLines joins a line to the one before it in a paragraph, undoing the
// hyphenation of a word cut at the end of the line.
func joinLines(prev, next string) string {
	if strings.HasSuffix(prev, "-") && len(prev) > 1 {
		before, _ := utf8.DecodeLastRuneInString(prev[:len(prev)-1])
		first, _ := utf8.DecodeRuneInString(next)
		if unicode.IsLetter(before) && unicode.IsLower(first) {
			return prev[:len(prev)-1] + next
		}
	}
	return prev + " " + next
}
