package service

// `impbot kb gaps`: the report for staff of the most frequent unanswered
// questions and the feedback per article. It reads the store file; while
// `impbot serve` holds the file's lock it asks the running server instead
// (GET /admin/gaps on loopback, with the admin token serve writes next to
// the store).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
	"unicode"

	"go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/impbot/impbot/bot/cluster"
	"github.com/impbot/impbot/bot/insights"
)

// gapsLockWait is how long `kb gaps` waits for the store's lock before
// asking the running server.
var gapsLockWait = 500 * time.Millisecond

// GapsOptions are the settings of `impbot kb gaps`.
type GapsOptions struct {
	ConfigPath string // config file of the bot ("" = the default settings)
	Days       int    // period in days (0 = unanswered.retention_days)
	Top        int    // number of question groups to list
	JSON       bool   // print the report as JSON
	Addr       string // HTTP address of the running serve ("" = http.addr)
}

// KBGaps prints the report of unanswered questions and feedback.
func KBGaps(ctx context.Context, stdout io.Writer, o GapsOptions) error {
	if o.Days < 0 || o.Days > 3650 || o.Top < 1 || o.Top > 1000 {
		return errors.New("kb gaps: --days must be 1..3650 and --top 1..1000")
	}
	cfg := DefaultConfig()
	if o.ConfigPath != "" {
		var err error
		if cfg, err = LoadConfig(o.ConfigPath, lookupNoAdapters); err != nil {
			return err
		}
	}
	if o.Days == 0 {
		o.Days = defaultGapDays(cfg)
	}
	rep, err := loadGaps(ctx, cfg, o.Days, o.Top, o.Addr)
	if err != nil {
		return err
	}
	if o.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printGaps(stdout, rep, o.Days, retentionDays(cfg))
	return nil
}

// loadGaps reads the report from the store file, or from the running server
// when it holds the file.
func loadGaps(ctx context.Context, cfg Config, days, top int, addr string) (*insights.Report, error) {
	if cfg.Sessions.Backend == "redis" {
		return redisGaps(ctx, cfg, days, top)
	}
	path := cfg.Sessions.Path
	if path == "" {
		return nil, errors.New("sessions.path is empty in this config: unanswered questions are kept in memory only " +
			"and cannot be reported; set sessions.path (e.g. data/sessions.db) and restart the bot")
	}
	now := time.Now()
	ro := insights.ReportOptions{Since: now.Add(-time.Duration(days) * 24 * time.Hour), Top: top}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		rep := &insights.Report{Since: ro.Since.UTC(), Until: now.UTC(), Recording: retentionDays(cfg) > 0,
			Questions: []insights.Gap{}, Feedback: []insights.ArticleFeedback{}}
		return rep, nil
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: gapsLockWait})
	if errors.Is(err, bberrors.ErrTimeout) {
		rep, herr := fetchGaps(ctx, cfg, addr, days, top)
		if herr != nil {
			return nil, fmt.Errorf("the store %s is in use by another process (is `impbot serve` running?), "+
				"and asking that server failed: %w", path, herr)
		}
		return rep, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	defer db.Close()
	rep, err := insights.ReadReport(db, ro, now)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	rep.Recording = retentionDays(cfg) > 0
	return rep, nil
}

