package main

// End-to-end tests of several replicas on one Redis: real `impbot serve`
// processes (this test binary re-executed; one replica per test runs serve
// inside the test process, see startReplicaInProcess), a real redis-server, the fake
// Telegram server, and a round-robin reverse proxy on loopback in front of
// the replicas' webhooks, as in the README's deployment.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/impbot/impbot/bot/redistest"
	"github.com/impbot/impbot/bot/telegram"
	"github.com/impbot/impbot/bot/telegram/telegramtest"
)

const e2eSecret = "e2e-Secret_token"

// replica is one `impbot serve`: a process (startReplica) or, at most one
// per test, run inside the test process (startReplicaInProcess).
type replica struct {
	t    testing.TB
	n    int
	addr string
	cmd  *exec.Cmd // nil in process
	stop func()    // in process: cancel serve and wait for it
	logs *tgBuffer
	dead atomic.Bool
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// clusterConfig writes a config for replica n: the example config, with
// Redis sessions, the fake Bot API, and webhook or polling mode.
func clusterConfig(t testing.TB, srv *telegramtest.Server, rds *redistest.Server, addr string, webhook bool, sendRate int) string {
	return tgExampleConfig(t, srv.URL, func(s string) string {
		s = strings.Replace(s, `addr: "127.0.0.1:0"`, `addr: "`+addr+`"`, 1)
		s = strings.Replace(s, "backend: bbolt", "backend: redis", 1)
		s = strings.Replace(s, `url: ""                    # backend redis`, `url: "`+rds.URL()+`" # backend redis`, 1)
		s = strings.Replace(s, "send_rate: 30", "send_rate: "+strconv.Itoa(sendRate), 1)
		s = strings.Replace(s, "per_second: 1                # questions", "per_second: 0                # questions", 1)
		s = strings.Replace(s, "level: info", "level: warn", 1)
		if webhook {
			s = strings.Replace(s, "mode: polling", "mode: webhook", 1)
			s = strings.Replace(s, `url: ""                    # webhook mode`, `url: "https://bot.example.org/tg/hook" # webhook mode`, 1)
			s = strings.Replace(s, `secret_token: ""           # webhook mode`, `secret_token: "`+e2eSecret+`" # webhook mode`, 1)
		}
		return s
	})
}

func startReplica(t testing.TB, n int, cfg, addr, token string) *replica {
	t.Helper()
	r := &replica{t: t, n: n, addr: addr, logs: &tgBuffer{}}
	r.cmd = exec.Command(os.Args[0], "-test.run=^TestTelegramServeHelperProcess$")
	r.cmd.Env = childEnv("IMPBOT_TG_HELPER=1", "IMPBOT_TG_CONFIG="+cfg, "TELEGRAM_BOT_TOKEN="+token, "TELEGRAM_WEBHOOK_SECRET="+e2eSecret)
	r.cmd.Stderr = r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.kill()
		checkNoRace(t, fmt.Sprintf("replica %d", n), r.logs.String())
		if t.Failed() {
			t.Logf("replica %d logs:\n%s", n, r.logs)
		}
	})
	return r
}

// startReplicaInProcess is replica n run inside the test process, as main
// runs `impbot serve` (run with a context): it costs no process start, which
// under -race is about 3.5 CPU-s (the knowledge loaded, its index and
// rankers opened), since it uses the process's embedded knowledge, loaded
// once. The token and the webhook secret are written into its config
// (tests running at once cannot each set the environment). A test starts
// at most one, beside replicas in processes, so that any two replicas the
// proxy alternates between are two processes that share Redis only. It is
// never the one a test kills: kill stops it in order.
func startReplicaInProcess(t testing.TB, n int, cfg, addr, token string) *replica {
	t.Helper()
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, kv := range [][2]string{{"${TELEGRAM_BOT_TOKEN}", token}, {"${TELEGRAM_WEBHOOK_SECRET}", e2eSecret}} {
		if !strings.Contains(s, kv[0]) {
			t.Fatalf("config has no %s", kv[0])
		}
		s = strings.Replace(s, kv[0], strconv.Quote(kv[1]), 1)
	}
	if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &replica{t: t, n: n, addr: addr, logs: &tgBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), io.Discard, r.logs)
	}()
	r.stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("replica %d (in process) stopped with %v", n, err)
			}
		case <-time.After(patience):
			t.Errorf("replica %d (in process) did not stop", n)
		}
	}
	t.Cleanup(func() {
		r.kill()
		if t.Failed() {
			t.Logf("replica %d (in process) logs:\n%s", n, r.logs)
		}
	})
	return r
}

