package service

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func TestParseConfigExpandsSecretsAndDefaults(t *testing.T) {
	t.Parallel()
	c, err := ParseConfig("c.yaml", []byte("telegram:\n  enabled: true\n  token: ${TG}\norganization: {name: Maple, contact: hi@example.com}\n"), env(map[string]string{"TG": "123:abc"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Telegram.Token != "123:abc" || c.Organization.Name != "Maple" {
		t.Fatalf("config: %+v", c)
	}
	if c.HTTP.Addr != "127.0.0.1:8080" || c.Sessions.Path != "data/sessions.db" || time.Duration(c.Sessions.IdleTimeout) != 30*time.Minute || c.Telegram.Mode != "polling" {
		t.Fatalf("defaults not applied: %+v", c)
	}
}

func TestParseConfigErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	cases := []struct{ yaml, want string }{
		{"telegram:\n  enabld: true\n", "enabld"},
		{"telegram:\n  enabled: true\n  token: ${TG}\ndiscord:\n  token: ${DC}\n", "telegram.token: is empty (unset in the environment: TG, DC): set the environment variable the config names (TELEGRAM_BOT_TOKEN in the example), or turn Telegram off with telegram.enabled: false"},
		{"telegram:\n  enabled: true\n  token: ${TELEGRAM_BOT_TOKEN}\ndiscord:\n  token: ${DISCORD_BOT_TOKEN}\n", "(unset in the environment: TELEGRAM_BOT_TOKEN)"},
		{"telegram:\n  enabled: true\n  token: x\n  mode: carrier-pigeon\n", "telegram.mode"},
		{"telegram:\n  enabled: true\n  token: x\n  mode: webhook\n", "telegram.webhook.url"},
		{"telegram:\n  enabled: true\n  token: x\n  mode: webhook\n  webhook:\n    url: https://x.org/h\n    secret_token: ${HOOK_SECRET}\n", "(unset in the environment: HOOK_SECRET)"},
		{"discord:\n  enabled: true\n  token: ${DISCORD_BOT_TOKEN}\n", "discord.enabled: false"},
		{"telegram:\n  enabled: true\n  token: ${TELEGRAM_BOT_TOKEN}\n  webhook:\n    secret_token: ${TELEGRAM_WEBHOOK_SECRET}\n", "(unset in the environment: TELEGRAM_BOT_TOKEN)"},
		{"telegram:\n  webhook:\n    urll: x\n", "line 3: field urll not found"},
		{"discord:\n  guild_ids: [{a: 1}]\n", "line 2"},
		{"sessions:\n  idle_timeout: soon\n", "not a duration"},
		{"log:\n  level: loud\n", "log.level"},
		{"sessions:\n  on_corrupt: shrug\n", "sessions.on_corrupt"},
		{"sessions:\n  backend: etcd\n", "sessions.backend"},
		{"sessions:\n  backend: redis\n", "sessions.redis.url: is required"},
		{"sessions:\n  backend: redis\n  redis:\n    url: http://x:6379\n", "sessions.redis.url: must start with redis:// or rediss://"},
		{"sessions:\n  backend: redis\n  redis:\n    url: redis://x:6379\n    prefix: 'a b'\n", "sessions.redis.prefix"},
		{"telegram:\n  enabled: true\n  token: x\n  send_rate: 0\n", "telegram.send_rate"},
		{"knowledge:\n  max_file_kb: 0\n", "knowledge.max_file_kb"},
		{"knowledge:\n  max_articles: -1\n", "knowledge.max_articles"},
		{"knowledge:\n  max_total_mb: 0\n", "knowledge.max_total_mb"},
		{"rate_limit:\n  per_second: -1\n", "rate_limit.per_second"},
		{"unanswered:\n  retention_days: -3\n", "unanswered.retention_days"},
		{"discord:\n  enabled: true\n  token: x\n  api_url: ftp://x\n", "discord.api_url"},
	}
	for _, c := range cases {
		_, err := ParseConfig("c.yaml", []byte(c.yaml), env(nil))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.yaml, err, c.want)
		}
	}
}

func TestParseConfigNeverEchoesTheToken(t *testing.T) {
	t.Parallel()
	_, err := ParseConfig("c.yaml", []byte("telegram:\n  enabled: true\n  token: ${TG}\n  mode: nope\n"), env(map[string]string{"TG": "123:SECRET"}))
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("error %v", err)
	}
}

func TestDamagedStoreRefusedNamesTheFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sessions.db")
	if err := os.WriteFile(path, bytes.Repeat([]byte{0xAB}, 16384), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Sessions.Path = path
	cfg.Sessions.OnCorrupt = "refuse"
	a := &App{Cfg: cfg, Log: slog.New(slog.DiscardHandler)}
	if _, err := a.DB(); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("refuse: want an error naming %s, got %v", path, err)
	}
	cfg.Sessions.OnCorrupt = "move"
	a = &App{Cfg: cfg, Log: slog.New(slog.DiscardHandler)}
	db, err := a.DB()
	if err != nil || db == nil {
		t.Fatalf("move: the bot must start on a fresh store: %v", err)
	}
	defer a.Close()
	if m, _ := filepath.Glob(path + ".corrupt-*"); len(m) != 1 {
		t.Fatalf("damaged file not moved aside: %v", m)
	}
}