// redisGaps reads the report of every replica from the shared Redis.
func redisGaps(ctx context.Context, cfg Config, days, top int) (*insights.Report, error) {
	c := cfg.Sessions.Redis
	pw := ""
	if c.PasswordEnv != "" {
		pw = os.Getenv(c.PasswordEnv)
	}
	r, err := cluster.Open(cluster.Options{URL: c.URL, Password: pw, Prefix: c.Prefix, Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("sessions.redis: %w", err)
	}
	defer r.Close()
	now := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rep, err := insights.ReadRedisReport(ctx, r, insights.ReportOptions{
		Since: now.Add(-time.Duration(days) * 24 * time.Hour), Top: top}, now)
	if err != nil {
		return nil, fmt.Errorf("redis %s: %w", r, err)
	}
	rep.Recording = retentionDays(cfg) > 0
	return rep, nil
}

// fetchGaps asks the running server for the report.
func fetchGaps(ctx context.Context, cfg Config, addr string, days, top int) (*insights.Report, error) {
	tokPath := adminTokenPath(cfg.Sessions.Path)
	tok, err := os.ReadFile(tokPath)
	if err != nil {
		return nil, fmt.Errorf("read the admin token %s: %w", tokPath, err)
	}
	base, err := adminBaseURL(addr, cfg.HTTP.Addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u := fmt.Sprintf("%s/admin/gaps?days=%d&top=%d", base, days, top)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s/admin/gaps (set the server's address with --addr): %w", base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s/admin/gaps: %w", base, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		_ = json.Unmarshal(body, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(body))
		}
		return nil, fmt.Errorf("GET %s/admin/gaps: %s: %s", base, resp.Status, e.Error)
	}
	var rep insights.Report
	if err := json.Unmarshal(body, &rep); err != nil {
		return nil, fmt.Errorf("GET %s/admin/gaps: bad report: %w", base, err)
	}
	return &rep, nil
}

// adminBaseURL turns --addr or http.addr into a loopback URL: a wildcard or
// empty host becomes 127.0.0.1.
func adminBaseURL(flagAddr, cfgAddr string) (string, error) {
	a := flagAddr
	if a == "" {
		a = cfgAddr
	}
	if strings.Contains(a, "://") {
		u, err := url.Parse(a)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("bad server address %q", a)
		}
		return strings.TrimRight(u.Scheme+"://"+u.Host, "/"), nil
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return "", fmt.Errorf("bad server address %q (want host:port): %w", a, err)
	}
	if port == "0" {
		return "", fmt.Errorf("the server address %q has no fixed port: pass it with --addr", a)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// printGaps writes the report for people.
func printGaps(w io.Writer, rep *insights.Report, days, retention int) {
	fmt.Fprintf(w, "Unanswered and low-confidence questions, last %d day(s) (%s to %s UTC)\n", days,
		rep.Since.UTC().Format("2006-01-02 15:04"), rep.Until.UTC().Format("2006-01-02 15:04"))
	if !rep.Recording || retention == 0 {
		fmt.Fprintln(w, "Recording is off (unanswered.retention_days: 0).")
	}
	switch {
	case rep.Total == 0:
		fmt.Fprintln(w, "None recorded in this period.")
	default:
		fmt.Fprintf(w, "%d recorded, %d distinct; the most frequent:\n", rep.Total, rep.Distinct)
		for _, g := range rep.Questions {
			fmt.Fprintf(w, "\n%5d×  %s\n", g.Count, safeText(g.Text))
			fmt.Fprintf(w, "        last seen %s UTC · %s · %s · %s\n", g.LastSeen.UTC().Format("2006-01-02 15:04"),
				countList(g.Outcomes), countList(g.Platforms), countList(g.Langs))
			if len(g.Nearest) == 0 {
				fmt.Fprintln(w, "        nearest: no article")
				continue
			}
			var near []string
			for _, c := range g.Nearest {
				near = append(near, fmt.Sprintf("%s (%.2f)", c.ID, c.Confidence))
			}
			fmt.Fprintf(w, "        nearest: %s\n", strings.Join(near, ", "))
			// The likely article: teaching it this phrasing is one command.
			fmt.Fprintf(w, "        teach:   impbot kb learn %q %s\n", safeText(g.Text), g.Nearest[0].ID)
		}
	}
	fmt.Fprintln(w)
	if len(rep.Feedback) == 0 {
		fmt.Fprintln(w, "No feedback in this period.")
		return
	}
	fmt.Fprintln(w, "Feedback per article (most unhelpful first):")
	fmt.Fprintf(w, "  %-40s %8s %10s\n", "article", "helpful", "unhelpful")
	for _, f := range rep.Feedback {
		fmt.Fprintf(w, "  %-40s %8d %10d\n", safeText(f.ID), f.Helpful, f.Unhelpful)
	}
}

// countList prints {"unsure":2,"unrelated":1} as "unsure 2, unrelated 1".
func countList(m map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var kvs []kv
	for k, v := range m {
		kvs = append(kvs, kv{k, v})
	}
	sort.Slice(kvs, func(i, j int) bool {
		if kvs[i].v != kvs[j].v {
			return kvs[i].v > kvs[j].v
		}
		return kvs[i].k < kvs[j].k
	})
	var parts []string
	for _, e := range kvs {
		parts = append(parts, fmt.Sprintf("%s %d", safeText(e.k), e.v))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// safeText keeps user text from driving the staff's terminal: control
// characters (escape sequences, newlines) become spaces.
func safeText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
			return ' '
		}
		return r
	}, s)
}
