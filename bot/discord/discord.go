// Package discord is the Discord adapter, on discordgo. It answers slash
// commands (/ask with autocomplete, /eligibility, /help, /contact), direct
// messages and messages that mention the bot, and, when configured, plain
// messages in chosen channels; it turns button presses into actions.
//
// discordgo is used as a typed client, with its weak spots covered here:
// its own reconnect loop and 429 retries (which sleep without regard to any
// context, forever) are switched off; a supervisor reopens the gateway when
// it drops and counts reconnects; REST calls carry a context and are retried
// a bounded number of times; events are handled on a bounded pool of
// workers, in order per user, with panics recovered.
package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
	"go.etcd.io/bbolt"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/cluster"
)

// Platform is the platform name of requests from Discord.
const Platform = "discord"

// Config configures the adapter.
type Config struct {
	// Token is the bot token from the Developer Portal (with or without the
	// "Bot " prefix).
	Token string
	// ApplicationID is the application the slash commands belong to; empty
	// to take it from the gateway's READY.
	ApplicationID string
	// GuildIDs are the servers to register the slash commands in (they
	// appear at once); empty registers them globally.
	GuildIDs []string
	// Channels are channels where plain messages (without a mention) are
	// answered. Non-empty requests the privileged Message Content intent,
	// which must be enabled in the Developer Portal.
	Channels []string
	// Ephemeral makes answers to slash commands visible only to the user
	// who asked.
	Ephemeral bool
	// APIURL replaces https://discord.com for REST calls and gateway
	// discovery (a REST proxy, or a fake in tests); empty for Discord.
	APIURL string
	// Workers and Queue size the pool that handles events (defaults 8 and
	// 64 per worker).
	Workers int
	Queue   int
	// Suggest completes /ask as the user types (autocomplete); nil offers
	// no choices.
	Suggest func(ctx context.Context, lang, typed string, n int) []bot.Suggestion
	Log     *slog.Logger
	Stats   bot.Stats
	// DB, if set, keeps deferred interactions until they are answered, so
	// that those left unanswered by a crash are answered at the next start.
	DB *bbolt.DB
	// ShardID and ShardCount, when ShardCount > 1, make this adapter one
	// gateway shard (discordgo's ShardID/ShardCount): Discord sends it the
	// events of the guilds with (guild_id >> 22) % ShardCount == ShardID,
	// and direct messages to shard 0.
	ShardID, ShardCount int
	// SkipCommands leaves the slash-command registration to another shard.
	SkipCommands bool
	// Cluster, when several replicas share a Redis, shares the REST rate
	// limits (per bot token) between them (shared.go). Nil: one replica.
	Cluster *cluster.Redis
}

// Timeouts.
const (
	httpTimeout      = 15 * time.Second
	handshakeTimeout = 15 * time.Second
	// openTimeout bounds one gateway connection attempt, from dialing to
	// READY (discordgo's Open has no deadline of its own).
	openTimeout = 30 * time.Second
	// jobTimeout bounds the handling of one message or interaction.
	jobTimeout = 60 * time.Second
	// drainGrace is how long replies in flight may take at shutdown.
	drainGrace = 10 * time.Second
	// maxBackoff caps the wait between reconnection attempts.
	maxBackoff = 2 * time.Minute
)

// Adapter connects the bot to Discord. Create it with New and run it with
// Run.
type Adapter struct {
	cfg      Config
	h        bot.Handler
	log      *slog.Logger
	stats    bot.Stats
	s        *discordgo.Session
	channels map[string]bool

	mu     sync.Mutex
	selfID string
	appID  string

	connected    atomic.Bool
	started      atomic.Bool
	stopping     atomic.Bool
	disconnected chan struct{}
	pool         *pool
	dialMu       sync.Mutex
	dialed       net.Conn // the latest gateway connection dialed
	warnedEmpty  atomic.Bool

	// deferAfter is how long after receipt an interaction still being
	// handled is deferred (Discord wants an answer within 3 s).
	deferAfter time.Duration
	// backoffBase is the first wait before reconnecting.
	backoffBase time.Duration
}

