package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// actionTimeout bounds each helper's browser round trip. A selector that never
// matches would otherwise block until the whole `go test` timeout fires, and the
// panic from that names no step. It is a ceiling for failures, not a wait:
// every helper returns as soon as chromedp's own condition holds.
const actionTimeout = 30 * time.Second

// Debian's wrapper script, not the binary under /usr/lib, so that the flags in
// /etc/chromium.d (which the package maintainers tune) still apply.
const debianChromium = "/usr/bin/chromium"

const installHint = "run `make test`, which installs chromium and runs npm ci"

// newBrowser starts a fresh headless Chromium process and returns the context
// of its first tab. Each call is a separate process with its own profile
// directory, so two calls give two users who share nothing: no cookies, no
// storage, no cache.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe, err := exec.LookPath("chromium")
	if err != nil {
		exe = debianChromium
	}
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("chromium is not installed (%v); %s", err, installHint)
	}

	// TempDir registers its removal before our cleanup below, and cleanups
	// run last-in first-out, so the browser has exited before its profile
	// is deleted.
	profile := t.TempDir()

	// Built from scratch rather than from DefaultExecAllocatorOptions so the
	// flag set is exactly the one we chose; DisableGPU and Headless are not
	// used because they add --enable-unsafe-swiftshader, --hide-scrollbars
	// and --mute-audio.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// No HTTP/3 attempts, so every request of a journey goes over the
		// TCP connections the test server actually serves.
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	}

	// Not t.Context(): it is canceled before cleanups run, which would kill
	// the browser instead of letting Cancel close it gracefully.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})

	// The first Do binds the browser's lifetime to ctx, so it must run
	// without a timeout; the helpers derive their own bounded contexts.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v; %s", exe, err, installHint)
	}
	return ctx
}

// newIsolatedTab opens a tab in a new incognito-like browser context of the
// browser behind ctx. It shares the process, so it starts faster than
// newBrowser, but its cookies and storage are its own.
func newIsolatedTab(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("opening an isolated tab: %v", err)
	}
	return tab
}

