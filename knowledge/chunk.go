package knowledge

import (
	"strings"
	"unicode/utf8"
)

// Chunk sizes, in characters. Chunks aim at between minChunk and maxChunk, and
// a passage split for length repeats the last overlap characters of the chunk
// before it, so that a sentence cut in two is still found whole.
const (
	maxChunk = 1200
	minChunk = 800
	overlap  = 150
)

// Chunk is a passage of a document with where it sits in it.
type Chunk struct {
	Title       string // the document's title
	SectionPath string // headings above the passage, outermost first, joined by " > "
	Text        string
}

// block is a unit that is never split unless it is longer than a chunk: a
// paragraph, a whole list, a code block.
type block struct {
	path []string
	text string
}

// chunkMarkdown splits Markdown into chunks. The first level-1 heading is the
// title when title is empty; the other headings make the section path.
func chunkMarkdown(title, body string) (string, []Chunk) {
	title, blocks := markdownBlocks(title, body)
	return title, assemble(title, blocks)
}

// chunkText splits plain text, whose paragraphs are separated by blank lines.
func chunkText(title, body string) []Chunk {
	var blocks []block
	for _, p := range splitParagraphs(body) {
		blocks = append(blocks, block{text: p})
	}
	return assemble(title, blocks)
}

func splitParagraphs(body string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func markdownBlocks(title, body string) (string, []block) {
	var (
		blocks []block
		path   []string // path[i] is the heading of level i+2
		cur    []string
		inList bool
		inCode bool
	)
	flush := func() {
		if t := strings.TrimSpace(strings.Join(cur, "\n")); t != "" {
			blocks = append(blocks, block{path: append([]string(nil), path...), text: t})
		}
		cur, inList = nil, false
	}
	for _, line := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		trimmed := strings.TrimSpace(line)
		if inCode {
			cur = append(cur, line)
			if strings.HasPrefix(trimmed, "```") {
				inCode = false
				flush()
			}
			continue
		}
		switch {
		case strings.HasPrefix(trimmed, "```"):
			flush()
			inCode = true
			cur = append(cur, line)
		case isHeading(trimmed):
			flush()
			level := len(trimmed) - len(strings.TrimLeft(trimmed, "#"))
			text := strings.TrimSpace(strings.TrimRight(strings.TrimLeft(trimmed, "#"), "#"))
			if level == 1 {
				if title == "" {
					title = text
				}
				path = nil
				continue
			}
			depth := level - 2
			if depth > len(path) {
				depth = len(path)
			}
			path = append(path[:depth], text)
		case trimmed == "":
			// A blank line inside a list keeps the list together, as long as the
			// next non-blank line continues it; a paragraph ends here.
			if !inList {
				flush()
			} else {
				cur = append(cur, "")
			}
		case isListItem(trimmed):
			if !inList {
				flush()
				inList = true
			}
			cur = append(cur, line)
		default:
			if inList && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") && len(cur) > 0 && cur[len(cur)-1] == "" {
				flush()
			}
			cur = append(cur, line)
		}
	}
	flush()
	return title, blocks
}

func isHeading(line string) bool {
	n := len(line) - len(strings.TrimLeft(line, "#"))
	return n >= 1 && n <= 6 && len(line) > n && line[n] == ' '
}

func isListItem(line string) bool {
	if strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* ") || strings.HasPrefix(line, "+ ") {
		return true
	}
	i := 0
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	return i > 0 && i < len(line)-1 && (line[i] == '.' || line[i] == ')') && line[i+1] == ' '
}

// assemble packs blocks into chunks: a chunk never spans two sections, takes
// whole blocks while it stays under maxChunk, and a block longer than that is
// cut at sentence ends with overlap.
func assemble(title string, blocks []block) []Chunk {
	var (
		out  []Chunk
		cur  []string
		size int
		path string
	)
	flush := func() {
		if len(cur) > 0 {
			out = append(out, Chunk{Title: title, SectionPath: path, Text: strings.Join(cur, "\n\n")})
		}
		cur, size = nil, 0
	}
	for _, b := range blocks {
		p := strings.Join(b.path, " > ")
		if p != path {
			flush()
			path = p
		}
		n := utf8.RuneCountInString(b.text)
		if size > 0 && size+n > maxChunk {
			flush()
		}
		if n <= maxChunk {
			cur = append(cur, b.text)
			size += n + 2
			if size >= minChunk {
				flush()
			}
			continue
		}
		flush()
		for _, piece := range splitLong(b.text) {
			out = append(out, Chunk{Title: title, SectionPath: path, Text: piece})
		}
	}
	flush()
	return out
}

// splitLong cuts a text longer than maxChunk into pieces near maxChunk, at the
// end of a sentence (or line, or word) where there is one, each piece starting
// with the last overlap characters of the one before.
func splitLong(text string) []string {
	r := []rune(text)
	var out []string
	start := 0
	for start < len(r) {
		end := start + maxChunk
		if end >= len(r) {
			out = append(out, strings.TrimSpace(string(r[start:])))
			break
		}
		cut := -1
		for i := end; i > start+minChunk/2; i-- {
			if (r[i-1] == '.' || r[i-1] == '\n' || r[i-1] == ';') && (r[i] == ' ' || r[i] == '\n') {
				cut = i
				break
			}
		}
		if cut < 0 {
			for i := end; i > start+minChunk/2; i-- {
				if r[i] == ' ' {
					cut = i
					break
				}
			}
		}
		if cut < 0 {
			cut = end
		}
		out = append(out, strings.TrimSpace(string(r[start:cut])))
		next := cut - overlap
		// Start the overlap on a word boundary.
		for next < cut && next > start && r[next-1] != ' ' && r[next-1] != '\n' {
			next++
		}
		if next <= start {
			next = cut
		}
		start = next
	}
	return out
}
