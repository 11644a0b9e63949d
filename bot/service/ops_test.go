package service

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/index"
	"github.com/impbot/impbot/knowledge"
)

// opsTestPrefix marks the configs of these tests: the test adapter below
// starts only for them.
const opsTestPrefix = "ops-test:"

// opsAdapter stands in for a platform adapter: built by serve like the real
// ones (so it gets the app's Stats), it sends requests through the app's
// handler.
type opsAdapter struct {
	app   *App
	stats bot.Stats
}

var opsAdapters sync.Map // org name → *opsAdapter

func init() {
	adapterFactories = append(adapterFactories, func(a *App) (Adapter, error) {
		if !strings.HasPrefix(a.Cfg.Organization.Name, opsTestPrefix) {
			return nil, nil
		}
		ad := &opsAdapter{app: a, stats: a.Stats}
		opsAdapters.Store(a.Cfg.Organization.Name, ad)
		return ad, nil
	})
}

// opsGate holds a request inside the handler chain (just around the
// router) until released, to test what a reload does to requests in flight.
type opsGate struct {
	entered chan struct{}
	release chan struct{}
}

const opsBlockText = "hold this request"

var opsGates sync.Map // org name → *opsGate

func init() {
	appHooks = append(appHooks, func(a *App) error {
		if !strings.HasPrefix(a.Cfg.Organization.Name, opsTestPrefix) {
			return nil
		}
		g := &opsGate{entered: make(chan struct{}), release: make(chan struct{})}
		opsGates.Store(a.Cfg.Organization.Name, g)
		a.Middleware = append(a.Middleware, func(next bot.Handler) bot.Handler {
			return bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
				if req.Text == opsBlockText {
					g.entered <- struct{}{}
					<-g.release
				}
				return next.Handle(ctx, req)
			})
		})
		return nil
	})
}

func (ad *opsAdapter) Name() string { return "opstest" }
func (ad *opsAdapter) Ready() error { return nil }
func (ad *opsAdapter) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

const opsPlatform = "opstest"

// send handles one message or button press as an adapter would.
func (ad *opsAdapter) send(t testing.TB, user, text, action string) *bot.Response {
	t.Helper()
	ad.stats.MessageIn(opsPlatform)
	resp, err := ad.app.Handler.Handle(context.Background(), &bot.Request{
		Platform: opsPlatform, ChatID: "chat-" + user, UserID: user, Text: text, Action: action, Lang: "en",
	})
	if err != nil {
		t.Errorf("handle %q: %v", text, err)
		return &bot.Response{}
	}
	for range resp.Replies {
		ad.stats.MessageOut(opsPlatform)
	}
	return resp
}

func opsFirstReply(resp *bot.Response) bot.Reply {
	if resp == nil || len(resp.Replies) == 0 {
		return bot.Reply{}
	}
	return resp.Replies[0]
}

// opsLogBuffer is a concurrency-safe log sink.
type opsLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *opsLogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *opsLogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// opsCopyKnowledge writes the shipped knowledge into dir.
func opsCopyKnowledge(t testing.TB, dir string) string {
	t.Helper()
	err := fs.WalkDir(knowledge.Shipped, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := fs.ReadFile(knowledge.Shipped, p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// opsConfig is a serve config for tests: HTTP on a free loopback port, a
// store and a copy of the knowledge in a temp folder, no platform adapter
// but the test one, no rate limit.
func opsConfig(t testing.TB) Config {
	t.Helper()
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Sessions.Path = filepath.Join(dir, "data", "sessions.db")
	cfg.Knowledge.Dir = opsCopyKnowledge(t, filepath.Join(dir, "knowledge"))
	cfg.Organization.Name = opsTestPrefix + t.Name()
	cfg.RateLimit.PerSecond = 0
	cfg.Log.Level = "debug"
	return cfg
}

// opsSmallIDs are the articles of the small test knowledge (worker-fees
// because employer-compliance-fee links to it).
var opsSmallIDs = []string{"pgwp", "iec-overview", "employer-compliance-fee", "bowp", "biometrics", "worker-fees"}

// opsSmallConfig is opsConfig with a knowledge of six articles and no
// eligibility rules, for tests where the size of the knowledge does not
// matter: it starts and reloads faster.
func opsSmallConfig(t testing.TB) Config {
	t.Helper()
	cfg := opsConfig(t)
	opsSmallKnowledge(t, cfg.Knowledge.Dir, opsSmallIDs...)
	return cfg
}

// opsServed is a running `serve`.
type opsServed struct {
	addr string
	app  *App
	st   *opsState
	ad   *opsAdapter
	log  *opsLogBuffer
	stop func() error
}

// opsStartServe runs serve with cfg until the test ends (or stop is called).
func opsStartServe(t testing.TB, cfg Config) *opsServed {
	t.Helper()
	logs := &opsLogBuffer{}
	log := newLogger(logs, "debug", "json")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, log, ready) }()
	s := &opsServed{log: logs}
	select {
	case s.addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v\n%s", err, logs)
	case <-time.After(patience):
		cancel()
		t.Fatal("serve did not start")
	}
	v, ok := opsAdapters.Load(cfg.Organization.Name)
	if !ok {
		cancel()
		t.Fatal("test adapter not built")
	}
	s.ad = v.(*opsAdapter)
	s.app = s.ad.app
	s.st = opsOf(s.app)
	if s.st == nil {
		cancel()
		t.Fatal("ops state missing")
	}
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(patience):
				stopErr = errors.New("serve did not stop")
			}
			opsAdapters.Delete(cfg.Organization.Name)
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s
}

