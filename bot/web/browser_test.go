package web

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/dialogue"
	botsession "github.com/impbot/impbot/bot/session"
	"github.com/impbot/impbot/bot/testmain"
	"github.com/impbot/impbot/index"
	"github.com/impbot/impbot/knowledge"
)

// These tests drive the widget in a real headless Chromium (Debian's
// chromium package; .ci/run installs it). Without a browser they skip, but
// under CI=true they fail: the browser tests are part of what CI checks.
//
// IMPBOT_SCREENSHOTS=DIR saves the screenshots (desktop, phone, dark) there;
// bot/web/screenshots holds the current ones for the README.

func findChromium(t *testing.T) string {
	t.Helper()
	if p := lookChromium(); p != "" {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH, and CI=true: the browser tests must run in CI (apt-get install chromium)")
	}
	t.Skip("SKIPPED: no chromium on PATH (apt-get install chromium); the widget's browser tests did not run")
	return ""
}

func lookChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserErr    error
	browserCancel = func() {}
)

// TestMain lets up to 8 tests of this package run at once (unless
// -test.parallel is given; by default only GOMAXPROCS do, 2 on the CI
// machine): the browser tests mostly wait on Chromium and on the widget's
// reconnection delays, the rate-limit test on its limiter, while the others
// use the cores. It starts the shared browser at once when a browser test
// is to run (its start overlaps the indexes'), and closes it at the end.
func TestMain(m *testing.M) {
	testmain.Parallel(8)
	if p := lookChromium(); p != "" && browserTestsRun() {
		go browserOnce.Do(func() { startBrowser(p) })
	}
	code := m.Run()
	browserOnce.Do(func() {}) // waits for a start begun above
	browserCancel()
	testmain.Exit(code) // no ThreadSanitizer exit sleep under -race (package testmain)
}

// newBrowser returns a new tab of one headless Chromium shared by the tests
// (a fresh profile in a temporary folder).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := findChromium(t)
	browserOnce.Do(func() { startBrowser(path) })
	if browserErr != nil {
		t.Fatalf("start chromium: %v", browserErr)
	}
	ctx, cancelT := chromedp.NewContext(browserCtx)
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancel(); cancelT() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

// browserTestsRun tells whether -test.run (if given) may select a browser
// test: only then is the browser started ahead.
func browserTestsRun() bool {
	f := flag.Lookup("test.run")
	if f == nil || f.Value.String() == "" {
		return true
	}
	re, err := regexp.Compile(strings.SplitN(f.Value.String(), "/", 2)[0])
	return err != nil || re.MatchString("TestBrowserWidget") || re.MatchString("TestBrowserWidgetOrigins") || re.MatchString("TestBrowserReconnectAndFallback")
}

// startBrowser starts the shared headless Chromium (once, under
// browserOnce) with a fresh profile in a temporary folder.
func startBrowser(path string) {
	dir, err := os.MkdirTemp("", "impbot-chromium-")
	if err != nil {
		browserErr = err
		return
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	browserCancel = func() { cancelB(); cancelA(); _ = os.RemoveAll(dir) }
	browserErr = chromedp.Do(bctx, chromedp.Navigate("about:blank"))
	browserCtx = bctx
}

// htmlArticleRouter is the real router on a copy of the shipped knowledge
// in which one article's body carries raw HTML and a javascript: link.
func htmlArticleRouter(t *testing.T) bot.Handler {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../knowledge")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "en", "employer-compliance-fee.md")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	evil := "\n\n<img src=x onerror=\"window.pwned='article img'\"><script>window.pwned='article script'</script>" +
		"\n\n[click me](javascript:window.pwned='article link') <b onmouseover=\"window.pwned=1\">bold?</b>\n"
	if err := os.WriteFile(p, append(data, evil...), 0o644); err != nil {
		t.Fatal(err)
	}
	b, probs := knowledge.LoadDir(dir)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	ix, err := index.Build(b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	r := bot.NewRouter(ix, bot.Options{OrgName: "Maple & Co.", Contact: "help@maple.example", Observer: &feedbackCounter{}, MaxReplyChars: 4000})
	rules, rp := dialogue.Parse("eligibility.yaml", b.Files[dialogue.File], b)
	if len(rp) > 0 {
		t.Fatal(rp)
	}
	store := botsession.NewMemory(30 * time.Minute)
	eng, err := dialogue.New(rules, dialogue.Options{Store: store, Notice: r.Notice})
	if err != nil {
		t.Fatal(err)
	}
	r.SetDialogue(eng)
	r.AddForgetter(store)
	return bot.Chain(r, bot.Recover())
}

// originLog records the chat requests refused for their origin.
type originLog struct {
	mu      sync.Mutex
	refused map[string]int
}

func (o *originLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: 200}
		h.ServeHTTP(rec, r)
		if strings.HasPrefix(r.URL.Path, "/chat/") && rec.code == http.StatusForbidden {
			o.mu.Lock()
			o.refused[r.Header.Get("Origin")+" "+r.Method+" "+r.URL.Path]++
			o.mu.Unlock()
		}
	})
}

