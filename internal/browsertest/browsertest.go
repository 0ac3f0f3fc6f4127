// Package browsertest runs Dialogo's pages in a real headless Chromium for
// tests: Debian's chromium package, driven through the DevTools protocol by
// chromedp, never a browser that a test tool downloads.
//
// A test starts one browser and opens a tab for each person in the scene; each
// person has a browser context of their own (cookies, storage, cache), as if
// they were on separate machines:
//
//	b := browsertest.Start(t)
//	citizen, operator := b.NewUser(t), b.NewUser(t)
//	err := chromedp.Do(citizen, chromedp.Navigate(srv.URL+"/chat"))
//
// New is the short form for a test with one person. Axe scans the page for
// WCAG 2.1 A and AA violations with axe-core, WatchErrors fails a test on
// console errors, exceptions and failed requests, and Screenshot saves what
// the page looks like.
//
// Without Chromium the tests that use this package are skipped, except in CI
// (CI=true), where they fail: `make deps` installs it.
package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package puts the browser. The
// variable DIALOGO_CHROMIUM names another one.
const ChromiumPath = "/usr/bin/chromium"

// Browser is one Chromium process that lives as long as the test that started
// it.
type Browser struct {
	ctx     context.Context // the browser's first context, whose tab is not used
	timeout time.Duration
}

type config struct {
	fakeMedia     bool
	width, height int
	timeout       time.Duration
}

// Option changes how Start runs Chromium.
type Option func(*config)

// FakeMedia gives the pages a fake camera and microphone (a test pattern and a
// beep) and grants them without asking, for the video tests of the remote desk.
func FakeMedia() Option {
	return func(c *config) { c.fakeMedia = true }
}

// WindowSize sets the size of the browser window, 1280×800 by default.
func WindowSize(width, height int) Option {
	return func(c *config) { c.width, c.height = width, height }
}

// Timeout bounds everything done with the contexts that NewUser returns, two
// minutes by default, so that a page that never shows what a test waits for
// fails the test instead of hanging it until go test's own timeout.
func Timeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// New starts a browser for t and returns the context of a tab for one user.
func New(t testing.TB, opts ...Option) context.Context {
	t.Helper()
	return Start(t, opts...).NewUser(t)
}

// Start starts Chromium for t with a fresh profile; the browser stops when the
// test ends. It skips t when Chromium is not installed, but fails it in CI.
func Start(t testing.TB, opts ...Option) *Browser {
	t.Helper()
	cfg := config{width: 1280, height: 800, timeout: 2 * time.Minute}
	for _, o := range opts {
		o(&cfg)
	}
	path := chromium(t)

	// TempDir first: cleanups run last-in first-out, so the browser has
	// stopped when its profile folder is removed.
	profile := t.TempDir()
	allocOpts := append(chromedp.DefaultExecAllocatorOptions[:], // headless, no-first-run, disable-sync, ...
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(cfg.width, cfg.height),
		chromedp.DisableGPU,
		// With no network but loopback, Chromium's own connections only fail,
		// many at a time: keep it from trying.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to start its sandbox as root.
		allocOpts = append(allocOpts, chromedp.NoSandbox)
	}
	if cfg.fakeMedia {
		allocOpts = append(allocOpts,
			chromedp.Flag("use-fake-ui-for-media-stream", true),
			chromedp.Flag("use-fake-device-for-media-stream", true),
		)
	}
	output := &lockedBuffer{}
	allocOpts = append(allocOpts, chromedp.CombinedOutput(output))

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: starting %s: %v\n%s", path, err, output)
	}
	return &Browser{ctx: ctx, timeout: cfg.timeout}
}

// NewUser opens a tab in a new browser context of b: a user with cookies,
// storage and cache of their own. The tab closes when the test ends, or when
// the timeout of Start passes.
func (b *Browser) NewUser(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// Open the tab now, with a context that has no deadline: the first action
	// on a context ties the tab's life to it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: opening a tab: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, b.timeout)
	t.Cleanup(cancelTimeout)
	return ctx
}

// chromium returns the path of the browser, or ends t when there is none.
func chromium(t testing.TB) string {
	t.Helper()
	path := ChromiumPath
	if p := os.Getenv("DIALOGO_CHROMIUM"); p != "" {
		path = p
	}
	err := executable(path)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("browsertest: no Chromium at %s (%v): install Debian's chromium package (make deps)", path, err)
	if inCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func executable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// inCI tells whether the tests run in continuous integration, where a missing
// browser is a broken machine and not a choice of the developer.
func inCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

// lockedBuffer collects the browser's output, which chromedp writes from
// another goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
