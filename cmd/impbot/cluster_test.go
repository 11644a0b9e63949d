package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/impbot/impbot/bot/redistest"
)

// TestChatHelperProcess is `impbot chat --jsonl --config FILE` when run as a
// child of TestTwoChatProcessesShareRedis.
func TestChatHelperProcess(t *testing.T) {
	if os.Getenv("IMPBOT_CHAT_HELPER") != "1" {
		t.Skip("helper process")
	}
	os.Args = []string{"impbot", "chat", "--jsonl", "--config", os.Getenv("IMPBOT_CHAT_CONFIG")}
	main()
	os.Exit(0)
}

type chatProc struct {
	t   *testing.T
	in  io.WriteCloser
	out *bufio.Scanner
}

type chatLine struct {
	User    string `json:"user"`
	Error   string `json:"error"`
	Replies []struct {
		Text    string `json:"text"`
		Topic   string `json:"topic"`
		Buttons []struct {
			Label  string `json:"label"`
			Action string `json:"action"`
		} `json:"buttons"`
	} `json:"replies"`
	Dialogue *struct {
		Ask     string   `json:"ask"`
		Options []string `json:"options"`
		Done    bool     `json:"done"`
	} `json:"dialogue"`
}

func startChat(t *testing.T, cfg string) *chatProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChatHelperProcess$")
	cmd.Env = childEnv("IMPBOT_CHAT_HELPER=1", "IMPBOT_CHAT_CONFIG="+cfg)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// Its log is kept (and shown when the test fails): the race detector
	// writes there.
	logs := &tgBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &chatProc{t: t, in: in, out: bufio.NewScanner(out)}
	p.out.Buffer(make([]byte, 1<<20), 1<<20)
	t.Cleanup(func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("impbot chat --jsonl exited with %v", err)
		}
		checkNoRace(t, "impbot chat --jsonl", logs.String())
		if t.Failed() {
			t.Logf("impbot chat --jsonl logs:\n%s", logs)
		}
	})
	return p
}

// startChatInProcess is `impbot chat --jsonl --config FILE` run inside the
// test process, as main runs it, on pipes: no process start (about 3.5 CPU-s
// under -race), the process's embedded knowledge loaded once.
func startChatInProcess(t *testing.T, cfg string) *chatProc {
	t.Helper()
	inR, in := io.Pipe()
	out, outW := io.Pipe()
	logs := &tgBuffer{}
	done := make(chan error, 1)
	go func() {
		err := run(context.Background(), []string{"chat", "--jsonl", "--config", cfg}, inR, outW, logs)
		outW.Close()
		done <- err
	}()
	p := &chatProc{t: t, in: in, out: bufio.NewScanner(out)}
	p.out.Buffer(make([]byte, 1<<20), 1<<20)
	t.Cleanup(func() {
		in.Close()
		go io.Copy(io.Discard, out) // whatever it still writes
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("impbot chat --jsonl (in process) ended with %v", err)
			}
		case <-time.After(2 * time.Minute):
			t.Errorf("impbot chat --jsonl (in process) did not end at the end of its input")
		}
		if t.Failed() {
			t.Logf("impbot chat --jsonl (in process) logs:\n%s", logs)
		}
	})
	return p
}

func (p *chatProc) send(v map[string]string) chatLine {
	p.t.Helper()
	data, _ := json.Marshal(v)
	if _, err := p.in.Write(append(data, '\n')); err != nil {
		p.t.Fatal(err)
	}
	if !p.out.Scan() {
		p.t.Fatalf("no answer to %s: %v", data, p.out.Err())
	}
	var l chatLine
	if err := json.Unmarshal(p.out.Bytes(), &l); err != nil || l.Error != "" {
		p.t.Fatalf("answer to %s: %s (%v)", data, p.out.Bytes(), err)
	}
	return l
}

// Two `impbot chat --jsonl --config FILE` processes on one Redis continue
// each other's dialogues: A runs in the test process, B is a process of its
// own, so they share nothing but Redis.
func TestTwoChatProcessesShareRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	// Child processes, mostly waiting on leases, limits and
	// each other: they overlap with the other child-process tests.
	t.Parallel()
	afterE2EStart(t)
	srv := redistest.Start(t)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("sessions:\n  backend: redis\n  redis:\n    url: "+srv.URL()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, b := startChatInProcess(t, cfg), startChat(t, cfg)

	first := a.send(map[string]string{"user": "u1", "text": "/eligibility"})
	if first.Dialogue == nil || first.Dialogue.Ask == "" || len(first.Replies) == 0 || len(first.Replies[0].Buttons) == 0 {
		t.Fatalf("process A did not start the dialogue: %+v", first)
	}
	// Process B never saw u1, yet takes the answer to A's question.
	btn := first.Replies[0].Buttons[0]
	second := b.send(map[string]string{"user": "u1", "action": btn.Action})
	if second.Dialogue == nil || second.Dialogue.Ask == first.Dialogue.Ask {
		t.Fatalf("process B did not continue the dialogue after %q: %+v", btn.Action, second.Dialogue)
	}
	// And back on A: it answers B's question and moves on.
	if len(second.Replies) == 0 || len(second.Replies[len(second.Replies)-1].Buttons) == 0 {
		t.Fatalf("no buttons to answer B's question: %+v", second)
	}
	btn2 := second.Replies[len(second.Replies)-1].Buttons[0]
	third := a.send(map[string]string{"user": "u1", "action": btn2.Action})
	if third.Dialogue == nil || (!third.Dialogue.Done && third.Dialogue.Ask == second.Dialogue.Ask) {
		t.Fatalf("process A did not continue after B: %+v", third.Dialogue)
	}
	// Another user has no dialogue on either process.
	if other := b.send(map[string]string{"user": "u2", "text": "how much is the compliance fee"}); other.Dialogue != nil {
		t.Fatalf("u2 has a dialogue: %+v", other.Dialogue)
	}
}