// do runs steps against the tab with the per-action ceiling and fails the
// test, naming what was being attempted, if any of them fails.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(actx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// run is do for a single action that returns a value.
func run[T any](t *testing.T, ctx context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(actx, action)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// navigate loads url and returns once the load event has fired and the body
// exists.
func navigate(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	do(t, ctx, "navigating to "+url,
		chromedp.Navigate(url),
		chromedp.WaitReady(chromedp.CSS("body")),
	)
}

// fill replaces the value of the form control matched by the CSS selector
// with value, typing it as key events so input handlers see real typing.
//
// The field is emptied by script because neither chromedp way works here:
// SetValue(sel, "") sends its empty argument through a JSON v2 omitempty field,
// so the page receives undefined and the field reads "undefined"; Clear edits
// the value attribute, which stops controlling the field once it was typed in.
func fill(t *testing.T, ctx context.Context, selector, value string) {
	t.Helper()
	quoted, err := json.Marshal(selector)
	if err != nil {
		t.Fatalf("quoting selector %s: %v", selector, err)
	}
	do(t, ctx, fmt.Sprintf("filling %s", selector),
		chromedp.WaitVisible(chromedp.CSS(selector)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).value = ''`, quoted)),
		chromedp.SendKeys(chromedp.CSS(selector), value),
	)
}

// submit clicks the element matched by the CSS selector and waits until the
// page it leads to has loaded, following redirects. It returns the response of
// the final document so a journey can assert on the status code. A click that
// does not navigate makes it fail after actionTimeout.
func submit(t *testing.T, ctx context.Context, selector string) *network.Response {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(actx, chromedp.Click(chromedp.CSS(selector)))
	if err != nil {
		t.Fatalf("clicking %s and waiting for the next page: %v", selector, err)
	}
	return resp
}

// text returns the rendered text (innerText) of the first element matched by
// the CSS selector, waiting for it to appear.
func text(t *testing.T, ctx context.Context, selector string) string {
	t.Helper()
	return run(t, ctx, "reading the text of "+selector, chromedp.Text(chromedp.CSS(selector)))
}

// currentURL returns the address of the page the tab shows.
func currentURL(t *testing.T, ctx context.Context) string {
	t.Helper()
	return run(t, ctx, "reading the current URL", chromedp.Location())
}

// repoRoot is the directory holding go.mod, found by walking up from the
// package directory that `go test` runs in.
var repoRoot = sync.OnceValues(func() (string, error) {
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
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
})

func mustRepoRoot(t *testing.T) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("finding the repository root: %v", err)
	}
	return root
}

// axeSource is read once per test binary; it is 650 kB.
var axeSource = sync.OnceValues(func() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(root, "node_modules", "axe-core", "axe.min.js"))
	return string(b), err
})

// violation is one failed axe rule with the elements that fail it.
type violation struct {
	ID      string          `json:"id"`
	Impact  string          `json:"impact"`
	Help    string          `json:"help"`
	HelpURL string          `json:"helpUrl"`
	Nodes   []violationNode `json:"nodes"`
}

type violationNode struct {
	Target string `json:"target"`
	HTML   string `json:"html"`
}

// axeRun trims axe's results in the page so only what a failure message needs
// crosses the protocol. A target is a list of selectors, one per nested frame,
// each of which is itself a list when it steps through shadow roots.
const axeRun = `axe.run(document, {
	runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}
}).then(r => r.violations.map(v => ({
	id: v.id,
	impact: v.impact || '',
	help: v.help,
	helpUrl: v.helpUrl,
	nodes: v.nodes.map(n => ({
		target: n.target.map(s => [].concat(s).join(' >>> ')).join(' | '),
		html: n.html
	}))
})))`

// axeViolations runs axe-core against the page the tab shows. The script goes
// in through the DevTools protocol rather than a <script> tag because the
// app's Content-Security-Policy allows only its own scripts, and protocol
// evaluation is exempt from CSP.
func axeViolations(t *testing.T, ctx context.Context) []violation {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("loading axe-core (%v); %s", err, installHint)
	}
	// A page keeps axe until it navigates, so a second check of the same
	// page skips sending the 650 kB bundle again.
	loaded := run(t, ctx, "checking for axe-core", chromedp.Evaluate[bool](`typeof window.axe === 'object'`))
	if !loaded {
		do(t, ctx, "injecting axe-core", chromedp.Evaluate[chromedp.Void](src))
	}
	return run(t, ctx, "running axe-core", chromedp.Evaluate[[]violation](axeRun, chromedp.EvalAwaitPromise))
}

// checkAxe fails the test, without stopping it, if the page the tab shows has
// any WCAG 2.1 A/AA or best-practice violation. pageName says which step of a
// journey the page belongs to, because the URL alone rarely does.
func checkAxe(t *testing.T, ctx context.Context, pageName string) {
	t.Helper()
	vs := axeViolations(t, ctx)
	if len(vs) == 0 {
		return
	}
	t.Errorf("%s", formatViolations(pageName, vs))
}

// maxNodesShown keeps a rule that fails on every row of a long table from
// burying the other rules in the output.
const maxNodesShown = 3

func formatViolations(pageName string, vs []violation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "axe found %d accessibility violation(s) on the %s page:", len(vs), pageName)
	for _, v := range vs {
		fmt.Fprintf(&b, "\n- %s [%s]: %s (%s)", v.ID, v.Impact, v.Help, v.HelpURL)
		for i, n := range v.Nodes {
			if i == maxNodesShown {
				fmt.Fprintf(&b, "\n    ... and %d more", len(v.Nodes)-maxNodesShown)
				break
			}
			fmt.Fprintf(&b, "\n    %s\n      %s", n.Target, n.HTML)
		}
	}
	return b.String()
}

// shots numbers each journey's screenshots so the files sort in the order the
// journey took them. A journey is a top-level test: its subtests are its
// steps and share its folder.
var shots = struct {
	sync.Mutex
	count map[string]int
}{count: map[string]int{}}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// journey is the top-level test's name.
func journey(t *testing.T) string {
	name, _, _ := strings.Cut(t.Name(), "/")
	return name
}

// screenshotDir is PLENARY_SCREENSHOTS, or e2e/screenshots in the repository,
// with a folder per journey so two tests never number into the same place.
func screenshotDir(t *testing.T) string {
	t.Helper()
	base := os.Getenv("PLENARY_SCREENSHOTS")
	if base == "" {
		base = filepath.Join(mustRepoRoot(t), "e2e", "screenshots")
	}
	return filepath.Join(base, unsafeName.ReplaceAllString(journey(t), "_"))
}

// screenshot saves a full-page PNG of the tab as NN-name.png and returns its
// path. The journey's first screenshot empties its folder, so the folder
// only ever shows the latest run, and logs where it is.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	dir := screenshotDir(t)

	shots.Lock()
	n := shots.count[dir] + 1
	shots.count[dir] = n
	shots.Unlock()

	if n == 1 {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("creating the screenshot folder: %v", err)
		}
		old, _ := filepath.Glob(filepath.Join(dir, "*.png"))
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				t.Fatalf("clearing old screenshots: %v", err)
			}
		}
		t.Logf("screenshots: %s", dir)
	}

	png := run(t, ctx, "taking screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(dir, fmt.Sprintf("%02d-%s.png", n, unsafeName.ReplaceAllString(name, "_")))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
	return path
}

// harnessPages is a tiny site with the same strict CSP the app sends, so the
// self-test proves axe injection survives it.
func harnessPages() http.Handler {
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'self'")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, body)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /accessible", page(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Accessible page</title></head>
<body>
<main>
<h1>Say hello</h1>
<form method="post" action="/greet">
<label for="name">Your name</label>
<input id="name" name="name" type="text" autocomplete="name">
<button type="submit">Greet me</button>
</form>
</main>
</body>
</html>`))
	mux.Handle("GET /broken", page(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Broken page</title></head>
<body>
<main>
<h1>Broken</h1>
<img src="/missing.png">
<input type="text">
</main>
</body>
</html>`))
	// A hundred paragraphs run well past the 900-pixel window, which shows
	// whether a screenshot covers the whole page or only the viewport.
	mux.Handle("GET /long", page(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Long page</title></head>
<body>
<main>
<h1>Long</h1>
`+strings.Repeat("<p>A line of a long page.</p>\n", 100)+`</main>
</body>
</html>`))
	// The redirect mirrors the app's post/redirect/get, so submit is shown
	// to wait for the page after the redirect, not the 303 itself.
	mux.HandleFunc("POST /greet", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/hello?name="+r.FormValue("name"), http.StatusSeeOther)
	})
	mux.Handle("GET /hello", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page(`<!doctype html><html lang="en"><head><title>Hello</title></head>
<body><main><h1 id="greeting">Hello, `+html.EscapeString(r.URL.Query().Get("name"))+`</h1></main></body></html>`)(w, r)
	}))
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "who", Value: "alice", Path: "/", HttpOnly: true})
		page(`<!doctype html><html lang="en"><head><title>Logged in</title></head>
<body><main><h1>Logged in</h1></main></body></html>`)(w, r)
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		who := "nobody"
		if c, err := r.Cookie("who"); err == nil {
			who = c.Value
		}
		page(`<!doctype html><html lang="en"><head><title>Who am I</title></head>
<body><main><h1 id="who">`+html.EscapeString(who)+`</h1></main></body></html>`)(w, r)
	})
	return mux
}