func (o *originLog) count(prefix string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for k, v := range o.refused {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) { s.code = code; s.ResponseWriter.WriteHeader(code) }

// Hijack lets the WebSocket upgrade through the recorder.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(s.ResponseWriter).Hijack()
}

func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("eval %s: %v", js, err)
	}
	return v
}

// waitJS waits (generously: the machine is shared) until js is truthy.
func waitJS(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js,
		chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(patience)))
	if err != nil {
		state := eval[string](t, ctx, `(document.querySelector('#impbot .impbot-log')||document.body).innerText.slice(-1500)`)
		t.Fatalf("waiting for %s (%s): %v\nwidget shows:\n%s", what, js, err, state)
	}
}

// Counting what the widget shows.
const (
	jsEntries = `document.querySelectorAll('#impbot .impbot-entry').length`
	jsPending = `document.querySelectorAll('#impbot .impbot-pending').length`
)

// ask types text into the widget, presses Enter and waits for the answer.
func ask(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	n := eval[int](t, ctx, jsEntries)
	do(t, ctx, "type "+text, chromedp.SendKeys(chromedp.CSS("#impbot-input"), text+"\r"))
	waitJS(t, ctx, "the answer to "+text, fmt.Sprintf(`%s >= %d && %s === 0`, jsEntries, n+2, jsPending))
}

// press clicks a button and waits for the answer.
func press(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	n := eval[int](t, ctx, jsEntries)
	do(t, ctx, "click "+sel, chromedp.Click(chromedp.CSS(sel)))
	waitJS(t, ctx, "the answer to "+sel, fmt.Sprintf(`%s >= %d && %s === 0`, jsEntries, n+2, jsPending))
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	// Show the last question with the start of its answer.
	do(t, ctx, "scroll", chromedp.Evaluate[chromedp.Void](`(() => { const u = [...document.querySelectorAll('#impbot .impbot-entry .impbot-user')].pop(); if (u) u.scrollIntoView({block: 'start'}); })()`))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := os.Getenv("IMPBOT_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", p, len(png))
}

const jsLastBot = `(() => { const b = document.querySelectorAll('#impbot .impbot-entry .impbot-bot'); return b[b.length-1]; })()`

