package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// axePath is where `make assets` (npm ci in web/static) puts axe-core,
// relative to the root of the repository.
const axePath = "web/static/node_modules/axe-core/axe.min.js"

// AxeTags are the axe-core rule tags that Axe runs: WCAG 2.0 and 2.1, levels A
// and AA, which is what AgID requires of Italian public services.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// Violation is an axe-core rule that the page breaks, with the elements that
// break it.
type Violation struct {
	ID      string          `json:"id"`     // e.g. "image-alt"
	Impact  string          `json:"impact"` // minor, moderate, serious or critical
	Help    string          `json:"help"`
	HelpURL string          `json:"helpUrl"`
	Nodes   []ViolationNode `json:"nodes"`
}

// ViolationNode is one element that breaks a rule.
type ViolationNode struct {
	// Target is the CSS selector of the element: a list with one selector,
	// or more for an element inside iframes or shadow roots.
	Target         []any  `json:"target"`
	HTML           string `json:"html"`
	FailureSummary string `json:"failureSummary"`
}

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s\n    %s", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    - %v  %s", n.Target, n.HTML)
		for line := range strings.SplitSeq(n.FailureSummary, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				fmt.Fprintf(&b, "\n        %s", line)
			}
		}
	}
	return b.String()
}

// Axe scans the page in the tab of ctx with axe-core and fails t, listing
// each violation of WCAG 2.1 A or AA with the elements that break it.
func Axe(ctx context.Context, t testing.TB) {
	t.Helper()
	violations := AxeViolations(ctx, t)
	if len(violations) == 0 {
		return
	}
	url, _ := chromedp.Run(ctx, chromedp.Location())
	var b strings.Builder
	fmt.Fprintf(&b, "axe-core: %d WCAG 2.1 A/AA violations on %s:", len(violations), url)
	for _, v := range violations {
		b.WriteString("\n  ")
		b.WriteString(v.String())
	}
	t.Error(b.String())
}

// AxeViolations scans the page in the tab of ctx with axe-core, injecting it
// the first time, and returns the violations of the rules tagged AxeTags. It
// fails t only when the scan cannot run.
func AxeViolations(ctx context.Context, t testing.TB) []Violation {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		t.Fatalf("browsertest: checking for axe-core in the page: %v", err)
	}
	if !loaded {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
			t.Fatalf("browsertest: injecting axe-core: %v", err)
		}
	}
	tags, _ := json.Marshal(AxeTags) // a []string always marshals
	script := `(async () => {
		const r = await axe.run(document, {runOnly: {type: "tag", values: ` + string(tags) + `}, resultTypes: ["violations"]});
		return r.violations.map(v => ({
			id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl,
			nodes: v.nodes.map(n => ({target: n.target, html: n.html, failureSummary: n.failureSummary || ""})),
		}));
	})()`
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]Violation](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("browsertest: running axe-core: %v", err)
	}
	return violations
}

// axeSource reads axe-core once for all the tests of a package.
var axeSource = sync.OnceValues(func() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(root, axePath))
	if err != nil {
		return "", fmt.Errorf("reading axe-core (run make assets, which installs it with npm): %w", err)
	}
	return string(b), nil
})

// repoRoot finds the root of the repository, the folder of go.mod, from the
// working folder of the test, which is its package's folder.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working folder: cannot find the repository's root")
		}
		dir = parent
	}
}
