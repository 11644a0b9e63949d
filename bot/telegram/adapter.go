// Package telegram is the Telegram adapter: it receives updates (long
// polling or a webhook), turns them into bot.Requests, and sends the
// replies as Telegram HTML with inline keyboards, throttled per chat and
// overall, retried on flood control and server errors, in order per chat.
//
// It uses github.com/go-telegram-bot-api/telegram-bot-api/v5 as a typed
// client only: the update loop, webhook handler, retries and throttling are
// ours (see the project's notes on the library's gaps).
package telegram

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"go.etcd.io/bbolt"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/cluster"
)

// platform is the Platform of requests from Telegram.
const platform = "telegram"

// Platform is the name of this adapter's platform in requests and stats.
const Platform = platform

// DefaultAPIURL is Telegram's Bot API server.
const DefaultAPIURL = "https://api.telegram.org"

// ErrUnauthorized means Telegram refused the bot token.
var ErrUnauthorized = errors.New("Telegram refused the bot token")

// allowedUpdates are the update kinds the bot asks for.
var allowedUpdates = []string{"message", "callback_query"}

// Config configures the adapter.
type Config struct {
	// Token is the bot token from @BotFather.
	Token string
	// APIURL is the Bot API base URL; empty for DefaultAPIURL.
	APIURL string
	// Webhook, when set, receives updates through WebhookHandler instead of
	// long polling.
	Webhook *WebhookConfig
	// Handler answers requests (the app's router with its middleware).
	Handler bot.Handler
	// Stats receives counts; nil discards them.
	Stats bot.Stats
	// Log receives the adapter's logs (never message text or the token).
	Log *slog.Logger
	// DB, if set, keeps long button payloads and pending handoffs across
	// restarts; otherwise they are kept in memory.
	DB *bbolt.DB
	// Cluster, when several replicas share a Redis, makes them act as one:
	// a webhook update is answered once whichever replica gets it (and
	// however often Telegram delivers it), one chat's updates are handled
	// one at a time across replicas, long button payloads are shared, and
	// only the replica holding the leader lease polls. Nil: one replica.
	Cluster *cluster.Redis
	// StaffChatID, if set, turns "talk to a person" into a handoff: the
	// user's question goes to this chat and staff replies reach the user.
	StaffChatID int64
	// Teacher, with StaffChatID, lets staff teach missed phrasings from the
	// staff chat (/gaps, then one tap on the right article).
	Teacher bot.Teacher
	// HTTPClient is used for API calls; nil for a client with sensible
	// timeouts.
	HTTPClient *http.Client
	// Tuning holds the limits and delays; zero values take the defaults.
	Tuning Tuning
}

// WebhookConfig configures webhook mode.
type WebhookConfig struct {
	// URL is the public HTTPS address Telegram posts updates to.
	URL string
	// SecretToken is sent by Telegram in X-Telegram-Bot-Api-Secret-Token
	// (1-256 characters A-Z, a-z, 0-9, _ and -).
	SecretToken string
}

// Tuning holds limits and delays. Telegram allows about one message per
// second in a chat, 20 per minute in a group and 30 per second overall.
type Tuning struct {
	PollTimeout     time.Duration // long-poll wait; default 50s
	RequestTimeout  time.Duration // any other API call; default 30s
	ChatLimit       Window        // messages to one chat (private or group); default 1 per second
	GroupLimit      Window        // messages to one group, on top of ChatLimit; default 20 per minute
	GlobalLimit     Window        // messages overall; default 30 per second
	MinBackoff      time.Duration // first retry delay after a 5xx or network error; default 500ms
	MaxBackoff      time.Duration // longest retry delay; default 30s
	RetryAfterUnit  time.Duration // what one second of retry_after means (tests shorten it); default 1s
	Workers         int           // chats handled at once; default 8
	HandleTimeout   time.Duration // bound on answering one update; default 30s
	ShutdownTimeout time.Duration // time to send the replies in flight at shutdown; default 25s
	HandoffTTL      time.Duration // how long a handoff stays open for staff replies; default 7 days
	QuestionTTL     time.Duration // how long a question is remembered for a handoff; default 1h
}

func (t *Tuning) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.PollTimeout, 50*time.Second)
	def(&t.RequestTimeout, 30*time.Second)
	def(&t.MinBackoff, 500*time.Millisecond)
	def(&t.MaxBackoff, 30*time.Second)
	def(&t.RetryAfterUnit, time.Second)
	def(&t.HandleTimeout, 30*time.Second)
	def(&t.ShutdownTimeout, 25*time.Second)
	def(&t.HandoffTTL, 7*24*time.Hour)
	def(&t.QuestionTTL, time.Hour)
	if t.PollTimeout < time.Second {
		t.PollTimeout = time.Second
	}
	win := func(w *Window, n int, per time.Duration) {
		if w.N <= 0 || w.Per <= 0 {
			*w = Window{N: n, Per: per}
		}
	}
	win(&t.ChatLimit, 1, time.Second)
	win(&t.GroupLimit, 20, time.Minute)
	win(&t.GlobalLimit, 30, time.Second)
	if t.Workers <= 0 {
		t.Workers = 8
	}
	if t.MaxBackoff < t.MinBackoff {
		t.MaxBackoff = t.MinBackoff
	}
}

