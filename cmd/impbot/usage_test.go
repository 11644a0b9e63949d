package main

import (
	"strings"
	"testing"

	"github.com/impbot/impbot/bot/service"
)

// TestUsageListsEveryCommand: the usage names every command; impbot alone
// prints it and exits 2; every command answers -h with its synopsis and
// exits 0.
func TestUsageListsEveryCommand(t *testing.T) {
	cpuBound(t)
	out, stderr, err := runCmd(t, "")
	var ee exitError
	if err == nil || !asExit(err, &ee) || ee.code != 2 || out != "" || !strings.Contains(stderr, "Usage:") {
		t.Fatalf("impbot with no arguments: err %v, stdout %q, stderr %q", err, out, stderr)
	}
	usage := usageText()
	if len(commands) != len(usageLines) {
		t.Errorf("%d commands but %d usage lines", len(commands), len(usageLines))
	}
	for name := range commands {
		if !strings.Contains(usage, "impbot "+name) {
			t.Errorf("usage does not list %q:\n%s", name, usage)
		}
		_, stderr, err := runCmd(t, "", append(strings.Fields(name), "-h")...)
		if err == nil || !asExit(err, &ee) || ee.code != 0 {
			t.Errorf("%s -h: %v", name, err)
		}
		if !strings.HasPrefix(stderr, "usage: impbot "+name) {
			t.Errorf("%s -h printed %q", name, stderr)
		}
	}
	for _, args := range [][]string{{"-h"}, {"help"}, {"kb", "-h"}} {
		if out, _, err := runCmd(t, "", args...); err != nil || !strings.Contains(out, "impbot kb why") {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
	if _, _, err := runCmd(t, "", "kb", "why"); err == nil || !asExit(err, &ee) || ee.code != 2 {
		t.Errorf("kb why without text: %v", err)
	}
}

func TestVersion(t *testing.T) {
	cpuBound(t)
	out, _, err := runCmd(t, "", "version")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := service.KnowledgeHash("")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "impbot ") || !strings.Contains(out, "knowledge "+hash+" (embedded)") || !strings.Contains(out, " articles in 2 language(s)") {
		t.Errorf("version:\n%s", out)
	}
}
