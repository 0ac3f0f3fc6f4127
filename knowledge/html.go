package knowledge

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// boilerplate are the elements whose content is never part of a page's main
// content.
var boilerplate = map[atom.Atom]bool{
	atom.Nav: true, atom.Header: true, atom.Footer: true, atom.Aside: true,
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Form: true,
	atom.Template: true, atom.Svg: true, atom.Iframe: true, atom.Button: true,
}

// htmlToMarkdown extracts a page's main content (its <main>, else its first
// <article>, else its <body>, without navigation and boilerplate) as Markdown
// headings, paragraphs and lists, so that it is chunked like a Markdown file.
// It returns the page's title: its first <h1>, else its <title>.
func htmlToMarkdown(body string) (title, markdown string, err error) {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return "", "", err
	}
	root := find(doc, atom.Main)
	if root == nil {
		root = find(doc, atom.Article)
	}
	if root == nil {
		root = find(doc, atom.Body)
	}
	if root == nil {
		root = doc
	}
	if h1 := find(root, atom.H1); h1 != nil {
		title = inlineText(h1)
	} else if t := find(doc, atom.Title); t != nil {
		title = inlineText(t)
	}
	var b strings.Builder
	writeBlocks(&b, root)
	return title, b.String(), nil
}

func find(n *html.Node, a atom.Atom) *html.Node {
	if n.Type == html.ElementNode && n.DataAtom == a {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && boilerplate[c.DataAtom] {
			continue
		}
		if f := find(c, a); f != nil {
			return f
		}
	}
	return nil
}

func writeBlocks(b *strings.Builder, n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == html.TextNode:
			if t := collapse(c.Data); t != "" {
				b.WriteString(t + "\n\n")
			}
		case c.Type != html.ElementNode || boilerplate[c.DataAtom]:
		case headingLevel(c.DataAtom) > 0:
			if t := inlineText(c); t != "" {
				b.WriteString(strings.Repeat("#", headingLevel(c.DataAtom)) + " " + t + "\n\n")
			}
		case c.DataAtom == atom.P || c.DataAtom == atom.Dd || c.DataAtom == atom.Dt || c.DataAtom == atom.Blockquote || c.DataAtom == atom.Tr:
			if t := inlineText(c); t != "" {
				b.WriteString(t + "\n\n")
			}
		case c.DataAtom == atom.Pre:
			b.WriteString("```\n" + strings.TrimSpace(textContent(c)) + "\n```\n\n")
		case c.DataAtom == atom.Ul || c.DataAtom == atom.Ol:
			i := 0
			for li := c.FirstChild; li != nil; li = li.NextSibling {
				if li.Type != html.ElementNode || li.DataAtom != atom.Li {
					continue
				}
				i++
				marker := "- "
				if c.DataAtom == atom.Ol {
					marker = itoa(i) + ". "
				}
				if t := inlineText(li); t != "" {
					b.WriteString(marker + t + "\n")
				}
			}
			b.WriteString("\n")
		default:
			writeBlocks(b, c)
		}
	}
}

func headingLevel(a atom.Atom) int {
	switch a {
	case atom.H1:
		return 1
	case atom.H2:
		return 2
	case atom.H3:
		return 3
	case atom.H4:
		return 4
	case atom.H5:
		return 5
	case atom.H6:
		return 6
	}
	return 0
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// inlineText is an element's text with whitespace collapsed, without boilerplate.
func inlineText(n *html.Node) string {
	return collapse(textContent(n))
}

func textContent(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			return
		}
		if n.Type == html.ElementNode && boilerplate[n.DataAtom] {
			return
		}
		if n.Type == html.ElementNode && (n.DataAtom == atom.Br || n.DataAtom == atom.Td || n.DataAtom == atom.Th) {
			b.WriteString(" ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
