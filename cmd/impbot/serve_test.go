package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/impbot/impbot/bot/telegram/telegramtest"
)

// tgExampleConfig copies config.example.yaml with the Bot API pointed at the
// fake, HTTP on a free loopback port and the store in a temp folder; edit
// may change more lines.
func tgExampleConfig(t testing.TB, apiURL string, edit func(string) string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	dir := t.TempDir()
	replace := func(old, new string) {
		t.Helper()
		if !strings.Contains(s, old) {
			t.Fatalf("config.example.yaml has no %q", old)
		}
		s = strings.Replace(s, old, new, 1)
	}
	replace(`addr: "127.0.0.1:8080"`, `addr: "127.0.0.1:0"`)
	replace(`path: "data/sessions.db"`, `path: "`+filepath.Join(dir, "data", "sessions.db")+`"`)
	replace(`api_url: ""                  # Bot API base URL`, `api_url: "`+apiURL+`" # Bot API base URL`) // telegram's comes first
	if edit != nil {
		s = edit(s)
	}
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type tgBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *tgBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *tgBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// raceReport is what the race detector writes to a process's stderr when it
// finds a data race. The child processes of these tests are this test
// binary, built with -race when the suite is: their logs are checked for it,
// since a child that is SIGKILLed never gets to exit with the detector's
// status 66.
const raceReport = "WARNING: DATA RACE"

// checkNoRace fails t when a child process's log holds a race report, and
// shows that log.
func checkNoRace(t testing.TB, child, log string) {
	t.Helper()
	if i := strings.Index(log, raceReport); i >= 0 {
		t.Errorf("%s: the race detector found a data race:\n%s", child, log[max(0, i-200):])
	}
}

// childEnv is the environment of a child process of these tests (this test
// binary re-executed), with kv added: the race detector's exit pause
// (atexit_sleep_ms, 1 s by default, which lets other threads finish
// reporting) is left out, since a child's race report is read from its log
// (checkNoRace) and its exit status is still 66 when the detector found a
// race.
func childEnv(kv ...string) []string {
	gorace := "atexit_sleep_ms=0"
	if v := os.Getenv("GORACE"); v != "" {
		gorace = v + " " + gorace
	}
	return append(append(os.Environ(), "GORACE="+gorace), kv...)
}

// errorsTB records the failures reported to it.
type errorsTB struct {
	testing.TB
	errs []string
}

func (e *errorsTB) Helper() {}
func (e *errorsTB) Errorf(format string, args ...any) {
	e.errs = append(e.errs, fmt.Sprintf(format, args...))
}

// TestCheckNoRaceFindsTheReport: a log with the race detector's report
// fails the test and shows the report; a clean log does not.
func TestCheckNoRaceFindsTheReport(t *testing.T) {
	report := "time=… level=INFO msg=ready\n==================\nWARNING: DATA RACE\nWrite at 0x00c000123456 by goroutine 42:\n  main.f()\n"
	var got errorsTB
	checkNoRace(&got, "replica 1", report)
	if len(got.errs) != 1 || !strings.Contains(got.errs[0], "replica 1") || !strings.Contains(got.errs[0], "by goroutine 42") {
		t.Fatalf("a race report gave %q", got.errs)
	}
	var clean errorsTB
	checkNoRace(&clean, "replica 1", "time=… level=INFO msg=ready\ntime=… level=INFO msg=stopped\n")
	if len(clean.errs) != 0 {
		t.Fatalf("a clean log gave %q", clean.errs)
	}
}

// TestTelegramServeHelperProcess is `impbot` itself when run as a child of
// TestServeTelegramSIGTERM.
func TestTelegramServeHelperProcess(t *testing.T) {
	if os.Getenv("IMPBOT_TG_HELPER") != "1" {
		t.Skip("helper process")
	}
	os.Args = []string{"impbot", "serve", "--config", os.Getenv("IMPBOT_TG_CONFIG")}
	main()
	os.Exit(0)
}

func TestServeTelegramSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	// Child processes, mostly waiting on leases, limits and
	// each other: they overlap with the other child-process tests.
	t.Parallel()
	afterE2EStart(t)
	srv := telegramtest.New(t)
	path := tgExampleConfig(t, srv.URL, nil)
	// Eight questions wait at Telegram: the bot takes them in one batch and
	// may send three at once to one chat, then one per second. SIGTERM comes
	// after the first reply, so replies are still in flight: the last one
	// is due 5 s after the first, room for a loaded machine to send the
	// signal before it.
	const questions = 8
	var last int
	for range questions {
		last = srv.PushMessage(telegramtest.Msg{ChatID: 42, From: telegramtest.User{ID: 42, Name: "U", Lang: "en"}, Text: "/help"})
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTelegramServeHelperProcess$")
	cmd.Env = childEnv("IMPBOT_TG_HELPER=1", "IMPBOT_TG_CONFIG="+path, "TELEGRAM_BOT_TOKEN="+srv.Token)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs tgBuffer
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.Write([]byte(sc.Text() + "\n"))
		}
	}()
	exited := make(chan error, 1)
	go func() {
		<-logsDone
		exited <- cmd.Wait()
	}()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	}()
	srv.WaitSent(t, 42, 1, 2*time.Minute)
	if n := len(srv.SentTo(42)); n == questions {
		t.Fatal("all replies were sent before SIGTERM; the test did not exercise shutdown")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("impbot exited with %v, want 0\n%s", err, logs.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("impbot did not exit after SIGTERM\n%s", logs.String())
	}
	if n := len(srv.SentTo(42)); n != questions {
		t.Errorf("%d replies delivered, want all %d (the replies in flight are finished)", n, questions)
	}
	if srv.Offset() != last+1 {
		t.Errorf("acknowledged offset %d, want %d", srv.Offset(), last+1)
	}
	out := logs.String()
	checkNoRace(t, "impbot serve", out)
	if !regexp.MustCompile(`msg=stopped`).MatchString(out) {
		t.Errorf("no orderly stop in the logs:\n%s", out)
	}
	if strings.Contains(out, srv.Token) {
		t.Errorf("the token appears in the logs")
	}
}