func (s *opsServed) get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + s.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// opsEventually polls cond every 20 ms until it holds or the deadline passes,
// and returns how long it took.
func opsEventually(t testing.TB, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(25 * time.Millisecond)
	}
	return time.Since(start)
}

// opsWriteAtomic writes like many editors: a temporary file renamed over
// the original.
func opsWriteAtomic(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

const opsPGWPQuestion = "how long is a pgwp valid"

// TestOpsHotReload edits the knowledge folder of a running serve: an edit is
// served, a broken edit keeps the previous knowledge and is reported, a fix
// is served again, a new language folder is watched. It waits on the
// outcome (generous ceiling), on a small knowledge that reloads in
// milliseconds; the time an edit of the full knowledge takes to be served
// is BenchmarkReload's (0.6 s on 2 loaded cores).
func TestOpsHotReload(t *testing.T) {
	t.Parallel()
	cfg := opsSmallConfig(t)
	s := opsStartServe(t, cfg)
	path := filepath.Join(cfg.Knowledge.Dir, "en", "pgwp.md")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const anchor = "The PGWP is an open work permit"
	if !bytes.Contains(orig, []byte(anchor)) {
		t.Fatalf("pgwp.md no longer contains %q: update the test", anchor)
	}
	before := opsFirstReply(s.ad.send(t, "u1", opsPGWPQuestion, ""))
	if before.Topic != "pgwp" || strings.Contains(before.Text, "ZEBRACORN") {
		t.Fatalf("before the edit: topic %q", before.Topic)
	}
	<-s.st.watching

	// 1. An edit changes the answer without a restart (how fast:
	// BenchmarkReload).
	edited := bytes.Replace(orig, []byte(anchor), []byte("ZEBRACORN "+anchor), 1)
	opsWriteAtomic(t, path, edited)
	took := opsEventually(t, patience, "edited article served", func() bool {
		return strings.Contains(opsFirstReply(s.ad.send(t, "u1", opsPGWPQuestion, "")).Text, "ZEBRACORN")
	})
	t.Logf("edit served after %v", took)

	// 2. A broken edit keeps the old answer and reports file and line.
	broken := bytes.Replace(edited, []byte("\nkind: topic\n"), []byte("\nkind: bogus\n"), 1)
	if bytes.Equal(broken, edited) {
		t.Fatal("pgwp.md has no `kind: topic` line: update the test")
	}
	line := 1 + bytes.Count(broken[:bytes.Index(broken, []byte("kind: bogus"))], []byte("\n"))
	if err := os.WriteFile(path, broken, 0o644); err != nil {
		t.Fatal(err)
	}
	where := fmt.Sprintf("en/pgwp.md:%d: ", line)
	var body string
	opsEventually(t, patience, "/readyz reports the broken file", func() bool {
		var code int
		code, body = s.get(t, "/readyz")
		return code == http.StatusOK && strings.Contains(body, where)
	})
	var ready map[string]string
	if err := json.Unmarshal([]byte(body), &ready); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ready["knowledge"], "warning: ") || !strings.Contains(ready["knowledge"], "bogus") {
		t.Fatalf("/readyz knowledge = %q", ready["knowledge"])
	}
	if !strings.Contains(s.log.String(), where) {
		t.Fatalf("the log does not name %s:\n%s", where, s.log)
	}
	if got := opsFirstReply(s.ad.send(t, "u1", opsPGWPQuestion, "")); got.Topic != "pgwp" || !strings.Contains(got.Text, "ZEBRACORN") {
		t.Fatalf("after a broken edit the previous answer must stay: topic %q", got.Topic)
	}

	// 3. Fixing it reloads again and /readyz is clean.
	opsWriteAtomic(t, path, orig)
	opsEventually(t, patience, "fixed article served", func() bool {
		return !strings.Contains(opsFirstReply(s.ad.send(t, "u1", opsPGWPQuestion, "")).Text, "ZEBRACORN")
	})
	opsEventually(t, patience, "/readyz ok", func() bool {
		code, body := s.get(t, "/readyz")
		return code == http.StatusOK && strings.Contains(body, `"knowledge": "ok"`)
	})

	// 4. A new language folder is watched too.
	de := bytes.Replace(orig, []byte("\nlang: en\n"), []byte("\nlang: de\n"), 1)
	prev := s.st.last.Load()
	if err := os.MkdirAll(filepath.Join(cfg.Knowledge.Dir, "de"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Let the watcher pick up the new folder before the file lands in it.
	opsEventually(t, patience, "reload after mkdir", func() bool { return s.st.last.Load() != prev })
	if s.app.Router.Index().Has("de") {
		t.Fatal("German served before any German article")
	}
	if err := os.WriteFile(filepath.Join(cfg.Knowledge.Dir, "de", "pgwp.md"), de, 0o644); err != nil {
		t.Fatal(err)
	}
	opsEventually(t, patience, "German article served", func() bool { return s.app.Router.Index().Has("de") })

	// 5. A file that lands in a new language folder while the reload that
	// found the folder runs (after it read the folder, before the folder
	// is watched: no event announces that file) is read too. Hooks write
	// it at that instant, in the first reload that starts after the mkdir.
	es := bytes.Replace(orig, []byte("\nlang: en\n"), []byte("\nlang: es\n"), 1)
	esDir := filepath.Join(cfg.Knowledge.Dir, "es")
	var made, startedAfter, wrote atomic.Bool
	mark := func() { startedAfter.Store(made.Load()) } // reloads run one at a time
	s.st.beforeLoad.Store(&mark)
	hook := func(b *knowledge.Base) error {
		if startedAfter.Load() && !wrote.Swap(true) {
			if len(b.Articles["es"]) != 0 {
				t.Errorf("the Spanish article was read before it was written")
			}
			if err := os.WriteFile(filepath.Join(esDir, "pgwp.md"), es, 0o644); err != nil {
				t.Errorf("write the Spanish article: %v", err)
			}
		}
		return nil
	}
	s.st.swapMu.Lock() // reloads read the hooks under it
	s.app.OnReload(hook)
	s.st.swapMu.Unlock()
	if err := os.MkdirAll(esDir, 0o755); err != nil {
		t.Fatal(err)
	}
	made.Store(true)
	opsEventually(t, patience, "Spanish article served", func() bool { return s.app.Router.Index().Has("es") })
	if !wrote.Load() {
		t.Fatal("no reload ran after the new folder appeared")
	}
}

// opsSmallKnowledge replaces the knowledge in dir with a few of the shipped
// articles (their related links dropped) and the shipped synonyms and domain
// words: it reloads in milliseconds.
func opsSmallKnowledge(t testing.TB, dir string, ids ...string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "en"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{knowledge.SynonymsFile, "domain.yaml", knowledge.FactsFile} {
		if data, err := fs.ReadFile(knowledge.Shipped, f); err == nil {
			if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	related := regexp.MustCompile(`(?m)^related:.*\n`)
	for _, id := range ids {
		data, err := fs.ReadFile(knowledge.Shipped, "en/"+id+".md")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "en", id+".md"), related.ReplaceAll(data, nil), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOpsReloadBurst asks questions from several users while the knowledge
// is reloaded again and again: every question gets the same answer as
// before, and the replaced indexes are all closed. Run with -race.
func TestOpsReloadBurst(t *testing.T) {
	t.Parallel()
	cfg := opsSmallConfig(t)
	s := opsStartServe(t, cfg)
	questions := map[string]string{}
	for _, q := range []string{opsPGWPQuestion, "what is the IEC working holiday", "how much is the employer compliance fee",
		"what is a bridging open work permit", "do I need biometrics"} {
		r := opsFirstReply(s.ad.send(t, "baseline", q, ""))
		if r.Topic == "" {
			t.Fatalf("%q is not answered from the small knowledge: %.60q", q, r.Text)
		}
		questions[q] = r.Topic
	}
	var stop atomic.Bool
	var asked atomic.Int64
	var wg sync.WaitGroup
	i := 0
	for q, want := range questions {
		i++
		user := fmt.Sprintf("burst-%d", i)
		wg.Go(func() {
			for !stop.Load() {
				r := opsFirstReply(s.ad.send(t, user, q, ""))
				asked.Add(1)
				if r.Topic != want {
					t.Errorf("%q during reloads: topic %q, want %q (%.40q)", q, r.Topic, want, r.Text)
					return
				}
				// A pause between questions: the users do not spin
				// (10,000 questions in 12 reloads under -race, most
				// of this package's CPU); the reloads below wait for
				// questions on each index instead.
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	const reloads = 12
	for n := range reloads {
		if err := s.st.reload(fmt.Sprintf("test %d", n)); err != nil {
			t.Fatal(err)
		}
		// Let some questions run on each index.
		next := asked.Load() + int64(len(questions))
		opsEventually(t, patience, "questions on the new index", func() bool { return asked.Load() >= next })
	}
	// Keep asking until every user ran a question after the last swap.
	target := asked.Load() + int64(2*len(questions))
	opsEventually(t, patience, "questions after the last reload", func() bool { return asked.Load() >= target })
	stop.Store(true)
	wg.Wait()
	t.Logf("%d questions answered during %d reloads", asked.Load(), reloads)
	closed := func() (int, int) {
		s.st.retire.mu.Lock()
		defer s.st.retire.mu.Unlock()
		return s.st.retire.closed, len(s.st.retire.pending)
	}
	opsEventually(t, patience, "replaced indexes closed", func() bool {
		n, pending := closed()
		return n == reloads && pending == 0
	})

	// A request in flight during a reload keeps the index it may use open
	// until it finishes.
	v, _ := opsGates.Load(cfg.Organization.Name)
	gate := v.(*opsGate)
	held := make(chan *bot.Response, 1)
	go func() { held <- s.ad.send(t, "held", opsBlockText, "") }()
	<-gate.entered
	if err := s.st.reload("while a request runs"); err != nil {
		t.Fatal(err)
	}
	s.st.retire.closeDue(time.Now().Add(time.Hour), s.app) // whatever the grace period
	if n, pending := closed(); n != reloads || pending != 1 {
		t.Fatalf("with a request in flight: %d closed, %d pending; want %d and 1", n, pending, reloads)
	}
	close(gate.release)
	if r := opsFirstReply(<-held); r.Text == bot.Msg("en", "error") {
		t.Fatalf("the held request failed: %q", r.Text)
	}
	opsEventually(t, patience, "index closed after the request", func() bool {
		n, pending := closed()
		return n == reloads+1 && pending == 0
	})
}

// TestOpsRetirer checks that an index stays open while a request that started
// before the swap runs, and no longer.
func TestOpsRetirer(t *testing.T) {
	t.Parallel()
	r := newRetirer(0)
	release := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	entered := make(chan struct{})
	h := r.middleware()(bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		entered <- struct{}{}
		<-release[req.UserID]
		return &bot.Response{}, nil
	}))
	ix1, ix2 := &index.Index{}, &index.Index{}
	var wg sync.WaitGroup
	wg.Go(func() { h.Handle(context.Background(), &bot.Request{UserID: "a"}) }) // epoch 0
	<-entered
	r.retire(ix1) // swapped out while request a runs
	if got := r.due(time.Now(), false); len(got) != 0 {
		t.Fatalf("closed %d index(es) under a running request", len(got))
	}
	wg.Go(func() { h.Handle(context.Background(), &bot.Request{UserID: "b"}) }) // epoch 1
	<-entered
	close(release["a"])
	opsEventually(t, patience, "ix1 due once request a is done", func() bool {
		got := r.due(time.Now(), false)
		if len(got) > 1 || (len(got) == 1 && got[0] != ix1) {
			t.Fatalf("due: %v", got)
		}
		return len(got) == 1
	})
	r.retire(ix2) // request b may be using ix2
	if got := r.due(time.Now(), false); len(got) != 0 {
		t.Fatalf("closed ix2 under a running request")
	}
	if got := r.due(time.Now(), true); len(got) != 1 || got[0] != ix2 {
		t.Fatalf("force: %v", got)
	}
	close(release["b"])
	wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.active) != 0 || r.closed != 2 {
		t.Fatalf("active %v closed %d", r.active, r.closed)
	}
}

func TestOpsSIGHUPReloads(t *testing.T) {
	cfg := opsSmallConfig(t)
	s := opsStartServe(t, cfg)
	<-s.st.watching
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	opsEventually(t, patience, "reload on SIGHUP", func() bool {
		res := s.st.last.Load()
		return res != nil && res.Reason == "SIGHUP" && res.Err == nil
	})
}

// TestOpsSIGHUPEmbedded: with the embedded knowledge there is nothing to
// reload, and SIGHUP must not stop the bot.
func TestOpsSIGHUPEmbedded(t *testing.T) {
	cfg := opsSmallConfig(t)
	cfg.Knowledge.Dir = ""
	s := opsStartServe(t, cfg)
	<-s.st.watching
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	opsEventually(t, patience, "SIGHUP logged", func() bool {
		return strings.Contains(s.log.String(), "nothing to reload")
	})
	if r := opsFirstReply(s.ad.send(t, "h", opsPGWPQuestion, "")); r.Topic != "pgwp" {
		t.Fatalf("after SIGHUP: topic %q", r.Topic)
	}
}

// opsParseMetrics reads the Prometheus text format into samples by
// `name{labels}`.
func opsParseMetrics(t testing.TB, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

func TestOpsMetricsScrape(t *testing.T) {
	t.Parallel()
	cfg := opsSmallConfig(t)
	s := opsStartServe(t, cfg)
	sent := 0
	for _, in := range []struct{ text, action string }{
		{opsPGWPQuestion, ""},
		{"how do I bake sourdough bread", ""},
		{"", bot.ActFeedback + "+:pgwp"},
		{"", bot.ActFeedback + "-:pgwp"},
		{"", bot.ActFeedback + "-:pgwp"},
	} {
		sent += len(s.ad.send(t, "m1", in.text, in.action).Replies)
	}
	elig := s.ad.send(t, "m2", "/eligibility", "")
	sent += len(elig.Replies)
	// What the real adapters report through App.Stats.
	s.ad.stats.APIError("telegram", "429")
	s.ad.stats.APIError("discord", "5xx")
	s.ad.stats.Reconnect("discord")
	if err := s.st.reload("test"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.Knowledge.Dir, "en", "broken.md"), []byte("no front matter"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.st.reload("test"); err == nil {
		t.Fatal("reload of a broken folder succeeded")
	}

	code, body := s.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	got := opsParseMetrics(t, body)
	if elig.Dialogue != nil && elig.Dialogue.Started {
		want := `impbot_dialogue_starts_total{platform="opstest"}`
		if got[want] != 1 {
			t.Errorf("%s = %v, want 1", want, got[want])
		}
	}
	want := map[string]float64{
		`impbot_messages_received_total{platform="opstest"}`:             6,
		`impbot_messages_sent_total{platform="opstest"}`:                 float64(sent),
		`impbot_messages_received_total{platform="telegram"}`:            0,
		`impbot_messages_sent_total{platform="discord"}`:                 0,
		`impbot_api_errors_total{kind="429",platform="telegram"}`:        1,
		`impbot_api_errors_total{kind="5xx",platform="discord"}`:         1,
		`impbot_reconnects_total{platform="discord"}`:                    1,
		`impbot_requests_total{platform="opstest"}`:                      6,
		`impbot_answer_duration_seconds_count{platform="opstest"}`:       6,
		`impbot_search_duration_seconds_count`:                           2,
		`impbot_questions_total{outcome="answered",platform="opstest"}`:  1,
		`impbot_questions_total{outcome="unrelated",platform="opstest"}`: 1,
		`impbot_questions_total{outcome="unsure",platform="telegram"}`:   0,
		`impbot_questions_total{outcome="redirect",platform="discord"}`:  0,
		`impbot_dialogue_completions_total{platform="telegram"}`:         0,
		`impbot_feedback_total{article="pgwp",vote="helpful"}`:           1,
		`impbot_feedback_total{article="pgwp",vote="unhelpful"}`:         2,
		`impbot_knowledge_reloads_total`:                                 2,
		`impbot_knowledge_reload_failures_total`:                         1,
		`impbot_knowledge_last_reload_ok`:                                0,
		`impbot_knowledge_articles`:                                      float64(s.app.Base.Count()),
		`impbot_unanswered_dropped_total`:                                0,
	}
	for series, v := range want {
		if g, ok := got[series]; !ok {
			t.Errorf("series %s missing", series)
		} else if g != v {
			t.Errorf("%s = %v, want %v", series, g, v)
		}
	}
	if ts := got[`impbot_knowledge_last_reload_timestamp_seconds`]; ts < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last reload timestamp = %v", ts)
	}
	if _, ok := got[`go_goroutines`]; !ok {
		t.Error("Go runtime metrics missing")
	}
}

// BenchmarkReload measures a hot reload of the full knowledge: validation,
// a new index, the swap. The promise is that an edit is served within 2
// seconds (plus the 300 ms debounce).
func BenchmarkReload(b *testing.B) {
	cfg := opsConfig(b)
	cfg.Log.Level = "error"
	s := opsStartServe(b, cfg)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.st.reload("benchmark"); err != nil {
			b.Fatal(err)
		}
	}
}