func TestKBCheckAppliesTheConfigLimits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	kdir := filepath.Join(dir, "kb")
	opsSmallKnowledge(t, kdir, "pgwp")
	cfgPath := filepath.Join(dir, "c.yaml")
	// Tokens unset: kb check needs only the knowledge section.
	cfg := "knowledge:\n  dir: " + kdir + "\n  max_file_kb: 1\ntelegram:\n  enabled: true\n  token: ${UNSET_FOR_TEST}\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d, lim, err := KnowledgeSettings(cfgPath)
	if err != nil || d != kdir || lim.FileBytes != 1<<10 || lim.Articles != 2000 {
		t.Fatalf("settings: %q %+v %v", d, lim, err)
	}
	var out strings.Builder
	if n := KBCheckLimits(&out, d, lim); n == 0 || !strings.Contains(out.String(), "pgwp.md:") || !strings.Contains(out.String(), "larger than 1 KB") {
		t.Fatalf("kb check with a 1 KB limit: %d problem(s):\n%s", n, out.String())
	}
	out.Reset()
	if n := KBCheck(&out, d); n != 0 {
		t.Fatalf("kb check with the default limits: %d problem(s):\n%s", n, out.String())
	}
}

// TestParseConfigExpandsDecodedValues: ${VAR} is replaced in the values
// after parsing, so a value may hold ": ", " #" or quotes; keys and comments
// are left alone; a plain reference takes its value's type.
func TestParseConfigExpandsDecodedValues(t *testing.T) {
	t.Parallel()
	vars := env(map[string]string{
		"TG":    "123:abc #not-a-comment",
		"ORG":   `Maple: "Legal" Clinic # 2`,
		"STAFF": "-1001234567890",
		"ON":    "true",
		"SEC":   "s3cret_-x",
	})
	yml := "# ${NOT_READ} in a comment\n" +
		"telegram:\n  enabled: ${ON}\n  token: ${TG}\n  staff_chat_id: ${STAFF}\n" +
		"  mode: webhook\n  webhook:\n    url: https://bot.example.org/hook\n    secret_token: \"${SEC}\"\n" +
		"organization:\n  name: ${ORG}\n  contact: \"mail ${ORG}\"\n"
	c, err := ParseConfig("c.yaml", []byte(yml), vars)
	if err != nil {
		t.Fatal(err)
	}
	if c.Telegram.Token != "123:abc #not-a-comment" || c.Organization.Name != `Maple: "Legal" Clinic # 2` ||
		c.Organization.Contact != `mail Maple: "Legal" Clinic # 2` {
		t.Errorf("values not expanded verbatim: token %q, name %q, contact %q", c.Telegram.Token, c.Organization.Name, c.Organization.Contact)
	}
	if !c.Telegram.Enabled || c.Telegram.StaffChatID != -1001234567890 || c.Telegram.Webhook.SecretToken != "s3cret_-x" {
		t.Errorf("typed values: enabled %v, staff %d, secret %q", c.Telegram.Enabled, c.Telegram.StaffChatID, c.Telegram.Webhook.SecretToken)
	}
	// An unset variable in a value that is not needed is no error; keys are
	// never expanded.
	if _, err := ParseConfig("c.yaml", []byte("organization:\n  name: ${UNSET_NAME}\n"), env(nil)); err != nil {
		t.Errorf("unset optional variable: %v", err)
	}
	if _, err := ParseConfig("c.yaml", []byte("${ON}:\n  x: 1\n"), vars); err == nil || !strings.Contains(err.Error(), "${ON}") {
		t.Errorf("a key was expanded or accepted: %v", err)
	}
	// An empty file is the defaults.
	if c, err := ParseConfig("c.yaml", nil, env(nil)); err != nil || c.HTTP.Addr != DefaultConfig().HTTP.Addr {
		t.Errorf("empty file: %v %+v", err, c)
	}
}

// TestParseConfigAuto: `enabled: auto` turns a platform on exactly when its
// token is set.
func TestParseConfigAuto(t *testing.T) {
	t.Parallel()
	yml := []byte("telegram:\n  enabled: auto\n  token: ${TG}\ndiscord:\n  enabled: auto\n  token: ${DC}\n")
	c, err := ParseConfig("c.yaml", yml, env(map[string]string{"DC": "d"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Telegram.Enabled || !c.Discord.Enabled || len(c.autoOff) != 1 || c.autoOff[0] != "telegram" {
		t.Errorf("telegram %v, discord %v, off %v", c.Telegram.Enabled, c.Discord.Enabled, c.autoOff)
	}
	if _, err := ParseConfig("c.yaml", []byte("telegram:\n  enabled: maybe\n"), env(nil)); err == nil {
		t.Error("enabled: maybe accepted")
	}
}

func TestParseConfigRedisBackend(t *testing.T) {
	t.Parallel()
	c, err := ParseConfig("c.yaml", []byte("sessions:\n  backend: redis\n  redis:\n    url: rediss://r.example:6380/1\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Sessions.Backend != "redis" || c.Sessions.Redis.URL != "rediss://r.example:6380/1" ||
		c.Sessions.Redis.PasswordEnv != "REDIS_PASSWORD" || c.Sessions.Redis.Prefix != "impbot" {
		t.Fatalf("redis config: %+v", c.Sessions)
	}
	d, err := ParseConfig("c.yaml", nil, env(nil))
	if err != nil || d.Sessions.Backend != "bbolt" {
		t.Fatalf("default backend %q (%v), want bbolt", d.Sessions.Backend, err)
	}
}