func TestHarness(t *testing.T) {
	srv := httptest.NewServer(harnessPages())
	t.Cleanup(srv.Close)
	ctx := newBrowser(t)

	t.Run("an accessible page has no axe violations", func(t *testing.T) {
		navigate(t, ctx, srv.URL+"/accessible")
		if vs := axeViolations(t, ctx); len(vs) != 0 {
			t.Errorf("want no violations, got:\n%s", formatViolations("accessible", vs))
		}
		// A second check on the same page must reuse the injected axe.
		checkAxe(t, ctx, "accessible")
	})

	t.Run("a page with an unlabelled image and input reports both violations", func(t *testing.T) {
		navigate(t, ctx, srv.URL+"/broken")
		vs := axeViolations(t, ctx)
		got := map[string]violation{}
		for _, v := range vs {
			got[v.ID] = v
		}
		for _, id := range []string{"image-alt", "label"} {
			v, ok := got[id]
			if !ok {
				t.Errorf("want a %q violation, got:\n%s", id, formatViolations("broken", vs))
				continue
			}
			if len(v.Nodes) == 0 || v.Nodes[0].Target == "" || v.Nodes[0].HTML == "" {
				t.Errorf("%q violation names no element: %+v", id, v)
			}
		}
		msg := formatViolations("broken", vs)
		for _, want := range []string{"on the broken page", "image-alt", "<img", "critical"} {
			if !strings.Contains(msg, want) {
				t.Errorf("failure message lacks %q:\n%s", want, msg)
			}
		}
	})

	t.Run("a filled form submits and lands on the page after the redirect", func(t *testing.T) {
		navigate(t, ctx, srv.URL+"/accessible")
		fill(t, ctx, "#name", "first try")
		fill(t, ctx, "#name", "Ada")
		resp := submit(t, ctx, "button[type=submit]")
		if resp.Status != http.StatusOK {
			t.Errorf("status after submit = %d, want 200", resp.Status)
		}
		if got, want := currentURL(t, ctx), srv.URL+"/hello?name=Ada"; got != want {
			t.Errorf("URL after submit = %q, want %q", got, want)
		}
		if got, want := text(t, ctx, "#greeting"), "Hello, Ada"; got != want {
			t.Errorf("greeting = %q, want %q", got, want)
		}
	})

	t.Run("screenshots are numbered PNG files in the test's folder", func(t *testing.T) {
		navigate(t, ctx, srv.URL+"/accessible")
		first := screenshot(t, ctx, "form")
		second := screenshot(t, ctx, "form again")
		if got, want := filepath.Base(first), "01-form.png"; got != want {
			t.Errorf("first screenshot is %s, want %s", got, want)
		}
		if got, want := filepath.Base(second), "02-form_again.png"; got != want {
			t.Errorf("second screenshot is %s, want %s", got, want)
		}
		if want := screenshotDir(t); filepath.Dir(first) != want {
			t.Errorf("screenshot saved in %s, want %s", filepath.Dir(first), want)
		}
		for _, path := range []string{first, second} {
			if _, err := decodePNG(path); err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("a screenshot covers the whole page, not just the window", func(t *testing.T) {
		navigate(t, ctx, srv.URL+"/long")
		img, err := decodePNG(screenshot(t, ctx, "long"))
		if err != nil {
			t.Fatal(err)
		}
		if h := img.Bounds().Dy(); h <= 900 {
			t.Errorf("screenshot is %d pixels tall, want the whole page, more than the 900-pixel window", h)
		}
		// A classic scrollbar takes its width off the page, so the check
		// allows for one; Chromium's default headless window is 800 wide.
		if w := img.Bounds().Dx(); w <= 1200 || w > 1280 {
			t.Errorf("screenshot is %d pixels wide, want the 1280-pixel window less any scrollbar", w)
		}
	})

	t.Run("two browsers do not share cookies", func(t *testing.T) {
		alice := newBrowser(t)
		bob := newBrowser(t)
		navigate(t, alice, srv.URL+"/login")
		navigate(t, alice, srv.URL+"/whoami")
		if got := text(t, alice, "#who"); got != "alice" {
			t.Fatalf("the browser that logged in sees %q, want alice", got)
		}
		navigate(t, bob, srv.URL+"/whoami")
		if got := text(t, bob, "#who"); got != "nobody" {
			t.Errorf("the other browser sees %q, want nobody", got)
		}
	})

	t.Run("an isolated tab does not share cookies with its browser", func(t *testing.T) {
		navigate(t, ctx, srv.URL+"/login")
		bob := newIsolatedTab(t, ctx)
		navigate(t, bob, srv.URL+"/whoami")
		if got := text(t, bob, "#who"); got != "nobody" {
			t.Errorf("the isolated tab sees %q, want nobody", got)
		}
		navigate(t, ctx, srv.URL+"/whoami")
		if got := text(t, ctx, "#who"); got != "alice" {
			t.Errorf("the original tab sees %q, want alice", got)
		}
	})
}

func decodePNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s is not a PNG: %w", path, err)
	}
	return img, nil
}