// dgLog receives discordgo's own log lines (its logger is a package
// variable, set once).
var (
	dgLog     atomic.Pointer[slog.Logger]
	dgLogOnce sync.Once
)

// New builds the adapter. It does not connect: Run does.
func New(cfg Config, h bot.Handler) (*Adapter, error) {
	token := strings.TrimSpace(cfg.Token)
	if token == "Bot" || strings.HasPrefix(token, "Bot ") {
		token = strings.TrimSpace(token[3:])
	}
	if token == "" {
		return nil, errors.New("discord: no bot token")
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return nil, errors.New("discord: the bot token contains spaces")
	}
	if h == nil {
		return nil, errors.New("discord: no handler")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Stats == nil {
		cfg.Stats = bot.NopStats{}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 64
	}
	var target *url.URL
	if cfg.APIURL != "" {
		u, err := url.Parse(strings.TrimSpace(cfg.APIURL))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("discord: api_url %q is not an http(s) URL", cfg.APIURL)
		}
		target = u
	}
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	a := &Adapter{
		cfg:          cfg,
		h:            h,
		log:          cfg.Log,
		stats:        cfg.Stats,
		s:            s,
		channels:     map[string]bool{},
		appID:        strings.TrimSpace(cfg.ApplicationID),
		disconnected: make(chan struct{}, 1),
		deferAfter:   2 * time.Second,
		backoffBase:  time.Second,
	}
	for _, c := range cfg.Channels {
		if c = strings.TrimSpace(c); c != "" {
			a.channels[c] = true
		}
	}

	base := http.DefaultTransport.(*http.Transport).Clone()
	var rt http.RoundTripper = base
	if target != nil {
		rt = rewriteTransport{base: base, target: target}
	}
	if cfg.Cluster != nil {
		rt = newSharedLimits(rt, cfg.Cluster, token, a)
	}
	s.Client = &http.Client{Timeout: httpTimeout, Transport: rt}
	dialer := &net.Dialer{Timeout: handshakeTimeout, KeepAlive: 30 * time.Second}
	s.Dialer = &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: handshakeTimeout,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err == nil {
				a.dialMu.Lock()
				a.dialed = c
				a.dialMu.Unlock()
			}
			return c, err
		},
	}
	s.ShouldReconnectOnError = false // the supervisor reconnects
	s.ShouldReconnectVoiceOnSessionError = false
	s.ShouldRetryOnRateLimit = false // restCall waits out 429s
	s.MaxRestRetries = 0
	s.StateEnabled = false
	s.SyncEvents = true // handlers only queue work on the pool
	s.LogLevel = discordgo.LogWarning
	if cfg.ShardCount > 1 {
		if cfg.ShardID < 0 || cfg.ShardID >= cfg.ShardCount {
			return nil, fmt.Errorf("discord: shard %d is not below the shard count %d", cfg.ShardID, cfg.ShardCount)
		}
		s.ShardID, s.ShardCount = cfg.ShardID, cfg.ShardCount
	}
	s.Identify.Intents = discordgo.IntentGuildMessages | discordgo.IntentDirectMessages
	if len(a.channels) > 0 {
		s.Identify.Intents |= discordgo.IntentMessageContent
	}

	dgLog.Store(cfg.Log)
	dgLogOnce.Do(func() { discordgo.Logger = libraryLog })

	s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
		defer a.recoverEvent("READY")
		a.onReady(r)
	})
	s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Disconnect) {
		defer a.recoverEvent("disconnect")
		a.onDisconnect()
	})
	s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) {
		defer a.recoverEvent("MESSAGE_CREATE")
		a.onMessageCreate(m.Message)
	})
	s.AddHandler(func(_ *discordgo.Session, i *discordgo.InteractionCreate) {
		defer a.recoverEvent("INTERACTION_CREATE")
		a.onInteractionCreate(i.Interaction, time.Now())
	})
	return a, nil
}