func TestBrowserWidget(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	h := htmlArticleRouter(t)
	staff := &fakeStaff{}
	s, err := New(Config{Handler: h, Staff: staff,
		Title: "Maple & Co. assistant", ThemeColor: "#7a1f1f", PerSession: 5, PerSessionBurst: 20})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close()
	s.markReady()

	do(t, ctx, "viewport", chromedp.EmulateViewport(1280, 800))
	do(t, ctx, "open the demo page", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".impbot-launcher")))

	t.Run("open and greeting", func(t *testing.T) {
		if got := eval[string](t, ctx, `document.querySelector('.help').innerText`); !strings.Contains(got, "Hello, let's connect to discuss.") {
			t.Fatalf("demo page box: %q", got)
		}
		do(t, ctx, "open", chromedp.Click(chromedp.CSS("[data-impbot-open]")), chromedp.WaitVisible(chromedp.CSS("#impbot-panel")))
		waitJS(t, ctx, "the greeting", `document.querySelector('#impbot .impbot-log').innerText.includes('International Mobility Program')`)
		if eval[string](t, ctx, `document.activeElement.id`) != "impbot-input" {
			t.Error("opening the panel does not focus the input")
		}
		waitJS(t, ctx, "web.title from the server", `document.querySelector('#impbot-title').textContent === 'Maple & Co. assistant'`)
		if got := eval[string](t, ctx, `getComputedStyle(document.querySelector('.impbot-head')).backgroundColor`); got != "rgb(122, 31, 31)" {
			t.Errorf("header colour %q, want web.theme_color #7a1f1f", got)
		}
	})

	t.Run("question gets the article with sources, safely", func(t *testing.T) {
		// The hostile HTML is appended to the article's last section
		// (refunds), which is the passage this question is answered with.
		ask(t, ctx, "how long does the employer compliance fee refund take")
		topic := eval[string](t, ctx, jsLastBot+`.getAttribute('data-topic')`)
		if topic != "employer-compliance-fee" {
			t.Fatalf("answered %q", topic)
		}
		text := eval[string](t, ctx, jsLastBot+`.innerText`)
		for _, want := range []string{"$230", "Sources", "Reviewed", "bold?", "click me"} {
			if !strings.Contains(text, want) {
				t.Errorf("answer lacks %q:\n%s", want, text)
			}
		}
		links := eval[[]string](t, ctx, `[...`+jsLastBot+`.querySelectorAll('a')].map(a => a.href + ' ' + a.rel + ' ' + a.target)`)
		if len(links) == 0 {
			t.Fatal("no source links")
		}
		for _, l := range links {
			if !strings.HasPrefix(l, "https://") || !strings.Contains(l, "noopener noreferrer _blank") {
				t.Errorf("unsafe link %q", l)
			}
		}
		if n := eval[int](t, ctx, `document.querySelectorAll('#impbot img, #impbot script, #impbot [onerror], #impbot [onmouseover]').length`); n != 0 {
			t.Errorf("the article's raw HTML made %d elements", n)
		}
		if got := eval[string](t, ctx, `String(window.pwned)`); got != "undefined" {
			t.Errorf("article HTML ran: window.pwned = %s", got)
		}
		// Everything the page loaded came from the bot itself.
		for _, u := range eval[[]string](t, ctx, `performance.getEntriesByType('resource').map(e => e.name)`) {
			if !strings.HasPrefix(u, ts.URL+"/") {
				t.Errorf("request to %s: only the bot's own origin is allowed", u)
			}
		}
		if n := eval[int](t, ctx, jsLastBot+`.querySelectorAll('button[data-action^="f:"]').length`); n != 2 {
			t.Errorf("%d feedback buttons, want 👍 and 👎", n)
		}
	})

	t.Run("suggestion button", func(t *testing.T) {
		action := eval[string](t, ctx, jsLastBot+`.querySelector('button[data-action^="a:"]').getAttribute('data-action')`)
		press(t, ctx, `#impbot .impbot-entry:last-child button[data-action="`+action+`"]`)
		if got := eval[string](t, ctx, jsLastBot+`.getAttribute('data-topic')`); "a:"+got != action {
			t.Errorf("button %s answered %q", action, got)
		}
		screenshot(t, ctx, "desktop")
		press(t, ctx, `#impbot .impbot-entry:last-child button[data-action^="f:+"]`)
		if !strings.Contains(eval[string](t, ctx, jsLastBot+`.innerText`), "Thank") {
			t.Errorf("feedback answer: %q", eval[string](t, ctx, jsLastBot+`.innerText`))
		}
	})

	t.Run("eligibility to an outcome", func(t *testing.T) {
		ask(t, ctx, "/eligibility")
		if eval[int](t, ctx, `document.querySelectorAll('#impbot .impbot-back').length`) != 1 {
			t.Fatal("no Back button during the dialogue")
		}
		// One step back and forward again: /back re-asks the first question.
		first := eval[string](t, ctx, jsLastBot+`.innerText`)
		press(t, ctx, `#impbot .impbot-entry:last-child button[data-action^="d:"]`)
		press(t, ctx, `#impbot .impbot-back`)
		if again := eval[string](t, ctx, jsLastBot+`.innerText`); !strings.Contains(again, strings.SplitN(first, "\n", 2)[0]) {
			t.Errorf("/back did not re-ask the first question:\n%s\nthen\n%s", first, again)
		}
		typed := []string{"France", "30"}
		for step := 0; step < 20; step++ {
			if eval[int](t, ctx, `document.querySelectorAll('#impbot .impbot-back').length`) == 0 {
				break
			}
			if eval[int](t, ctx, jsLastBot+`.querySelectorAll('button[data-action^="d:"]').length`) > 0 {
				press(t, ctx, `#impbot .impbot-entry:last-child button[data-action^="d:"]`)
				continue
			}
			if len(typed) == 0 {
				t.Fatalf("dialogue asks for more typed answers: %s", eval[string](t, ctx, jsLastBot+`.innerText`))
			}
			ask(t, ctx, typed[0])
			typed = typed[1:]
		}
		if eval[int](t, ctx, `document.querySelectorAll('#impbot .impbot-back').length`) != 0 {
			t.Fatal("the dialogue never ended")
		}
		// The outcome may take several messages (the result, a summary).
		const lastEntry = `[...document.querySelectorAll('#impbot .impbot-entry')].pop()`
		out := eval[string](t, ctx, lastEntry+`.innerText`)
		if n := eval[int](t, ctx, lastEntry+`.querySelectorAll('button[data-action^="a:"]').length`); n == 0 {
			t.Errorf("outcome without article buttons:\n%s", out)
		}
		if !strings.Contains(out, "not legal advice") && !strings.Contains(out, "legal") {
			t.Errorf("outcome without the notice:\n%s", out)
		}
	})

	t.Run("reload keeps the conversation", func(t *testing.T) {
		before := eval[int](t, ctx, jsEntries)
		do(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#impbot-panel")))
		waitJS(t, ctx, "the history after reload", fmt.Sprintf(`%s === %d`, jsEntries, before))
		do(t, ctx, "navigate", chromedp.Navigate(ts.URL+"/?lang=en&page=2"), chromedp.WaitVisible(chromedp.CSS("#impbot-panel")))
		waitJS(t, ctx, "the history on another page", fmt.Sprintf(`%s === %d`, jsEntries, before))
	})

	t.Run("xss in user text", func(t *testing.T) {
		ask(t, ctx, `<img src=x onerror=window.pwned=1>`)
		mine := eval[string](t, ctx, `[...document.querySelectorAll('#impbot .impbot-user p')].pop().textContent`)
		if mine != `<img src=x onerror=window.pwned=1>` {
			t.Errorf("user line shows %q", mine)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll('#impbot img').length`); n != 0 {
			t.Errorf("%d img elements in the widget", n)
		}
		if got := eval[string](t, ctx, `String(window.pwned)`); got != "undefined" {
			t.Errorf("user text ran: window.pwned = %s", got)
		}
	})

	t.Run("French", func(t *testing.T) {
		do(t, ctx, "switch to French", chromedp.Click(chromedp.CSS(".impbot-lang")))
		if got := eval[string](t, ctx, `document.querySelector('#impbot-input').placeholder`); !strings.Contains(got, "Écrivez") {
			t.Errorf("placeholder after switching: %q", got)
		}
		ask(t, ctx, "frais de conformité de l'employeur")
		text := eval[string](t, ctx, jsLastBot+`.innerText`)
		if !strings.Contains(text, "Frais relatifs à la conformité") || !strings.Contains(text, "Vérifié le") {
			t.Errorf("French answer:\n%s", text)
		}
		do(t, ctx, "back to English", chromedp.Click(chromedp.CSS(".impbot-lang")))
	})

	t.Run("talk to a person", func(t *testing.T) {
		do(t, ctx, "open the form", chromedp.Click(chromedp.CSS(`#impbot .impbot-entry:last-child button[data-action^="h:"]`)),
			chromedp.WaitVisible(chromedp.CSS("#impbot-ho-name")))
		n := eval[int](t, ctx, jsEntries)
		do(t, ctx, "fill the form",
			chromedp.SendKeys(chromedp.CSS("#impbot-ho-name"), "Ana"),
			chromedp.SendKeys(chromedp.CSS("#impbot-ho-email"), "ana@example.org"),
			chromedp.Click(chromedp.CSS(".impbot-handoff .impbot-primary")))
		waitJS(t, ctx, "the handoff answer", fmt.Sprintf(`%s >= %d && %s === 0`, jsEntries, n+2, jsPending))
		staff.mu.Lock()
		tickets := append([]Ticket(nil), staff.tickets...)
		staff.mu.Unlock()
		if len(tickets) != 1 || tickets[0].Name != "Ana" || !strings.Contains(tickets[0].Question, "frais") {
			t.Fatalf("tickets %+v (the question is prefilled with the last one)", tickets)
		}
		// The visitor closes the chat and leaves; staff answer; the visitor
		// comes back: the launcher shows a new message, the panel the answer.
		do(t, ctx, "close", chromedp.Click(chromedp.CSS(".impbot-close")))
		do(t, ctx, "leave", chromedp.Navigate("about:blank"))
		if !s.StaffReply(tickets[0].Session, "en", "Yes: your employer pays it **before** you apply.") {
			t.Fatal("staff reply not delivered")
		}
		do(t, ctx, "come back", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".impbot-launcher")))
		waitJS(t, ctx, "the unread badge", `document.querySelector('#impbot').classList.contains('impbot-unread') && document.querySelector('.impbot-launcher').getAttribute('aria-label').includes('new message')`)
		do(t, ctx, "open", chromedp.Click(chromedp.CSS(".impbot-launcher")), chromedp.WaitVisible(chromedp.CSS("#impbot-panel")))
		waitJS(t, ctx, "the staff answer", `[...document.querySelectorAll('#impbot .impbot-staff')].some(e => e.innerText.includes('your employer pays it before'))`)
		if eval[bool](t, ctx, `document.querySelector('#impbot').classList.contains('impbot-unread')`) {
			t.Error("the badge stays after opening")
		}
	})

	t.Run("keyboard only", func(t *testing.T) {
		do(t, ctx, "close by Escape", chromedp.Focus(chromedp.CSS("#impbot-input")), chromedp.KeyEvent("\u001b"))
		if eval[bool](t, ctx, `!document.querySelector('#impbot-panel').hidden`) || eval[string](t, ctx, `document.activeElement.className`) != "impbot-launcher" {
			t.Fatal("Escape does not close the panel and return to the launcher")
		}
		// From the top of the page, Tab reaches the launcher.
		do(t, ctx, "blur", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur(), undefined`))
		found := false
		for range 30 {
			do(t, ctx, "tab", chromedp.KeyEvent("\t"))
			if eval[string](t, ctx, `document.activeElement.className`) == "impbot-launcher" {
				found = true
				break
			}
		}
		if !found {
			t.Fatal("Tab never reaches the launcher")
		}
		outline := eval[string](t, ctx, `getComputedStyle(document.activeElement).outlineStyle`)
		if outline == "none" || outline == "" {
			t.Errorf("focused launcher has no visible outline (%q)", outline)
		}
		do(t, ctx, "Enter opens", chromedp.KeyEvent("\r"))
		waitJS(t, ctx, "the panel", `!document.querySelector('#impbot-panel').hidden && document.activeElement.id === 'impbot-input'`)
		n := eval[int](t, ctx, jsEntries)
		do(t, ctx, "type", chromedp.KeyEvent("what is a pgwp\r"))
		waitJS(t, ctx, "the answer", fmt.Sprintf(`%s >= %d && %s === 0`, jsEntries, n+2, jsPending))
		// Shift+Tab from the input reaches the answer's buttons; Enter presses.
		do(t, ctx, "focus input", chromedp.Focus(chromedp.CSS("#impbot-input")))
		for range 5 {
			do(t, ctx, "shift-tab", chromedp.KeyEvent("\t", chromedp.KeyModifiers(chromedp.ModifierShift)))
			if eval[bool](t, ctx, `document.activeElement.tagName === 'BUTTON' && document.activeElement.closest('.impbot-log') !== null`) {
				break
			}
		}
		if !eval[bool](t, ctx, `document.activeElement.tagName === 'BUTTON' && document.activeElement.closest('.impbot-log') !== null`) {
			t.Fatalf("Shift+Tab from the input lands on %s", eval[string](t, ctx, `document.activeElement.outerHTML.slice(0,200)`))
		}
		n = eval[int](t, ctx, jsEntries)
		do(t, ctx, "press by Enter", chromedp.KeyEvent("\r"))
		waitJS(t, ctx, "the button's answer", fmt.Sprintf(`%s >= %d && %s === 0`, jsEntries, n+2, jsPending))
		labels := eval[[]string](t, ctx, `[...document.querySelectorAll('#impbot button, #impbot textarea, #impbot input')].filter(e => !e.closest('[hidden]')).filter(e => !(e.getAttribute('aria-label') || e.textContent.trim() || (e.id && document.querySelector('label[for="'+e.id+'"]')))).map(e => e.outerHTML)`)
		if len(labels) > 0 {
			t.Errorf("controls without an accessible name: %v", labels)
		}
		if eval[string](t, ctx, `document.querySelector('#impbot .impbot-log').getAttribute('aria-live')`) != "polite" {
			t.Error("the log is not aria-live")
		}
	})

	t.Run("dark mode", func(t *testing.T) {
		do(t, ctx, "dark", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
			return err
		}))
		bg := eval[string](t, ctx, `getComputedStyle(document.querySelector('#impbot-panel')).backgroundColor`)
		if bg != "rgb(21, 24, 29)" {
			t.Errorf("dark panel background %q", bg)
		}
		ask(t, ctx, "How long is a PGWP valid?")
		screenshot(t, ctx, "dark")
		do(t, ctx, "light", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
			return err
		}))
	})

	t.Run("phone 360x740", func(t *testing.T) {
		do(t, ctx, "phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2), chromedp.EmulateMobile),
			chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#impbot-panel")))
		waitJS(t, ctx, "history", jsEntries+` > 0`)
		r := eval[[]float64](t, ctx, `(() => { const r = document.querySelector('#impbot-panel').getBoundingClientRect(); return [r.left, r.top, r.width, r.height, document.documentElement.scrollWidth]; })()`)
		if r[0] != 0 || r[1] != 0 || r[2] != 360 || r[3] != 740 || r[4] > 360 {
			t.Errorf("panel on a phone at %v, want full screen 0,0 360×740 without horizontal scroll", r)
		}
		ask(t, ctx, "Can my spouse work in Canada?")
		screenshot(t, ctx, "phone")
		// 320 px, the narrowest phones: nothing sticks out, the input and Send fit.
		do(t, ctx, "320 px", chromedp.EmulateViewport(320, 568, chromedp.EmulateScale(2), chromedp.EmulateMobile))
		fit := eval[[]float64](t, ctx, `[document.documentElement.scrollWidth, document.querySelector('#impbot-panel').getBoundingClientRect().width, document.querySelector('.impbot-send').getBoundingClientRect().right, document.querySelector('.impbot-input').getBoundingClientRect().width]`)
		if fit[0] > 320 || fit[1] != 320 || fit[2] > 320 || fit[3] < 150 {
			t.Errorf("at 320 px: page width %v, panel %v, Send ends at %v, input %v px wide", fit[0], fit[1], fit[2], fit[3])
		}
		do(t, ctx, "desktop again", chromedp.EmulateViewport(1280, 800))
	})

	t.Run("delete my conversation", func(t *testing.T) {
		do(t, ctx, "delete", chromedp.Click(chromedp.CSS(".impbot-del")))
		waitJS(t, ctx, "the deletion", jsEntries+` === 1 && `+jsPending+` === 0`)
		do(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#impbot-panel")))
		waitJS(t, ctx, "the history", jsEntries+` === 1`)
		if strings.Contains(eval[string](t, ctx, `document.querySelector('#impbot .impbot-log').innerText`), "spouse") {
			t.Error("the conversation survived Delete my conversation")
		}
	})
}

// TestBrowserWidgetOrigins: the widget embedded in other sites' pages
// (runs beside TestBrowserWidget, in its own tab, with its own server).
func TestBrowserWidgetOrigins(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	h, _ := testRouter(t)
	var ol = &originLog{refused: map[string]int{}}
	var botURL atomic.Pointer[string]
	host := func(title string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><html lang="fr"><head><title>%s</title></head><body><h1>%s</h1>
<script src="%s/widget.js" async></script></body></html>`, title, title, *botURL.Load())
		})
	}
	partner := httptest.NewServer(host("Partenaire"))
	other := httptest.NewServer(host("Other site"))
	defer partner.Close()
	defer other.Close()
	// Another origin: the same loopback, named "localhost" instead of
	// 127.0.0.1.
	partnerOrigin := strings.Replace(partner.URL, "127.0.0.1", "localhost", 1)
	otherOrigin := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	s, err := New(Config{Handler: h, AllowedOrigins: []string{partnerOrigin}, PerSession: 5, PerSessionBurst: 20})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(ol.wrap(s))
	defer ts.Close()
	defer s.Close()
	s.markReady()
	botURL.Store(&ts.URL)
	do(t, ctx, "viewport", chromedp.EmulateViewport(1280, 800))

	t.Run("another origin listed in allowed_origins", func(t *testing.T) {
		do(t, ctx, "partner page", chromedp.Navigate(partnerOrigin+"/"), chromedp.WaitVisible(chromedp.CSS(".impbot-launcher")))
		if got := eval[string](t, ctx, `document.querySelector('.impbot-lang').textContent`); got != "EN" {
			t.Errorf("page lang=fr: widget language button %q, want EN (the widget in French)", got)
		}
		do(t, ctx, "open", chromedp.Click(chromedp.CSS(".impbot-launcher")), chromedp.WaitVisible(chromedp.CSS("#impbot-panel")))
		ask(t, ctx, "permis de travail ouvert pour conjoint")
		if got := eval[string](t, ctx, jsLastBot+`.getAttribute('data-topic')`); got == "" {
			t.Errorf("no article answered on the partner site: %s", eval[string](t, ctx, jsLastBot+`.innerText`))
		}
	})

	t.Run("another origin not listed is refused", func(t *testing.T) {
		do(t, ctx, "other page", chromedp.Navigate(otherOrigin+"/"), chromedp.WaitVisible(chromedp.CSS(".impbot-launcher")))
		do(t, ctx, "open", chromedp.Click(chromedp.CSS(".impbot-launcher")), chromedp.WaitVisible(chromedp.CSS("#impbot-panel")))
		do(t, ctx, "type", chromedp.SendKeys(chromedp.CSS("#impbot-input"), "what is a pgwp\r"))
		// The WebSocket is refused twice, then the POST fallback's preflight.
		deadline := time.Now().Add(patience)
		for ol.count(otherOrigin+" GET /chat/ws") < 2 || ol.count(otherOrigin+" OPTIONS") < 1 {
			if time.Now().After(deadline) {
				t.Fatalf("refusals seen: %v", ol.refused)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll('#impbot .impbot-entry .impbot-bot').length`); n != 0 {
			t.Errorf("a page of a non-listed origin got %d answers", n)
		}
		if eval[int](t, ctx, jsPending) != 1 {
			t.Error("the message should stay queued on a refused origin")
		}
		if ol.count(partnerOrigin) != 0 {
			t.Errorf("the listed origin was refused: %v", ol.refused)
		}
	})
}

// wsGate refuses WebSocket upgrades while blocked, like a network or proxy
// that does not let them through.
type wsGate struct {
	blocked atomic.Bool
	offline atomic.Bool // the POST fallback is refused too
	refused atomic.Int32
	posts   atomic.Int32
}

func (g *wsGate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/chat/") && g.blocked.Load() && (r.URL.Path == "/chat/ws" || g.offline.Load()) {
			g.refused.Add(1)
			http.Error(w, "no websockets here", http.StatusServiceUnavailable)
			return
		}
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/chat/") {
			g.posts.Add(1)
		}
		h.ServeHTTP(w, r)
	})
}

// TestBrowserReconnectAndFallback: its two cases run at once, each in its
// own tab (they mostly wait out the widget's reconnection delays).
func TestBrowserReconnectAndFallback(t *testing.T) {
	t.Parallel()
	h, _ := testRouter(t)
	ch := &countingHandler{next: h}
	s, err := New(Config{Handler: ch, PerSession: 5, PerSessionBurst: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close) // after the parallel subtests
	s.markReady()

	t.Run("a dropped connection resumes without loss", func(t *testing.T) {
		t.Parallel()
		ctx := newBrowser(t)
		g := &wsGate{}
		ts := httptest.NewServer(g.wrap(s))
		defer ts.Close()
		do(t, ctx, "open", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".impbot-launcher")),
			chromedp.Click(chromedp.CSS(".impbot-launcher")), chromedp.WaitVisible(chromedp.CSS("#impbot-panel")))
		ask(t, ctx, "what is a pgwp")
		// The network goes: the connection drops and reconnecting fails.
		g.offline.Store(true)
		g.blocked.Store(true)
		s.dropConnections()
		deadline := time.Now().Add(patience)
		for g.refused.Load() == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the widget never tried to reconnect")
			}
			time.Sleep(20 * time.Millisecond)
		}
		// A question typed while offline waits in the queue.
		n := eval[int](t, ctx, jsEntries)
		do(t, ctx, "type offline", chromedp.SendKeys(chromedp.CSS("#impbot-input"), "how much is the employer compliance fee\r"))
		waitJS(t, ctx, "the queued message", jsPending+` === 1 && document.querySelector('.impbot-status').textContent.includes('Connection lost')`)
		// The network comes back: the queue is sent once and answered.
		g.blocked.Store(false)
		waitJS(t, ctx, "the answer after reconnecting", fmt.Sprintf(`%s === %d && %s === 0`, jsEntries, n+2, jsPending))
		if got := eval[string](t, ctx, jsLastBot+`.getAttribute('data-topic')`); got != "employer-compliance-fee" {
			t.Errorf("answered %q", got)
		}
		ch.mu.Lock()
		for k, v := range ch.calls {
			if strings.HasSuffix(k, "|how much is the employer compliance fee") && v != 1 {
				t.Errorf("the queued message reached the router %d times", v)
			}
		}
		ch.mu.Unlock()
		if n := eval[int](t, ctx, `[...document.querySelectorAll('#impbot .impbot-user')].filter(e => e.textContent.includes('employer compliance fee')).length`); n != 1 {
			t.Errorf("the queued message shows %d times", n)
		}
	})

	t.Run("WebSockets blocked: HTTP POST fallback", func(t *testing.T) {
		t.Parallel()
		ctx := newBrowser(t)
		g := &wsGate{}
		g.blocked.Store(true)
		ts := httptest.NewServer(g.wrap(s)) // a new origin: a fresh widget
		defer ts.Close()
		do(t, ctx, "open", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".impbot-launcher")),
			chromedp.Click(chromedp.CSS(".impbot-launcher")), chromedp.WaitVisible(chromedp.CSS("#impbot-panel")))
		ask(t, ctx, "Can my spouse work in Canada?")
		if got := eval[string](t, ctx, jsLastBot+`.getAttribute('data-topic')`); got == "" {
			t.Errorf("no article over the fallback: %s", eval[string](t, ctx, jsLastBot+`.innerText`))
		}
		if g.refused.Load() < 2 || g.posts.Load() < 2 {
			t.Errorf("refused upgrades %d, POSTs %d: the fallback was not used", g.refused.Load(), g.posts.Load())
		}
		press(t, ctx, `#impbot .impbot-entry:last-child button[data-action^="a:"]`)
		do(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#impbot-panel")))
		waitJS(t, ctx, "the history over POST", jsEntries+` === 4`)
	})
}
