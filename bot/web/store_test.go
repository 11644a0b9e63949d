package web

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestConversationsSurviveRestart: with a bbolt file, a conversation, its
// de-duplication and a pending handoff outlive the server; the widget's
// session id itself is never stored.
func TestConversationsSurviveRestart(t *testing.T) {
	t.Parallel()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "s.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run := func(s *Server) (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
	ch := &countingHandler{next: echoHandler}
	staff := &fakeStaff{}
	s1, ts1 := newTestServer(t, Config{Handler: ch, DB: db, Staff: staff})
	stop1 := run(s1)
	c, _, _ := dial(t, ts1, "")
	sid := c.hello("").SID
	c.send(In{Type: "msg", ID: "a1", Text: "before the restart"})
	c.recvFor("a1")
	c.send(In{Type: "handoff", ID: "a2", Name: "Ana", Email: "ana@example.org", Question: "staff please"})
	c.recvFor("a2")
	c.c.Close()
	stop1()
	ts1.Close()

	err = db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			if strings.Contains(string(k), sid) || strings.Contains(string(v), sid) {
				t.Error("the widget's session id is stored")
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}

	s2, ts2 := newTestServer(t, Config{Handler: ch, DB: db, Staff: staff})
	stop2 := run(s2)
	defer stop2()
	c2, _, _ := dial(t, ts2, "")
	h := c2.hello(sid)
	if h.SID != sid || len(h.Entries) != 4 || h.Entries[0].Text != "before the restart" {
		t.Fatalf("after the restart: sid kept %v, entries %+v", h.SID == sid, h.Entries)
	}
	c2.send(In{Type: "msg", ID: "a1", Text: "before the restart"})
	if o := c2.recvFor("a1"); len(o.Entries) != 2 || ch.calls[keyOf(sid)+"|before the restart"] != 1 {
		t.Errorf("a resend after the restart was answered again: %+v", o)
	}
	// The staff answer to the question asked before the restart arrives.
	if !s2.StaffReply(staff.tickets[0].Session, "en", "Here is our answer.") {
		t.Fatal("staff reply: session lost in the restart")
	}
	if o := c2.recv(); o.Entries[0].From != "staff" {
		t.Fatalf("pushed %+v", o)
	}
	// /forget is saved too.
	c2.send(In{Type: "msg", ID: "a3", Text: "/forget"})
	c2.recvFor("a3")
	waitFlush := time.Now().Add(patience)
	for {
		var v []byte
		_ = db.View(func(tx *bbolt.Tx) error {
			v = append([]byte(nil), tx.Bucket(bucket).Get([]byte(keyOf(sid)))...)
			return nil
		})
		if !strings.Contains(string(v), "before the restart") {
			break
		}
		if time.Now().After(waitFlush) {
			t.Fatal("the deleted conversation is still in the file")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestExpiredConversationsAreDropped(t *testing.T) {
	t.Parallel()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "s.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, _ := newTestServer(t, Config{Handler: echoHandler, DB: db, SessionTTL: time.Hour})
	sess, sid := s.sessions.get("", time.Now().Add(-2*time.Hour))
	sess.mu.Lock()
	sess.append(Entry{From: "user", ID: "x", Text: "old"})
	sess.mu.Unlock()
	s.sessions.touch(sess.id)
	if err := s.sessions.flush(); err != nil {
		t.Fatal(err)
	}
	s2, err := New(Config{Handler: echoHandler, DB: db, SessionTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if s2.sessions.lookup(sid) != nil {
		t.Error("an expired conversation was loaded")
	}
	_ = db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucket).Get([]byte(keyOf(sid))) != nil {
			t.Error("an expired conversation stays in the file")
		}
		return nil
	})
}