// recoverEvent logs a panic in an event handler instead of letting it kill
// the process (discordgo has no recover of its own).
func (a *Adapter) recoverEvent(event string) {
	if r := recover(); r != nil {
		a.log.Error("discord event handler panicked", "event", event, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	}
}

// libraryLog forwards discordgo's log lines to slog. Lines that would carry
// event payloads (message text) are logged without their arguments.
func libraryLog(level, _ int, format string, args ...any) {
	log := dgLog.Load()
	if log == nil {
		return
	}
	msg := format
	if !strings.Contains(format, "Data:") && !strings.Contains(format, "message:") && !strings.Contains(format, "%#v") {
		msg = fmt.Sprintf(format, args...)
	}
	msg = strings.TrimSpace(msg)
	switch level {
	case discordgo.LogError:
		log.Warn("discordgo: " + msg)
	case discordgo.LogWarning:
		log.Info("discordgo: " + msg)
	default:
		log.Debug("discordgo: " + msg)
	}
}

// rewriteTransport sends requests for https://discord.com to target instead
// (scheme, host and a path prefix).
type rewriteTransport struct {
	base   http.RoundTripper
	target *url.URL
}

func (t rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != "discord.com" {
		return t.base.RoundTrip(r)
	}
	r2 := r.Clone(r.Context())
	r2.URL.Scheme = t.target.Scheme
	r2.URL.Host = t.target.Host
	prefix := strings.TrimSuffix(t.target.Path, "/")
	r2.URL.Path = prefix + r.URL.Path
	if r.URL.RawPath != "" {
		r2.URL.RawPath = strings.TrimSuffix(t.target.EscapedPath(), "/") + r.URL.RawPath
	}
	r2.Host = ""
	return t.base.RoundTrip(r2)
}

// Name is the platform name.
func (a *Adapter) Name() string { return Platform }

// Ready returns nil while connected to the gateway.
func (a *Adapter) Ready() error {
	if a.connected.Load() {
		return nil
	}
	return errors.New("not connected to the Discord gateway")
}

func (a *Adapter) onReady(r *discordgo.Ready) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.User != nil {
		a.selfID = r.User.ID
	}
	if a.appID == "" && r.Application != nil {
		a.appID = r.Application.ID
	}
}

func (a *Adapter) ids() (self, app string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.selfID, a.appID
}

func (a *Adapter) onDisconnect() {
	a.connected.Store(false)
	select {
	case a.disconnected <- struct{}{}:
	default:
	}
}

// Run connects to the gateway, registers the slash commands and serves
// until ctx is cancelled; then it disconnects, lets the replies in flight
// finish and returns nil. It returns an error when it cannot connect for
// good (a rejected token, intents not enabled in the Developer Portal).
func (a *Adapter) Run(ctx context.Context) error {
	if !a.started.CompareAndSwap(false, true) {
		return errors.New("discord: Run called twice")
	}
	a.pool = newPool(a.cfg.Workers, a.cfg.Queue, a.log)
	defer a.pool.stop(drainGrace)

	if err := a.connect(ctx, false); err != nil {
		return err
	}
	if ctx.Err() != nil {
		a.stopping.Store(true)
		a.s.Close()
		return nil
	}
	self, app := a.ids()
	a.log.Info("connected to Discord", "bot_user", self, "application", app,
		"guilds", len(a.cfg.GuildIDs), "channels", len(a.channels))
	if !a.cfg.SkipCommands {
		a.registerCommands(ctx)
	}
	a.resumeDeferred(time.Now())

	var failure error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-a.disconnected:
			if ctx.Err() != nil {
				break loop
			}
			// Open tells a stale signal (the connection is already open
			// again) from a real loss: discordgo's heartbeat and read
			// loops may both close the connection.
			if err := a.connect(ctx, true); err != nil {
				failure = err
				break loop
			}
		}
	}
	a.stopping.Store(true)
	if err := a.s.Close(); err != nil {
		a.log.Debug("closing the Discord gateway", "err", err)
	}
	a.connected.Store(false)
	a.log.Info("disconnected from Discord")
	return failure
}