// kill is SIGKILL for a replica process: no shutdown, no release of
// anything. A replica in process is stopped in order.
func (r *replica) kill() {
	if r.dead.Swap(true) {
		return
	}
	if r.cmd == nil {
		r.stop()
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
}

func (r *replica) get(path string) (int, string) {
	resp, err := http.Get("http://" + r.addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (r *replica) waitReady(t testing.TB) {
	t.Helper()
	tgEventually(t, patience, fmt.Sprintf("replica %d ready", r.n), func() bool {
		code, _ := r.get("/readyz")
		return code == http.StatusOK
	})
}

// patience bounds every wait in these tests: a ceiling for a test that is
// stuck, never a performance requirement. The tests wait on events and go on
// as soon as they happen, however loaded the machine.
const patience = 2 * time.Minute

func tgEventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// roundRobin is a reverse proxy that sends each request to the next
// replica in turn (a dead one answers 502, as with nginx or Caddy without
// health checks: the sender retries).
func roundRobin(t testing.TB, rs []*replica) string {
	var next atomic.Uint64
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			r := rs[next.Add(1)%uint64(len(rs))]
			pr.SetURL(&url.URL{Scheme: "http", Host: r.addr})
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: proxy}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String() + "/tg/hook"
}

// telegramSender delivers updates to the webhook as Telegram does: it
// retries (possibly to another replica) until it gets 200.
type telegramSender struct {
	url       string
	hc        *http.Client
	nextID    atomic.Int64
	retries   atomic.Int64
	delivered atomic.Int64
}

func newSender(url string) *telegramSender {
	s := &telegramSender{url: url, hc: &http.Client{Timeout: patience, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	s.nextID.Store(1_000_000)
	return s
}

func (s *telegramSender) update(chat int64, text string) (int64, []byte) {
	id := s.nextID.Add(1)
	ents := ""
	if strings.HasPrefix(text, "/") {
		n := len(strings.Fields(text)[0])
		ents = fmt.Sprintf(`,"entities":[{"type":"bot_command","offset":0,"length":%d}]`, n)
	}
	body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1,"chat":{"id":%d,"type":"private"},"from":{"id":%d,"first_name":"U","language_code":"en"},"text":%q%s}}`,
		id, id, chat, chat, text, ents)
	return id, []byte(body)
}

// deliver posts body until a replica answers 200 (bounded).
func (s *telegramSender) deliver(ctx context.Context, body []byte) error {
	for attempt := 0; ; attempt++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(telegram.SecretHeader, e2eSecret)
		resp, err := s.hc.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.delivered.Add(1)
				return nil
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("update never accepted: %w", ctx.Err())
		}
		s.retries.Add(1)
		time.Sleep(time.Duration(min(attempt+1, 10)) * 20 * time.Millisecond)
	}
}

// e2eScript is what each user sends: a dialogue across replicas (each
// message goes to the next replica) and FAQ questions.
var e2eScript = []string{"/eligibility", "1", "1", "how much is the employer compliance fee", "what is a pgwp"}

// e2eUsers is how many users TestClusterWebhookE2E runs: IMPBOT_E2E_USERS,
// else 100, or 30 under -race. Under -race the users cost CPU, not wall
// time (2026-12-06, load 2-3, test alone: 10 users 12.2 and 17.3 CPU-s,
// 100 users 28.8 and 25.6 CPU-s, all about 30 s wall): the wall time is the
// per-chat send limit's (1 message a second after a burst of 3), and the
// chat and update leases of the killed replica (5-6 s) that its users wait
// for. 30 users still keep 15 conversations going at once in each phase
// (up to 30 while phase 2 overlaps phase 1), on every replica, with
// duplicate deliveries in both phases and the kill in the middle of the
// second; the whole 100 run without -race in CI (.ci/run).
func e2eUsers() int {
	if n, err := strconv.Atoi(os.Getenv("IMPBOT_E2E_USERS")); err == nil && n > 0 {
		return n
	}
	if raceBuild {
		return 30
	}
	return 100
}

// texts is the sequence of message texts sent to a chat.
func texts(ms []telegramtest.Sent) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}

// checkWindows fails when, in some window, more messages left than a token
// bucket of rate and burst allows (+slack for clock skew between the
// bucket's server and the fake's).
func checkWindows(t *testing.T, what string, times []time.Time, rate float64, burst int, slack float64) {
	t.Helper()
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	for i := range times {
		for j := i; j < len(times); j++ {
			w := times[j].Sub(times[i]).Seconds()
			if float64(j-i+1) > float64(burst)+rate*w+slack {
				t.Fatalf("%s: %d messages in %.3fs, over the limit (rate %.0f/s, burst %d)", what, j-i+1, w, rate, burst)
			}
			if rate*w > float64(len(times)) {
				break
			}
		}
	}
}

// TestClusterWebhookE2E: three replicas behind a round-robin proxy; users
// × 5 messages through the webhook, a replica SIGKILLed mid-burst, some
// updates delivered twice: every user's messages answered once, in order,
// each dialogue continued across replicas, the shared send limit kept.
// Replica 0 runs in the test process, 1 (the one killed) and 2 are
// processes.
func TestClusterWebhookE2E(t *testing.T) {
	defer e2eStartedNow()
	if testing.Short() {
		t.Skip("runs three replicas")
	}
	// Child processes, mostly waiting on leases, limits and
	// each other: they overlap with the other child-process tests.
	t.Parallel()
	rds := redistest.Start(t)
	srv := telegramtest.New(t)
	const sendRate = 300
	var rs []*replica
	for i := range 3 {
		addr := freeAddr(t)
		start := startReplica
		if i == 0 {
			start = startReplicaInProcess
		}
		rs = append(rs, start(t, i, clusterConfig(t, srv, rds, addr, true, sendRate), addr, srv.Token))
	}
	for _, r := range rs {
		r.waitReady(t)
	}
	e2eStartedNow() // the other child-process tests start theirs
	sender := newSender(roundRobin(t, rs))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// A probe user's conversation is the expected one for every user: it
	// runs beside phase 1 (all replicas alive) and is compared at the end.
	const probe = 1
	probeErr := make(chan error, 1)
	go func() {
		for _, text := range e2eScript {
			_, body := sender.update(probe, text)
			if err := sender.deliver(ctx, body); err != nil {
				probeErr <- err
				return
			}
		}
		probeErr <- nil
	}()

	users := e2eUsers()
	half := users / 2
	sem := make(chan struct{}, 200)
	var dups atomic.Int64
	errs := make(chan error, 2*users)
	// Phase 2 starts once phase 1 is well under way (its users have had
	// two updates each accepted, on average), or when phase 1 ends.
	var phase1Updates atomic.Int64
	phase2Go := make(chan struct{})
	startPhase2 := sync.OnceFunc(func() { close(phase2Go) })
	// converse runs users [from, to) at once, each sending the script in
	// order; every 7th update is delivered twice at once (to two replicas).
	// done counts the users who finished the script.
	converse := func(from, to int, done *atomic.Int64) {
		var wg sync.WaitGroup
		for u := from; u < to; u++ {
			chat := int64(10_000 + u)
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				for i, text := range e2eScript {
					_, body := sender.update(chat, text)
					if (u+i)%7 == 0 {
						dups.Add(1)
						var dwg sync.WaitGroup
						dwg.Go(func() {
							if err := sender.deliver(ctx, body); err != nil {
								errs <- err
							}
						})
						if err := sender.deliver(ctx, body); err != nil {
							errs <- err
						}
						dwg.Wait()
					} else if err := sender.deliver(ctx, body); err != nil {
						errs <- err
						return
					}
					if u < half && phase1Updates.Add(1) >= int64(2*half) {
						startPhase2()
					}
				}
				done.Add(1)
			})
		}
		wg.Wait()
	}
	// Phase 2: the other half, on all replicas; replica 1 is SIGKILLed in
	// the middle of it, as soon as phase 1 and the probe are over (their
	// replies all sent: a webhook update is confirmed once its replies
	// are), so that no message of theirs can be in flight at the kill.
	var done1, done2 atomic.Int64
	phase2Done := make(chan struct{})
	go func() {
		defer close(phase2Done)
		<-phase2Go
		converse(half, users, &done2)
	}()
	// Phase 1: half the users, duplicates, all replicas alive.
	converse(0, half, &done1)
	startPhase2()
	if err := <-probeErr; err != nil {
		t.Error(err)
	}
	rs[1].kill()
	finishedAtKill := done2.Load()
	<-phase2Done
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	want := texts(srv.SentTo(probe))
	if len(want) < len(e2eScript) {
		t.Fatalf("probe got %d messages for %d updates", len(want), len(e2eScript))
	}
	if !strings.Contains(strings.Join(want, "\n"), "compliance fee") {
		t.Fatalf("probe conversation looks wrong: %q", want)
	}
	byChat := map[int64][]telegramtest.Sent{}
	var times []time.Time
	for _, m := range srv.Sent() {
		byChat[m.ChatID] = append(byChat[m.ChatID], m)
		times = append(times, m.Time)
	}
	// Every user got exactly the probe's conversation: nothing lost, nothing
	// twice, in order, each dialogue continued on other replicas. One
	// exception, in phase 2 only: a message whose sendMessage was in flight
	// at the instant its replica was SIGKILLed reached Telegram but was not
	// counted, and the replica that takes the update over sends it again
	// (Telegram has no idempotency key): it then shows as one message
	// repeated back to back. Nothing may be lost or reordered, ever.
	var repeated []int
	for u := range users {
		chat := int64(10_000 + u)
		got := texts(byChat[chat])
		if strings.Join(got, "\x00") == strings.Join(want, "\x00") {
			continue
		}
		for i := range max(len(got), len(want)) {
			g, w := "", ""
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Logf("user %d: %d messages, want %d; first difference at %d: got %.80q, want %.80q", u, len(got), len(want), i, g, w)
				break
			}
		}
		if u < half || !onlyAdjacentRepeats(want, got) {
			t.Fatalf("user %d did not get the conversation exactly once and in order (phase %d)", u, 1+u/max(half, 1))
		}
		repeated = append(repeated, u)
	}
	// Slack: the fake notes arrival times, which jitter (as Telegram's would)
	// against the bucket's grant times under load: 0.1 s worth.
	checkWindows(t, "all replicas together", times, sendRate, sendRate, 0.1*sendRate)
	for _, chat := range []int64{probe, 10_000, 10_001, int64(10_000 + users/2)} {
		var ct []time.Time
		for _, m := range byChat[chat] {
			ct = append(ct, m.Time)
		}
		checkWindows(t, fmt.Sprintf("chat %d", chat), ct, 1, 3, 1)
	}
	t.Logf("%d users × %d messages, %d duplicate deliveries, %d retried deliveries (replica 1 killed when %d of the %d users of phase 2 had finished), %d messages sent; "+
		"%d users got one message again (in flight at the kill)", users, len(e2eScript), dups.Load(), sender.retries.Load(), finishedAtKill, users-half, len(times), len(repeated))
}

// isSubsequence reports whether want appears in got in order.
func isSubsequence(want, got []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

// onlyAdjacentRepeats reports whether got is want with some messages
// repeated right after themselves (and nothing else changed).
func onlyAdjacentRepeats(want, got []string) bool {
	i := 0
	for j, g := range got {
		switch {
		case i < len(want) && g == want[i]:
			i++
		case j > 0 && g == got[j-1]:
		default:
			return false
		}
	}
	return i == len(want)
}

// say delivers one text update for chat and returns the messages it got.
func (s *telegramSender) say(t *testing.T, srv *telegramtest.Server, chat int64, text string) []string {
	t.Helper()
	before := len(srv.SentTo(chat))
	_, body := s.update(chat, text)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := s.deliver(ctx, body); err != nil {
		t.Fatal(err)
	}
	return texts(srv.SentTo(chat)[before:])
}

// TestClusterRedisRestart: Redis killed mid-run: FAQ answers go on, the
// dialogue says it is briefly unavailable, /readyz and the metrics say so
// (the replicas stay ready); Redis back: everything recovers by itself. Two
// replicas are enough: the round-robin proxy alternates between them, so
// each dialogue answer lands on the other replica. Replica 0 runs in the
// test process, replica 1 is a process.
func TestClusterRedisRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three replicas")
	}
	// Child processes, mostly waiting on leases, limits and
	// each other: they overlap with the other child-process tests.
	t.Parallel()
	afterE2EStart(t)
	rds := redistest.Start(t)
	srv := telegramtest.New(t)
	var rs []*replica
	for i := range 2 {
		addr := freeAddr(t)
		start := startReplica
		if i == 0 {
			start = startReplicaInProcess
		}
		rs = append(rs, start(t, i, clusterConfig(t, srv, rds, addr, true, 300), addr, srv.Token))
	}
	for _, r := range rs {
		r.waitReady(t)
	}
	// The same knowledge hash on every replica, in /readyz and the metrics.
	var hash string
	for _, r := range rs {
		_, body := r.get("/readyz")
		i := strings.Index(body, `"knowledge_hash": "`)
		if i < 0 {
			t.Fatalf("no knowledge_hash in /readyz: %s", body)
		}
		h := body[i+len(`"knowledge_hash": "`):]
		h = h[:strings.Index(h, `"`)]
		if hash != "" && h != hash {
			t.Fatalf("replicas disagree on the knowledge hash: %s vs %s", h, hash)
		}
		hash = h
		if _, m := r.get("/metrics"); !strings.Contains(m, `impbot_knowledge_info{hash="`+hash+`"} 1`) || !strings.Contains(m, "impbot_redis_up 1") {
			t.Fatalf("metrics lack the knowledge hash or redis_up 1")
		}
	}
	s := newSender(roundRobin(t, rs))
	if got := s.say(t, srv, 7, "/eligibility"); len(got) == 0 || !strings.Contains(got[0], "worker") {
		t.Fatalf("dialogue did not start: %q", got)
	}

	rds.Stop()
	// FAQ answers go on.
	if got := strings.Join(s.say(t, srv, 8, "how much is the employer compliance fee"), "\n"); !strings.Contains(got, "$230") {
		t.Fatalf("FAQ answer with Redis down: %q", got)
	}
	// The dialogue says it is briefly unavailable.
	if got := strings.Join(s.say(t, srv, 7, "1"), "\n"); !strings.Contains(got, "briefly unavailable") {
		t.Fatalf("dialogue answer with Redis down: %q", got)
	}
	if got := strings.Join(s.say(t, srv, 9, "/eligibility"), "\n"); !strings.Contains(got, "briefly unavailable") {
		t.Fatalf("/eligibility with Redis down: %q", got)
	}
	// /readyz reports it (a warning: the replica keeps serving), metrics count it.
	for _, r := range rs {
		tgEventually(t, patience, "readyz reports redis down", func() bool {
			code, body := r.get("/readyz")
			return code == http.StatusOK && strings.Contains(body, `"redis": "warning: redis`)
		})
		_, m := r.get("/metrics")
		if !strings.Contains(m, "impbot_redis_up 0") || strings.Contains(m, "impbot_redis_outages_total 0") {
			t.Fatalf("metrics do not show the outage")
		}
	}

	rds.Restart()
	for _, r := range rs {
		tgEventually(t, patience, "readyz reports redis back", func() bool {
			_, body := r.get("/readyz")
			return strings.Contains(body, `"redis": "ok"`)
		})
	}
	// Dialogues work again, across replicas (a new Redis holds no state:
	// the user starts over).
	if got := strings.Join(s.say(t, srv, 7, "/eligibility"), "\n"); !strings.Contains(got, "worker") {
		t.Fatalf("dialogue after Redis came back: %q", got)
	}
	if got := strings.Join(s.say(t, srv, 7, "1"), "\n"); !strings.Contains(got, "citizenship") {
		t.Fatalf("dialogue not continued on another replica after Redis came back: %q", got)
	}
}

// TestClusterPollingLeader: two replicas in polling mode (a leader and a
// standby: a third would only be a second standby): one polls; when it is
// SIGKILLed the other polls after about the lease and no update is lost or
// answered twice. The leader is a process, started first and leader before
// the standby starts, in the test process.
func TestClusterPollingLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three replicas")
	}
	// Child processes, mostly waiting on leases, limits and
	// each other: they overlap with the other child-process tests.
	t.Parallel()
	afterE2EStart(t)
	rds := redistest.Start(t)
	srv := telegramtest.New(t)
	start := func(i int, start func(testing.TB, int, string, string, string) *replica) *replica {
		addr := freeAddr(t)
		cfg := clusterConfig(t, srv, rds, addr, false, 300)
		data, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cfg, []byte(strings.Replace(string(data), "level: warn", "level: info", 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		r := start(t, i, cfg, addr, srv.Token)
		r.waitReady(t)
		return r
	}
	leader := start(0, startReplica)
	tgEventually(t, patience, "replica 0 the leader", func() bool {
		return strings.Contains(leader.logs.String(), "leader lease taken")
	})
	standby := start(1, startReplicaInProcess)
	const chats = 20
	push := func(from, to int) {
		for c := from; c < to; c++ {
			srv.PushMessage(telegramtest.Msg{ChatID: int64(500 + c), From: telegramtest.User{ID: int64(500 + c), Name: "U", Lang: "en"}, Text: "how much is the employer compliance fee"})
		}
	}
	answered := func(from, to int) bool {
		for c := from; c < to; c++ {
			if len(srv.SentTo(int64(500+c))) == 0 {
				return false
			}
		}
		return true
	}
	push(0, chats/2)
	tgEventually(t, patience, "first half answered", func() bool { return answered(0, chats/2) })

	leader.kill()
	killedAt := time.Now()
	push(chats/2, chats)
	tgEventually(t, patience, "second half answered by a new leader", func() bool { return answered(chats/2, chats) })
	var took time.Duration
	for _, c := range srv.Calls("getUpdates") {
		if c.Time.After(killedAt) {
			took = c.Time.Sub(killedAt)
			break
		}
	}
	// The lease (3 s) bounds the takeover by design; measured 2.7–3.0 s on
	// an idle machine. The ceiling leaves room for a loaded CI machine so
	// that load cannot fail the test; the measured figure is logged below.
	if took == 0 || took > 15*time.Second {
		t.Fatalf("another replica polled %v after the leader died, want about the 3 s lease", took)
	}
	if !strings.Contains(standby.logs.String(), "leader lease taken") {
		t.Fatalf("the standby polled but its log does not say it took the lease:\n%s", standby.logs)
	}
	// Exactly one answer per message, even for updates the dead leader
	// handled but could not confirm.
	for c := range chats {
		if n := len(srv.SentTo(int64(500 + c))); n != 1 {
			t.Fatalf("chat %d got %d messages, want 1", 500+c, n)
		}
	}
	t.Logf("a standby polled %v after the leader was killed", took.Round(time.Millisecond))
}

// BenchmarkClusterWebhook measures throughput and latency (an update
// posted to its 200, replies sent) through the proxy, for 1 and 3
// replicas on this machine, 50 senders at once, each update from a new chat.
// The send limit is raised so that the bot, not Telegram's limit, is
// measured.
func BenchmarkClusterWebhook(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			rds := redistest.Start(b)
			srv := telegramtest.New(b)
			var rs []*replica
			for i := range n {
				addr := freeAddr(b)
				rs = append(rs, startReplica(b, i, clusterConfig(b, srv, rds, addr, true, 100000), addr, srv.Token))
			}
			for _, r := range rs {
				r.waitReady(b)
			}
			s := newSender(roundRobin(b, rs))
			questions := []string{"how much is the employer compliance fee", "what is a pgwp", "can my spouse work in canada", "what is an lmia", "iec working holiday age limit"}
			const users = 50
			var mu sync.Mutex
			var lat []time.Duration
			var next atomic.Int64
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range users {
				wg.Go(func() {
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						_, body := s.update(int64(20_000+i), questions[int(i)%len(questions)]) // a new chat each: per-chat limits do not bind
						t0 := time.Now()
						if err := s.deliver(ctx, body); err != nil {
							b.Error(err)
							return
						}
						d := time.Since(t0)
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			if len(lat) > 0 {
				b.ReportMetric(float64(len(lat))/el.Seconds(), "updates/s")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}
