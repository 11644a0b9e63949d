package service

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/impbot/impbot/knowledge"
)

// Config is the file given to `impbot serve --config`. Key names are a
// contract (see config.example.yaml); unknown keys are errors.
type Config struct {
	Knowledge struct {
		Dir           string   `yaml:"dir"`
		MaxFileKB     int      `yaml:"max_file_kb"`
		MaxArticles   int      `yaml:"max_articles"`
		MaxTotalMB    int      `yaml:"max_total_mb"`
		ReloadTimeout Duration `yaml:"reload_timeout"`
	} `yaml:"knowledge"`
	HTTP struct {
		Addr string `yaml:"addr"`
	} `yaml:"http"`
	Sessions struct {
		// Backend is bbolt (one machine, zero setup) or redis (several
		// replicas share the state).
		Backend     string      `yaml:"backend"`
		Path        string      `yaml:"path"`
		IdleTimeout Duration    `yaml:"idle_timeout"`
		OnCorrupt   string      `yaml:"on_corrupt"`
		Redis       RedisConfig `yaml:"redis"`
	} `yaml:"sessions"`
	Organization struct {
		Name    string `yaml:"name"`
		Contact string `yaml:"contact"`
	} `yaml:"organization"`
	Log struct {
		Level       string `yaml:"level"`
		Format      string `yaml:"format"`
		MessageText bool   `yaml:"message_text"`
	} `yaml:"log"`
	RateLimit struct {
		PerSecond float64 `yaml:"per_second"`
		Burst     int     `yaml:"burst"`
	} `yaml:"rate_limit"`
	Unanswered struct {
		RetentionDays *int `yaml:"retention_days"`
	} `yaml:"unanswered"`
	Telegram TelegramConfig `yaml:"telegram"`
	Discord  DiscordConfig  `yaml:"discord"`
	Web      WebConfig      `yaml:"web"`

	// autoOff lists the sections with `enabled: auto` that are off because
	// their token is empty.
	autoOff []string
}

// WebConfig configures the web chat widget (bot/web).
type WebConfig struct {
	Enabled bool `yaml:"enabled"`
	// Addr is where the widget, the demo page and the chat are served;
	// empty or equal to http.addr shares the HTTP server.
	Addr           string   `yaml:"addr"`
	AllowedOrigins []string `yaml:"allowed_origins"`
	Title          string   `yaml:"title"`
	Greeting       string   `yaml:"greeting"`
	ThemeColor     string   `yaml:"theme_color"`
}

// TelegramConfig configures the Telegram adapter.
type TelegramConfig struct {
	Enabled bool   `yaml:"enabled"`
	Token   string `yaml:"token"`
	Mode    string `yaml:"mode"`
	APIURL  string `yaml:"api_url"`
	Webhook struct {
		URL         string `yaml:"url"`
		SecretToken string `yaml:"secret_token"`
	} `yaml:"webhook"`
	StaffChatID int64   `yaml:"staff_chat_id"`
	SendRate    float64 `yaml:"send_rate"`
}

// RedisConfig is sessions.redis: the shared store of several replicas.
type RedisConfig struct {
	// URL is redis://host:port/db or rediss:// for TLS. Put no password in
	// it: PasswordEnv names the environment variable that holds it.
	URL string `yaml:"url"`
	// PasswordEnv is the environment variable with the password (default
	// REDIS_PASSWORD; unset or empty = no password, or the URL's).
	PasswordEnv string `yaml:"password_env"`
	// Prefix namespaces the keys (default impbot).
	Prefix string `yaml:"prefix"`
}

// DiscordConfig configures the Discord adapter.
type DiscordConfig struct {
	Enabled       bool     `yaml:"enabled"`
	Token         string   `yaml:"token"`
	ApplicationID string   `yaml:"application_id"`
	GuildIDs      []string `yaml:"guild_ids"`
	Channels      []string `yaml:"channels"`
	Ephemeral     *bool    `yaml:"ephemeral"`
	APIURL        string   `yaml:"api_url"`
	// Shards is "" (one connection, no sharding), "auto" (Discord's
	// recommended count, from GET /gateway/bot) or a number.
	Shards string `yaml:"shards"`
	// ShardIDs are the shards this replica runs (default: all of them).
	ShardIDs []int `yaml:"shard_ids"`
}

