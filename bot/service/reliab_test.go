//go:build unix

package service

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOpsFIFOAndGiantFile: a named pipe in the knowledge folder (which used
// to block the start forever) is skipped; a file over the size limit is
// refused at reload with its name and line, and the previous knowledge
// keeps answering.
func TestOpsFIFOAndGiantFile(t *testing.T) {
	t.Parallel()
	cfg := opsSmallConfig(t)
	en := filepath.Join(cfg.Knowledge.Dir, "en")
	if err := syscall.Mkfifo(filepath.Join(en, "pipe.md"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(cfg.Knowledge.Dir, "eligibility.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := opsStartServe(t, cfg) // fails the test if serve does not start
	if !strings.Contains(s.log.String(), "pipe.md") || !strings.Contains(s.log.String(), "named pipe") {
		t.Errorf("the skipped pipe is not logged:\n%s", s.log.String())
	}
	before := opsFirstReply(s.ad.send(t, "u1", opsPGWPQuestion, "")).Text
	if err := s.st.reload("with a pipe"); err != nil {
		t.Fatalf("reload with a pipe in the folder: %v", err)
	}

	big := "---\nid: giant\n---\n" + strings.Repeat("A line of a giant article.\n", 12000) // ~320 KB
	if err := os.WriteFile(filepath.Join(en, "giant.md"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	err := s.st.reload("giant file")
	if err == nil {
		t.Fatal("a 320 KB article was accepted (limit 256 KB)")
	}
	res := s.st.last.Load()
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "giant.md:") || !strings.Contains(res.Problems[0], "larger than 256 KB") {
		t.Fatalf("problems: %v", res.Problems)
	}
	if after := opsFirstReply(s.ad.send(t, "u2", opsPGWPQuestion, "")).Text; after != before {
		t.Errorf("the previous knowledge stopped answering:\n%s\nvs\n%s", after, before)
	}
}

// TestOpsReloadTimeLimit: a reload that does not finish within
// knowledge.reload_timeout is rejected, the previous knowledge keeps
// serving, reloads are refused while it still runs, and when it finally
// finishes it applies nothing.
func TestOpsReloadTimeLimit(t *testing.T) {
	t.Parallel()
	cfg := opsSmallConfig(t)
	cfg.Knowledge.ReloadTimeout = Duration(200 * time.Millisecond)
	s := opsStartServe(t, cfg)
	release := make(chan struct{})
	hang := func() { <-release }
	s.st.beforeLoad.Store(&hang)
	ix := s.app.Router.Index()
	if err := s.st.reload("hangs"); !errors.Is(err, errReloadTimeout) {
		t.Fatalf("reload past its limit: %v", err)
	}
	if err := s.st.reload("while stuck"); err == nil || !strings.Contains(err.Error(), "still running") {
		t.Fatalf("reload while one is stuck: %v", err)
	}
	s.st.beforeLoad.Store(nil)
	close(release)
	opsEventually(t, patience, "the abandoned reload ends", func() bool { return s.st.loading.Load() == 0 })
	if s.app.Router.Index() != ix {
		t.Fatal("a reload abandoned past its time limit swapped its index in")
	}
	s.st.reloadMu.Lock()
	s.app.Cfg.Knowledge.ReloadTimeout = Duration(5 * time.Minute) // a real build, under -race on a busy machine
	s.st.reloadMu.Unlock()
	if err := s.st.reload("after"); err != nil {
		t.Fatalf("reload after the stuck one ended: %v", err)
	}
	if s.app.Router.Index() == ix {
		t.Fatal("a good reload did not swap")
	}
}

// TestOpsShutdownDoesNotWaitForReload: a reload stuck reading (started by
// the watcher) neither blocks the watcher nor the shutdown.
func TestOpsShutdownDoesNotWaitForReload(t *testing.T) {
	t.Parallel()
	cfg := opsSmallConfig(t)
	cfg.Knowledge.ReloadTimeout = Duration(time.Hour)
	s := opsStartServe(t, cfg)
	<-s.st.watching
	entered := make(chan struct{}, 1)
	block := make(chan struct{})
	defer close(block)
	hang := func() {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-block
	}
	s.st.beforeLoad.Store(&hang)
	p := filepath.Join(cfg.Knowledge.Dir, "en", "pgwp.md")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	opsWriteAtomic(t, p, append(data, []byte("\nOne more line.\n")...))
	select {
	case <-entered:
	case <-time.After(patience):
		t.Fatal("the edit did not start a reload")
	}
	if err := s.stop(); err != nil { // serve's own ceiling is 30s; the reload would hang for an hour
		t.Fatalf("shutdown with a reload stuck: %v", err)
	}
}
