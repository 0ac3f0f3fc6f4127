package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// PageErrors records what goes wrong in a tab: uncaught exceptions, calls of
// console.error, errors of the browser's log, and requests that fail or are
// answered with an HTTP status of 400 or more (a font or a script that does
// not load).
type PageErrors struct {
	mu   sync.Mutex
	list []string
	urls map[network.RequestID]string
}

// WatchErrors starts recording the errors of the tab of ctx; call it before
// the navigation whose errors matter.
func WatchErrors(ctx context.Context, t testing.TB) *PageErrors {
	t.Helper()
	p := &PageErrors{urls: map[network.RequestID]string{}}
	// Listen, not Events: its func sees an event before the command that
	// follows the event returns, so the errors of a navigation are all there
	// when Navigate returns.
	if err := chromedp.Listen(ctx, p.record); err != nil {
		t.Fatalf("browsertest: watching the page's errors: %v", err)
	}
	return p
}

// record runs in chromedp's event loop: it must be quick and run no command.
func (p *PageErrors) record(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		p.urls[ev.RequestID] = ev.Request.URL
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			p.add("HTTP %d %s", ev.Response.Status, ev.Response.URL)
		}
	case *network.EventLoadingFailed:
		if !ev.Canceled {
			p.add("request failed: %s %s", p.urls[ev.RequestID], ev.ErrorText)
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		p.add("exception at %s:%d: %s", d.URL, d.LineNumber+1, text)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			args := make([]string, len(ev.Args))
			for i, a := range ev.Args {
				args[i] = remoteObjectText(a)
			}
			p.add("console.error: %s", strings.Join(args, " "))
		}
	case *log.EventEntryAdded:
		// The network's own entries repeat the failed requests above.
		if e := ev.Entry; e.Level == log.EntryLevelError && e.Source != log.EntrySourceNetwork {
			p.add("%s error: %s %s", e.Source, e.Text, e.URL)
		}
	}
}

func (p *PageErrors) add(format string, args ...any) {
	p.list = append(p.list, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func remoteObjectText(o *runtime.RemoteObject) string {
	if len(o.Value) > 0 {
		var s string
		if err := json.Unmarshal(o.Value, &s); err == nil {
			return s
		}
		return string(o.Value)
	}
	if o.Description != "" {
		return o.Description
	}
	return string(o.Type)
}

// All returns the errors recorded so far.
func (p *PageErrors) All() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.list...)
}

// Check fails t, listing the errors, if there were any.
func (p *PageErrors) Check(t testing.TB) {
	t.Helper()
	if errs := p.All(); len(errs) > 0 {
		t.Errorf("browsertest: the page had %d errors:\n  %s", len(errs), strings.Join(errs, "\n  "))
	}
}

// Screenshot saves a PNG of the whole page in the tab of ctx at path, for
// looking at what a test saw; it logs where.
func Screenshot(ctx context.Context, t testing.TB, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("browsertest: taking a screenshot: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	t.Logf("screenshot: %s", path)
}