// Adapter is the Telegram adapter. Create it with New, serve with Run.
type Adapter struct {
	cfg      Config
	t        Tuning
	log      *slog.Logger
	stats    bot.Stats
	hc       *http.Client
	endpoint string

	base    atomic.Pointer[tgbotapi.BotAPI]
	started atomic.Bool
	status  atomic.Pointer[string] // nil when ready

	out     *outbox
	tokenID string // a hash of the token, to name shared rate buckets
	locks   keyedLocks
	teach   teaching
	cb      *callbackIDs
	ho      *handoffs

	polling atomic.Bool // this replica polls (it holds the leader lease, or runs alone)

	// Webhook mode.
	accepting atomic.Bool
	inflight  sync.RWMutex
	seen      recentIDs
}

// New checks the configuration and returns an adapter; it does not contact
// Telegram (Run does).
func New(cfg Config) (*Adapter, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("telegram: the bot token is empty")
	}
	if strings.ContainsAny(cfg.Token, "/?#% \t\n") {
		return nil, errors.New("telegram: the bot token contains characters a token cannot have")
	}
	if cfg.Handler == nil {
		return nil, errors.New("telegram: no handler")
	}
	base := strings.TrimRight(strings.TrimSpace(cfg.APIURL), "/")
	if base == "" {
		base = DefaultAPIURL
	}
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("telegram: API URL %q must be an http(s) URL", cfg.APIURL)
	}
	if cfg.Webhook != nil {
		if !strings.HasPrefix(cfg.Webhook.URL, "https://") && !strings.HasPrefix(cfg.Webhook.URL, "http://") {
			return nil, fmt.Errorf("telegram: webhook URL %q must be an https URL", cfg.Webhook.URL)
		}
		if !validSecret(cfg.Webhook.SecretToken) {
			return nil, errors.New("telegram: the webhook secret token must be 1-256 characters among A-Z, a-z, 0-9, _ and -")
		}
	}
	a := &Adapter{cfg: cfg, t: cfg.Tuning, log: cfg.Log, stats: cfg.Stats, hc: cfg.HTTPClient}
	a.t.defaults()
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.log = a.log.With("platform", platform)
	if a.stats == nil {
		a.stats = bot.NopStats{}
	}
	if a.hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 32
		a.hc = &http.Client{Transport: tr, Timeout: a.t.PollTimeout + a.t.RequestTimeout}
	}
	a.endpoint = strings.ReplaceAll(base, "%", "%%") + "/bot%s/%s"
	msg := "not connected to Telegram yet"
	a.status.Store(&msg)
	sum := sha256.Sum256([]byte("impbot-telegram-token:" + cfg.Token))
	a.tokenID = hex.EncodeToString(sum[:6])
	a.out = newOutbox(a)
	var err error
	if a.cb, err = newCallbackIDs(cfg.DB, a.log); err != nil {
		return nil, err
	}
	a.teach.pending = map[string]teachItem{}
	a.cb.shared = cfg.Cluster
	if cfg.StaffChatID != 0 {
		if a.ho, err = newHandoffs(a, cfg.DB); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func validSecret(s string) bool {
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Name returns "telegram".
func (a *Adapter) Name() string { return platform }

// Ready returns nil while the adapter is connected and receiving updates.
func (a *Adapter) Ready() error {
	if s := a.status.Load(); s != nil {
		return errors.New(*s)
	}
	return nil
}

func (a *Adapter) setStatus(s string) {
	if s == "" {
		a.status.Store(nil)
		return
	}
	a.status.Store(&s)
}

// Username returns the bot's username once connected.
func (a *Adapter) Username() string {
	if b := a.base.Load(); b != nil {
		return b.Self.UserName
	}
	return ""
}

// Forget deletes what the adapter keeps about the request's user: pending
// handoffs and the question remembered for one (a bot.Forgetter for
// /forget).
func (a *Adapter) Forget(ctx context.Context, req *bot.Request) error {
	if a.ho == nil {
		return nil
	}
	return a.ho.Forget(ctx, req)
}

func (a *Adapter) backoff() *backoff { return &backoff{min: a.t.MinBackoff, max: a.t.MaxBackoff} }

// api returns a client whose requests are bound to ctx.
func (a *Adapter) api(ctx context.Context) *tgbotapi.BotAPI {
	b := *a.base.Load()
	b.Client = ctxClient{ctx: ctx, hc: a.hc, token: a.cfg.Token}
	return &b
}

// Run connects to Telegram (retrying while it cannot be reached), registers
// the command menu, and serves updates until ctx is cancelled. Then it
// stops taking updates, acknowledges the last batch, sends the replies in
// flight (up to Tuning.ShutdownTimeout) and returns nil. It returns an error
// when Telegram refuses the token or the webhook.
func (a *Adapter) Run(ctx context.Context) error {
	if !a.started.CompareAndSwap(false, true) {
		return errors.New("Run called twice")
	}
	defer a.setStatus("stopped")
	if err := a.connect(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	a.log.Info("connected", "bot", a.Username(), "mode", a.mode())
	a.setCommands(ctx)

	// Replies outlive ctx: they are flushed at shutdown.
	sendCtx, cancelSend := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSend()
	a.out.start(sendCtx)
	if n, err := a.out.restore(); err != nil {
		a.log.Error("queued replies of the previous run cannot be read", "err", err)
	} else if n > 0 {
		a.log.Info("sending the replies queued before the last stop", "count", n)
	}

	var err error
	switch {
	case a.cfg.Webhook != nil:
		err = a.runWebhook(ctx)
	case a.cfg.Cluster != nil:
		err = a.pollAsLeader(ctx)
	default:
		err = a.poll(ctx)
	}
	a.setStatus("shutting down")
	flushCtx, cancel := context.WithTimeout(context.Background(), a.t.ShutdownTimeout)
	left := a.out.wait(flushCtx)
	cancel()
	if left > 0 && a.cfg.DB != nil {
		a.log.Warn("replies not delivered before the shutdown deadline are kept in the outbox and sent at the next start", "count", left)
	} else if left > 0 {
		a.log.Error("replies not delivered before the shutdown deadline", "count", left)
	}
	cancelSend()
	a.out.wg.Wait()
	a.log.Info("stopped")
	return err
}

// LeaderLease is the lease of the polling leader in Redis: Telegram allows
// one getUpdates consumer per token, so one replica polls while the others
// stand by, and a standby takes over within about 4/3 of it when the leader
// dies.
var LeaderLease = 3 * time.Second

// pollAsLeader polls while this replica holds the leader lease, and stands
// by (ready) otherwise.
func (a *Adapter) pollAsLeader(ctx context.Context) error {
	a.setStatus("")
	a.log.Info("polling: standing by for the leader lease")
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var perr error
	a.cfg.Cluster.Lead(pctx, "tg-poll", LeaderLease, func(lctx context.Context) {
		a.polling.Store(true)
		defer a.polling.Store(false)
		if err := a.poll(lctx); err != nil {
			perr = err
			cancel()
		}
		a.setStatus("")
	})
	return perr
}

// Polling reports whether this replica is the one polling Telegram.
func (a *Adapter) Polling() bool { return a.polling.Load() }

func (a *Adapter) mode() string {
	if a.cfg.Webhook != nil {
		return "webhook"
	}
	return "polling"
}

// connect calls getMe until it succeeds, retrying on network and server
// errors; a refused token is an error.
func (a *Adapter) connect(ctx context.Context) error {
	bo := a.backoff()
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, a.t.RequestTimeout)
		b, err := tgbotapi.NewBotAPIWithClient(a.cfg.Token, a.endpoint, ctxClient{ctx: cctx, hc: a.hc, token: a.cfg.Token})
		cancel()
		if err == nil {
			a.base.Store(b)
			return nil
		}
		e := classify(ctx, err)
		switch e.kind {
		case errCanceled:
			return ctx.Err()
		case errAuth:
			a.stats.APIError(platform, e.kind.label())
			return fmt.Errorf("%w (getMe: %s); get a valid token from @BotFather", ErrUnauthorized, e)
		case errPermanent:
			a.stats.APIError(platform, e.kind.label())
			return fmt.Errorf("getMe failed: %s (check the token and the API URL)", e)
		}
		a.stats.APIError(platform, e.kind.label())
		wait := bo.next()
		if e.kind == errFlood {
			wait = time.Duration(max(e.retryAfter, 1)) * a.t.RetryAfterUnit
		}
		a.setStatus("cannot reach Telegram: " + e.String())
		a.log.Warn("cannot reach Telegram, retrying", "err", e.String(), "attempt", attempt, "in", wait)
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// call runs one API request with the request timeout, retrying flood
// control and transient errors up to attempts times.
func (a *Adapter) call(ctx context.Context, what string, attempts int, f func(api *tgbotapi.BotAPI) error) error {
	bo := a.backoff()
	for i := 1; ; i++ {
		cctx, cancel := context.WithTimeout(ctx, a.t.RequestTimeout)
		err := f(a.api(cctx))
		cancel()
		if err == nil {
			return nil
		}
		e := classify(ctx, err)
		if e.kind == errCanceled {
			return ctx.Err()
		}
		a.stats.APIError(platform, e.kind.label())
		if i >= attempts || (e.kind != errFlood && e.kind != errTransient) {
			return &callError{what: what, e: e}
		}
		wait := bo.next()
		if e.kind == errFlood {
			wait = time.Duration(max(e.retryAfter, 1)) * a.t.RetryAfterUnit
		}
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// callError is the failure of an API call made through call.
type callError struct {
	what string
	e    apiErr
}

func (c *callError) Error() string { return c.what + ": " + c.e.String() }

type command struct{ name, en, fr string }

var commands = []command{
	{"start", "Introduction and what I can do", "Présentation et ce que je sais faire"},
	{"help", "How to use this bot", "Comment utiliser ce bot"},
	{"eligibility", "Check which work permits may fit you", "Voir quels permis de travail pourraient vous convenir"},
	{"contact", "Talk to a person", "Parler à une personne"},
	{"forget", "Delete what I keep about you", "Effacer ce que je garde sur vous"},
	{"cancel", "Stop the eligibility check", "Arrêter la vérification d'admissibilité"},
	{"back", "Go back one question in the check", "Revenir à la question précédente"},
	{"restart", "Start the eligibility check again", "Recommencer la vérification"},
	{"summary", "Your answers and the outcome, to keep or forward", "Vos réponses et le résultat, à garder ou transférer"},
}

// setCommands registers the command menu (English by default, French for
// French-speaking users). Failure is logged, not fatal.
func (a *Adapter) setCommands(ctx context.Context) {
	for _, lang := range []string{"", "fr"} {
		cmds := make([]tgbotapi.BotCommand, len(commands))
		for i, c := range commands {
			d := c.en
			if lang == "fr" {
				d = c.fr
			}
			cmds[i] = tgbotapi.BotCommand{Command: c.name, Description: d}
		}
		cfg := tgbotapi.SetMyCommandsConfig{Commands: cmds, LanguageCode: lang}
		err := a.call(ctx, "setMyCommands", 3, func(api *tgbotapi.BotAPI) error {
			_, err := api.Request(cfg)
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("cannot set the command menu", "lang", lang, "err", err)
			}
			return
		}
	}
}

// Cross-replica timings.
const (
	// chatLockLease is the lease of a chat's lock in Redis: renewed while
	// held, it frees the chat this long after its holder dies.
	chatLockLease = 5 * time.Second
	// updateDoneTTL is how long a handled update id is remembered, so a
	// late redelivery to any replica is not answered twice.
	updateDoneTTL = time.Hour
	// updateClaimLease is how long a replica's claim on an update lasts
	// before another may handle it when its holder died (renewed while the
	// holder works).
	updateClaimLease = 6 * time.Second
)

// lockChat serializes the handling of one chat: in this process, and with a
// cluster across replicas (a lock with a lease in Redis), held until the
// chat's replies are sent. With Redis unreachable it goes on with the local
// lock only (degraded).
func (a *Adapter) lockChat(id int64) func() {
	unlock := a.locks.lock(id)
	if a.cfg.Cluster == nil {
		return unlock
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.t.HandleTimeout)
	defer cancel()
	release, err := a.cfg.Cluster.Lock(ctx, "tg-chat:"+strconv.FormatInt(id, 10), chatLockLease)
	if err != nil {
		a.log.Warn("chat lock unavailable: handling without it", "err", err)
		release = func() {}
	}
	return func() {
		// The replies leave before the chat is free, so the next update of
		// this chat, on any replica, answers after them; and a webhook
		// update is confirmed only once its replies are sent.
		fctx, cancel := context.WithTimeout(context.Background(), a.t.HandleTimeout)
		a.out.flushChat(fctx, id)
		cancel()
		release()
		unlock()
	}
}

// keyedLocks serializes work per chat.
type keyedLocks struct {
	mu sync.Mutex
	m  map[int64]*keyedLock
}

type keyedLock struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedLocks) lock(id int64) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[int64]*keyedLock{}
	}
	l := k.m[id]
	if l == nil {
		l = &keyedLock{}
		k.m[id] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.m, id)
		}
		k.mu.Unlock()
	}
}

// recentIDs remembers recently seen update IDs (webhook redeliveries).
type recentIDs struct {
	mu   sync.Mutex
	set  map[int]struct{}
	ring [1024]int
	n    int
}

// add records id and reports whether it is new.
func (r *recentIDs) add(id int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set == nil {
		r.set = map[int]struct{}{}
	}
	if _, ok := r.set[id]; ok {
		return false
	}
	i := r.n % len(r.ring)
	if r.n >= len(r.ring) {
		delete(r.set, r.ring[i])
	}
	r.ring[i] = id
	r.set[id] = struct{}{}
	r.n++
	return true
}
