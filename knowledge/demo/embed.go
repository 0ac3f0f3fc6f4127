// Package demo holds the demo knowledge base: Italian pages about a Comune's
// typical services, written for this project, loaded by `dialogo demo` and
// evaluated by `dialogo kb eval` against knowledge/eval/dev.jsonl.
package demo

import "embed"

// FS holds the demo pages, one Markdown file each, at its root.
//
//go:embed *.md
var FS embed.FS

// MetroFS holds the pages of the shared knowledge base of the Città
// Metropolitana, which every demo Comune's assistant also searches.
//
//go:embed metro/*.md
var MetroFS embed.FS
