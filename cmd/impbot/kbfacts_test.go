package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/impbot/impbot/knowledge"
)

// shippedKnowledgeDir copies the embedded knowledge to a temporary folder.
func shippedKnowledgeDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(knowledge.Shipped, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(knowledge.Shipped, p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestAnswersLeadWithTheAskersCountry(t *testing.T) {
	cpuBound(t)
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"what is the IEC age limit if I'm Irish", []string{"Ireland: IEC ages 18–35"}},
		{"je suis française, 29 ans, PVT ?", []string{"France : EIC de 18 à 35 ans", "À 29 ans, vous êtes dans la limite"}},
		{"I'm Mexican, which trade agreements cover me?", []string{"Mexico: citizens are covered by CUSMA (Canada-United States-Mexico Agreement), CPTPP"}},
	} {
		out, _, err := runCmd(t, "", "ask", c.q)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(out, "\n", 3)
		if len(lines) < 2 {
			t.Fatalf("%q: short answer %q", c.q, out)
		}
		for _, w := range c.want {
			if !strings.Contains(lines[1], w) {
				t.Errorf("%q: the line after the title is %q, want it to contain %q", c.q, lines[1], w)
			}
		}
	}
	// Without a country the answer starts with the summary as before.
	out, _, _ := runCmd(t, "", "ask", "what is the IEC age limit")
	if strings.Contains(out, "IEC ages 18–") {
		t.Errorf("country line without a country:\n%s", out)
	}
}

func TestKBStaleAndCheckWarnings(t *testing.T) {
	cpuBound(t)
	dir := shippedKnowledgeDir(t)
	out, _, err := runCmd(t, "", "kb", "stale", "--at", "2027-09-01", dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 || !strings.Contains(lines[len(lines)-1], "overdue for review") {
		t.Fatalf("kb stale:\n%s", out)
	}
	// Oldest first: the facts reviewed in November come before those of December.
	if !strings.Contains(lines[0], "reviewed 2026-11-25") || !strings.Contains(lines[0], "https://") {
		t.Errorf("first stale item %q", lines[0])
	}
	out, _, err = runCmd(t, "", "kb", "stale", dir)
	if err != nil || !strings.HasSuffix(strings.TrimSpace(out), "oldest first") {
		t.Errorf("kb stale today: %v\n%s", err, out)
	}
	// A hand-written fee fails kb check with file:line.
	p := filepath.Join(dir, "en", "worker-fees.md")
	data, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(data), "{{fee.work_permit}}", "$155", 1)), 0o644)
	out, _, err = runCmd(t, "", "kb", "check", dir)
	if err == nil || !strings.Contains(out, filepath.Join(dir, "en", "worker-fees.md")+":") || !strings.Contains(out, `"$155" is written by hand`) {
		t.Errorf("kb check accepted a hand-written fee: %v\n%s", err, out)
	}
}

func TestKBLearn(t *testing.T) {
	cpuBound(t)
	dir := shippedKnowledgeDir(t)
	p := filepath.Join(dir, "en", "pgwp.md")
	before, _ := os.ReadFile(p)
	out, _, err := runCmd(t, "", "kb", "learn", "--knowledge", dir, "can I stay and work after my diploma", "pgwp")
	if err != nil || !strings.Contains(out, "kb check: OK") {
		t.Fatalf("kb learn: %v\n%s", err, out)
	}
	after, _ := os.ReadFile(p)
	added := strings.TrimPrefix(string(after), "")
	if len(after) <= len(before) || !strings.Contains(added, "  - can I stay and work after my diploma\n") {
		t.Fatalf("question not added:\n%s", after)
	}
	// Only one line was added.
	if strings.Count(string(after), "\n") != strings.Count(string(before), "\n")+1 {
		t.Error("kb learn changed more than one line")
	}
	// A French question goes to the French article.
	out, _, err = runCmd(t, "", "kb", "learn", "--knowledge", dir, "est-ce que je peux rester travailler après mon diplôme", "pgwp")
	if err != nil || !strings.Contains(out, filepath.Join(dir, "fr", "pgwp.md")) {
		t.Errorf("French kb learn: %v\n%s", err, out)
	}
	out, _, err = runCmd(t, "", "kb", "learn", "--knowledge", dir, "a question", "no-such-article")
	if err == nil {
		t.Errorf("kb learn accepted an unknown article:\n%s", out)
	}
}