// KnowledgeLimits returns the limits of the knowledge folder.
func (c Config) KnowledgeLimits() knowledge.Limits {
	return knowledge.Limits{
		FileBytes:  int64(c.Knowledge.MaxFileKB) << 10,
		Articles:   c.Knowledge.MaxArticles,
		TotalBytes: int64(c.Knowledge.MaxTotalMB) << 20,
	}
}

// Duration is a time.Duration written as "30m", "1h".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration such as 30m or 1h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// DefaultConfig returns the settings used when no file is given.
func DefaultConfig() Config {
	var c Config
	c.HTTP.Addr = "127.0.0.1:8080"
	c.Sessions.Backend = "bbolt"
	c.Sessions.Path = "data/sessions.db"
	c.Sessions.Redis.PasswordEnv = "REDIS_PASSWORD"
	c.Sessions.Redis.Prefix = "impbot"
	c.Sessions.IdleTimeout = Duration(30 * time.Minute)
	c.Sessions.OnCorrupt = "move"
	lim := knowledge.DefaultLimits()
	c.Knowledge.MaxFileKB = int(lim.FileBytes >> 10)
	c.Knowledge.MaxArticles = lim.Articles
	c.Knowledge.MaxTotalMB = int(lim.TotalBytes >> 20)
	c.Knowledge.ReloadTimeout = Duration(2 * time.Minute)
	c.Log.Level = "info"
	c.Log.Format = "text"
	c.RateLimit.PerSecond = 1
	c.RateLimit.Burst = 5
	days := 30
	c.Unanswered.RetentionDays = &days
	c.Telegram.Mode = "polling"
	c.Telegram.SendRate = 30
	t := true
	c.Discord.Ephemeral = &t
	return c
}

var redisPrefixRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

var envRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${VAR} with the environment variable's value in the
// value scalars of the parsed YAML (never in keys or comments), so a value
// may hold any character. It returns the names of the variables that are
// unset or empty, once each, in order.
func expandEnv(n *yaml.Node, lookup func(string) (string, bool)) []string {
	var missing []string
	seen := map[string]bool{}
	var walk func(n *yaml.Node)
	expand := func(n *yaml.Node) {
		if n.Kind != yaml.ScalarNode || !strings.Contains(n.Value, "${") {
			return
		}
		n.Value = envRE.ReplaceAllStringFunc(n.Value, func(m string) string {
			name := m[2 : len(m)-1]
			v, ok := lookup(name)
			if !ok || v == "" {
				if !seen[name] {
					seen[name] = true
					missing = append(missing, name)
				}
				return ""
			}
			return strings.ReplaceAll(v, "\n", "")
		})
		// A plain ${VAR} takes the type of its value (staff_chat_id,
		// enabled); quoted ones stay strings, and so do empty values.
		if n.Style == 0 {
			switch n.Value {
			case "", "~", "null", "Null", "NULL":
				n.Tag = "!!str"
			default:
				n.Tag = ""
			}
		}
	}
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				expand(c)
				walk(c)
			}
		case yaml.MappingNode:
			for i := 1; i < len(n.Content); i += 2 {
				expand(n.Content[i])
				walk(n.Content[i])
			}
		case yaml.AliasNode:
			// the anchor's node is expanded where it is defined
		}
	}
	walk(n)
	return missing
}

