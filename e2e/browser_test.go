package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The browser tests drive a real headless Chromium through chromedp. Without
// one on PATH they skip, saying so; CI installs Debian's chromium and sets
// CHROMIUM_REQUIRED=1, so there they fail instead.

// chromiumNames are the executables looked for on PATH, in order.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CHROMIUM_REQUIRED") != "" {
		t.Fatalf("CHROMIUM_REQUIRED is set but none of %v is on PATH", chromiumNames)
	}
	t.Skipf("no Chromium on PATH (looked for %v): install it (apt-get install -y chromium) to run the browser tests; CHROMIUM_REQUIRED=1 makes this a failure", chromiumNames)
	return ""
}

// browser is one headless Chromium for a test; every tab opened from it
// ends with the test.
type browser struct {
	t   *testing.T
	ctx context.Context // the browser's first tab; tabs derive from it
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(900, 900),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to run as root with its sandbox.
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx), "start Chromium (%s)", path)
	return &browser{t: t, ctx: ctx}
}

// tab is one page in its own browser context (separate storage, as in
// another browser), with what it wrote to the console.
type tab struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string // exceptions, console errors and browser-log errors
	done     chan struct{}
}

// open opens url in a new, independent browser context.
func (b *browser) open(url string) *tab {
	t := b.t
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	tb := &tab{t: t, ctx: ctx, done: make(chan struct{})}
	// Subscribe before navigating, so nothing the page writes is missed.
	messages := chromedp.Console(ctx)
	go func() {
		defer close(tb.done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && !m.IsException() {
				continue
			}
			tb.mu.Lock()
			tb.problems = append(tb.problems, fmt.Sprintf("%s (%s %s:%d)", m, m.Source, m.URL, m.Line))
			tb.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-tb.done
	})
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url)), "open %s", url)
	return tb
}

// consoleProblems is what went wrong on the page so far; network errors
// (a refused connection while the server restarts, a 401 the page handles)
// are left out when allowNetwork is set.
func (tb *tab) consoleProblems(allowNetwork bool) []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []string
	for _, p := range tb.problems {
		if allowNetwork && strings.Contains(p, "(network ") {
			continue
		}
		out = append(out, p)
	}
	return out
}

// noConsoleErrors checks the page reported no exception and no error.
func (tb *tab) noConsoleErrors(allowNetwork bool) {
	tb.t.Helper()
	require.Empty(tb.t, tb.consoleProblems(allowNetwork), "console errors on the page")
}

// eval runs js in the page and returns its value.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	require.NoError(tb.t, err, "evaluate %s", js)
	return v
}

// await polls the DOM until js is truthy, failing the test after wait with
// what the page shows.
func (tb *tab) await(what, js string, wait time.Duration) {
	tb.t.Helper()
	_, err := chromedp.Run(tb.ctx, chromedp.Poll[chromedp.Void](js,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(wait)))
	if err != nil {
		tb.t.Fatalf("waiting for %s: %v\nthe page shows: %s\nconsole: %v", what, err, tb.describe(), tb.consoleProblems(false))
	}
}

// describe is the status line and the table as text, for failure messages.
func (tb *tab) describe() string {
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](
		`(document.getElementById("status")?.textContent || "") + " | " + `+
			`[...document.querySelectorAll("#board tbody tr")].map(tr => tr.innerText.replace(/\s+/g, " ")).join(" | ")`))
	if err != nil {
		return "(cannot read the page: " + err.Error() + ")"
	}
	return v
}

// click clicks the element selector finds, as a person does: once its row
// (if it is in one) stopped moving. A row moving between the press and the
// release would make no click, or a click on the row that moved under the
// pointer.
func (tb *tab) click(selector string) {
	tb.t.Helper()
	tb.await("the row of "+selector+" to stand still", settled(selector), wait)
	require.NoError(tb.t, chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible)), "click %s", selector)
}