// connect opens the gateway, retrying with backoff until it succeeds, ctx is
// done (nil) or the error is one that retrying cannot fix.
func (a *Adapter) connect(ctx context.Context, reconnect bool) error {
	wait := a.backoffBase
	for attempt := 1; ; attempt++ {
		err := a.open()
		if errors.Is(err, discordgo.ErrWSAlreadyOpen) {
			a.connected.Store(true)
			return nil
		}
		if err == nil {
			a.connected.Store(true)
			if reconnect {
				a.stats.Reconnect(Platform)
				a.log.Warn("the Discord gateway connection was lost and is open again", "attempts", attempt)
			}
			return nil
		}
		if fatal := fatalGatewayError(err); fatal != nil {
			return fatal
		}
		a.stats.APIError(Platform, "gateway")
		a.log.Warn("cannot connect to the Discord gateway: will retry", "err", err, "wait", wait, "attempt", attempt)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(wait*2, maxBackoff)
	}
}

// open makes one connection attempt, bounded by openTimeout: discordgo's
// Open reads the Hello and READY frames with no deadline, so a watchdog
// closes the connection if they do not come.
func (a *Adapter) open() error {
	a.dialMu.Lock()
	a.dialed = nil
	a.dialMu.Unlock()
	var timedOut atomic.Bool
	watchdog := time.AfterFunc(openTimeout, func() {
		timedOut.Store(true)
		a.dialMu.Lock()
		defer a.dialMu.Unlock()
		if a.dialed != nil {
			a.dialed.Close()
		}
	})
	err := a.s.Open()
	watchdog.Stop()
	if err != nil && timedOut.Load() {
		return fmt.Errorf("no READY from the gateway within %s: %w", openTimeout, err)
	}
	return err
}

// fatalGatewayError returns a clear error for gateway close codes that
// retrying cannot fix, or nil.
func fatalGatewayError(err error) error {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return nil
	}
	switch ce.Code {
	case 4004:
		return fmt.Errorf("discord rejected the bot token (close %d): check discord.token", ce.Code)
	case 4013:
		return fmt.Errorf("discord rejected the gateway intents (close %d)", ce.Code)
	case 4014:
		return fmt.Errorf("discord refused the Message Content intent (close %d): enable it in the Developer Portal "+
			"(Bot → Privileged Gateway Intents), or leave discord.channels empty", ce.Code)
	case 4010, 4011, 4012:
		return fmt.Errorf("discord closed the gateway (close %d: %s)", ce.Code, ce.Text)
	}
	return nil
}

// registerCommands (re)declares the slash commands in the configured guilds,
// or globally. Failures are logged: messages and DMs still work.
func (a *Adapter) registerCommands(ctx context.Context) {
	_, app := a.ids()
	if app == "" {
		a.log.Error("cannot register slash commands: no application id (set discord.application_id)")
		return
	}
	targets := a.cfg.GuildIDs
	if len(targets) == 0 {
		targets = []string{""}
	}
	cmds := commands()
	for _, g := range targets {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := a.restCall(cctx, "register slash commands", func(opts ...discordgo.RequestOption) error {
			_, err := a.s.ApplicationCommandBulkOverwrite(app, g, cmds, opts...)
			return err
		})
		cancel()
		where := "globally"
		if g != "" {
			where = "in guild " + g
		}
		if err != nil {
			a.log.Error("cannot register slash commands "+where+
				" (was the bot invited with the applications.commands scope?)", "err", err)
			continue
		}
		a.log.Info("registered slash commands "+where, "commands", len(cmds))
	}
}