// resolveAuto turns `enabled: auto` into true when the same section has a
// non-empty token (after ${VAR} expansion) and false otherwise. It returns
// the sections switched off that way.
func resolveAuto(n *yaml.Node) (off []string) {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		sec, body := n.Content[i].Value, n.Content[i+1]
		if body.Kind != yaml.MappingNode {
			continue
		}
		var enabled, token *yaml.Node
		for j := 0; j+1 < len(body.Content); j += 2 {
			switch body.Content[j].Value {
			case "enabled":
				enabled = body.Content[j+1]
			case "token":
				token = body.Content[j+1]
			}
		}
		if enabled == nil || enabled.Kind != yaml.ScalarNode || enabled.Value != "auto" {
			continue
		}
		on := token != nil && token.Kind == yaml.ScalarNode && strings.TrimSpace(token.Value) != ""
		enabled.Value, enabled.Tag, enabled.Style = strconv.FormatBool(on), "!!bool", 0
		if !on {
			off = append(off, sec)
		}
	}
	return off
}

// knownFields reports the first mapping key that names no field of t (the
// decoder's KnownFields, which yaml.Node.Decode lacks).
func knownFields(n *yaml.Node, t reflect.Type) error {
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			if err := knownFields(c, t); err != nil {
				return err
			}
		}
		return nil
	}
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		if t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				if err := knownFields(c, t.Elem()); err != nil {
					return err
				}
			}
			return nil
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || n.Kind != yaml.MappingNode || reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
		return nil
	}
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ft, ok := fields[k.Value]
		if !ok {
			return fmt.Errorf("line %d: field %s not found in type %s", k.Line, k.Value, t)
		}
		if err := knownFields(n.Content[i+1], ft); err != nil {
			return err
		}
	}
	return nil
}

// LoadConfig reads and validates a config file. Secrets come from the
// environment through ${VAR}.
func LoadConfig(path string, lookup func(string) (string, bool)) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(path, data, lookup)
}

// ParseConfig parses config file content.
func ParseConfig(name string, data []byte, lookup func(string) (string, bool)) (Config, error) {
	c := DefaultConfig()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	missing := expandEnv(&doc, lookup)
	c.autoOff = resolveAuto(&doc)
	if doc.Kind != 0 {
		if err := knownFields(&doc, reflect.TypeOf(c)); err != nil {
			return Config{}, fmt.Errorf("%s: %w", name, err)
		}
		if err := doc.Decode(&c); err != nil {
			return Config{}, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	if err := c.validate(missing); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

func (c *Config) validate(missingEnv []string) error {
	var errs []string
	// unset names the variables a platform's token may have come from: those
	// that mention the platform, or all the unset ones if none does.
	unset := func(words ...string) string {
		// The unset variables whose names hold the most of words (e.g.
		// TELEGRAM and TOKEN), else all the unset ones.
		var names []string
		for n := len(words); n > 0 && len(names) == 0; n-- {
			for _, m := range missingEnv {
				hits := 0
				for _, w := range words {
					if strings.Contains(strings.ToUpper(m), w) {
						hits++
					}
				}
				if hits >= n {
					names = append(names, m)
				}
			}
		}
		if len(names) == 0 {
			names = missingEnv
		}
		if len(names) == 0 {
			return ""
		}
		return " (unset in the environment: " + strings.Join(names, ", ") + ")"
	}
	bad := func(key, format string, args ...any) {
		errs = append(errs, key+": "+fmt.Sprintf(format, args...))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q must be debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q must be text or json", c.Log.Format)
	}
	switch c.Sessions.Backend {
	case "bbolt":
	case "redis":
		u := c.Sessions.Redis.URL
		switch {
		case u == "":
			bad("sessions.redis.url", "is required with sessions.backend: redis (redis://host:6379/0 or rediss://…)")
		case !strings.HasPrefix(u, "redis://") && !strings.HasPrefix(u, "rediss://"):
			bad("sessions.redis.url", "must start with redis:// or rediss://")
		}
		if !redisPrefixRE.MatchString(c.Sessions.Redis.Prefix) {
			bad("sessions.redis.prefix", "%q must be 1-64 letters, digits, _ . or -", c.Sessions.Redis.Prefix)
		}
	default:
		bad("sessions.backend", "%q must be bbolt or redis", c.Sessions.Backend)
	}
	if c.Knowledge.MaxFileKB <= 0 {
		bad("knowledge.max_file_kb", "must be at least 1")
	}
	if c.Knowledge.MaxArticles <= 0 {
		bad("knowledge.max_articles", "must be at least 1")
	}
	if c.Knowledge.MaxTotalMB <= 0 {
		bad("knowledge.max_total_mb", "must be at least 1")
	}
	if c.Knowledge.ReloadTimeout <= 0 {
		bad("knowledge.reload_timeout", "must be more than 0")
	}
	switch c.Sessions.OnCorrupt {
	case "move", "refuse":
	default:
		bad("sessions.on_corrupt", "%q must be move or refuse", c.Sessions.OnCorrupt)
	}
	if c.RateLimit.PerSecond < 0 {
		bad("rate_limit.per_second", "must not be negative")
	}
	if c.RateLimit.Burst < 0 || (c.RateLimit.PerSecond > 0 && c.RateLimit.Burst == 0) {
		bad("rate_limit.burst", "must be at least 1")
	}
	if c.Unanswered.RetentionDays != nil && *c.Unanswered.RetentionDays < 0 {
		bad("unanswered.retention_days", "must be 0 (off) or more")
	}
	if c.Telegram.Enabled {
		if c.Telegram.Token == "" {
			bad("telegram.token", "is empty%s: set the environment variable the config names (TELEGRAM_BOT_TOKEN in the example), "+
				"or turn Telegram off with telegram.enabled: false (or auto: on only when the token is set)", unset("TELEGRAM", "TOKEN"))
		}
		switch c.Telegram.Mode {
		case "polling":
		case "webhook":
			if c.Telegram.Webhook.URL == "" {
				bad("telegram.webhook.url", "is required in webhook mode")
			}
			if c.Telegram.Webhook.SecretToken == "" {
				bad("telegram.webhook.secret_token", "is required in webhook mode%s", unset("TELEGRAM", "SECRET"))
			}
		default:
			bad("telegram.mode", "%q must be polling or webhook", c.Telegram.Mode)
		}
		if c.Telegram.SendRate <= 0 {
			bad("telegram.send_rate", "must be more than 0 (Telegram allows about 30 messages per second)")
		}
		if c.Telegram.APIURL != "" && !strings.HasPrefix(c.Telegram.APIURL, "http://") && !strings.HasPrefix(c.Telegram.APIURL, "https://") {
			bad("telegram.api_url", "%q must be an http(s) URL", c.Telegram.APIURL)
		}
	}
	if c.Discord.Enabled {
		if c.Discord.Token == "" {
			bad("discord.token", "is empty%s: set the environment variable the config names (DISCORD_BOT_TOKEN in the example), "+
				"or turn Discord off with discord.enabled: false (or auto: on only when the token is set)", unset("DISCORD", "TOKEN"))
		}
		if sh := c.Discord.Shards; sh != "" && sh != "auto" {
			if n, err := strconv.Atoi(sh); err != nil || n < 1 {
				bad("discord.shards", "%q must be auto or a number of shards (1 or more)", sh)
			} else {
				for _, id := range c.Discord.ShardIDs {
					if id < 0 || id >= n {
						bad("discord.shard_ids", "shard %d is not below discord.shards (%d)", id, n)
					}
				}
			}
		}
		if sh := c.Discord.Shards; sh == "" && len(c.Discord.ShardIDs) > 0 {
			bad("discord.shard_ids", "needs discord.shards (auto or a number)")
		}
		if c.Discord.APIURL != "" && !strings.HasPrefix(c.Discord.APIURL, "http://") && !strings.HasPrefix(c.Discord.APIURL, "https://") {
			bad("discord.api_url", "%q must be an http(s) URL", c.Discord.APIURL)
		}
	}
	if c.Web.Enabled {
		for _, o := range c.Web.AllowedOrigins {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
				bad("web.allowed_origins", "%q is not an origin such as https://www.example.com", o)
			}
		}
		if c.Web.ThemeColor != "" && !hexColorRE.MatchString(c.Web.ThemeColor) {
			bad("web.theme_color", "%q must be a colour such as #0b5cad", c.Web.ThemeColor)
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

var hexColorRE = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)
