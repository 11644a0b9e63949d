package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/cluster"
	"github.com/impbot/impbot/bot/redistest"
)

func openRedis(t *testing.T, srv *redistest.Server, prefix string) *cluster.Redis {
	t.Helper()
	r, err := cluster.Open(cluster.Options{URL: srv.URL(), Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRedisStoreSharedExpiringNamespaced(t *testing.T) {
	srv := redistest.Start(t)
	ctx := redistest.Context(t)
	a := NewRedis(openRedis(t, srv, "impbot"), "", time.Minute)
	b := NewRedis(openRedis(t, srv, "impbot"), "", time.Minute) // another replica
	other := NewRedis(openRedis(t, srv, "otherbot"), "", time.Minute)

	key := "telegram:4242:4242"
	if err := a.Put(ctx, key, []byte(`{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	v, ok, err := b.Get(ctx, key)
	if err != nil || !ok || string(v) != `{"v":1}` {
		t.Fatalf("other replica reads %q %v %v", v, ok, err)
	}
	if _, ok, _ := other.Get(ctx, key); ok {
		t.Fatal("another namespace sees the value")
	}
	// The key in Redis is namespaced, hashed (no user id) and expires with the idle timeout.
	rk := a.key(key)
	if !strings.HasPrefix(rk, "impbot:sess:") || strings.Contains(rk, "4242") {
		t.Fatalf("key %q is not namespaced and hashed", rk)
	}
	ttl, err := srv.Do("PTTL", rk)
	if err != nil {
		t.Fatal(err)
	}
	var ms int
	if _, err := fmt.Sscan(strings.TrimPrefix(ttl, ":"), &ms); err != nil || ms <= 0 || ms > 60000 {
		t.Fatalf("PTTL %q: want a TTL of at most the idle timeout", ttl)
	}
	if err := b.Forget(ctx, &bot.Request{Platform: "telegram", ChatID: "4242", UserID: "4242"}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := a.Get(ctx, key); ok {
		t.Fatal("forgotten on one replica, still there on the other")
	}

	// Expiry: a short idle timeout really expires in Redis.
	short := NewRedis(openRedis(t, srv, "impbot"), "", 50*time.Millisecond)
	if err := short.Put(ctx, "x", []byte("y")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok, _ := short.Get(ctx, "x"); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("value never expired")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRedisStoreVersions(t *testing.T) {
	srv := redistest.Start(t)
	ctx := redistest.Context(t)
	s := NewRedis(openRedis(t, srv, "impbot"), "", time.Minute)
	// A record of the current version written by another replica's raw SET.
	rk := s.key("k")
	if _, err := srv.Do("SET", rk, string([]byte{redisMagic, 1})+"old"); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Get(ctx, "k"); err != nil || !ok || string(v) != "old" {
		t.Fatalf("version 1 record: %q %v %v", v, ok, err)
	}
	// A record from a newer format is not misread.
	if _, err := srv.Do("SET", rk, string([]byte{redisMagic, redisVersion + 1})+"new"); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Get(ctx, "k"); err != nil || ok {
		t.Fatalf("newer record read as %q %v %v", v, ok, err)
	}
	// Garbage is not misread either.
	if _, err := srv.Do("SET", rk, "garbage"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Get(ctx, "k"); err != nil || ok {
		t.Fatalf("garbage read: %v %v", ok, err)
	}
}

func TestRedisStoreUnavailableThenBack(t *testing.T) {
	srv := redistest.Start(t)
	ctx := redistest.Context(t)
	r := openRedis(t, srv, "impbot")
	s := NewRedis(r, "", time.Minute)
	if err := s.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	_, _, err := s.Get(ctx, "k")
	if !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("Get with Redis down: %v, want ErrUnavailable", err)
	}
	if err := s.Put(ctx, "k", []byte("v")); !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("Put with Redis down: %v", err)
	}
	if r.Up() || r.Ready() == nil || r.Outages() != 1 {
		t.Fatalf("health: up=%v ready=%v outages=%d", r.Up(), r.Ready(), r.Outages())
	}
	srv.Restart()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := s.Put(ctx, "k", []byte("v2"))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never recovered: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v, ok, err := s.Get(ctx, "k"); err != nil || !ok || string(v) != "v2" {
		t.Fatalf("after recovery: %q %v %v", v, ok, err)
	}
	if !r.Up() || r.Ready() != nil {
		t.Fatalf("health after recovery: up=%v ready=%v", r.Up(), r.Ready())
	}
}

func TestRedisStoreConcurrentReplicas(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	a := NewRedis(openRedis(t, srv, "impbot"), "", time.Minute)
	b := NewRedis(openRedis(t, srv, "impbot"), "", time.Minute)
	done := make(chan error, 2)
	for i, s := range []*Redis{a, b} {
		go func() {
			for j := range 200 {
				if err := s.Put(ctx, "shared", []byte{byte(i), byte(j)}); err != nil {
					done <- err
					return
				}
				if _, ok, err := s.Get(ctx, "shared"); err != nil || !ok {
					done <- errors.Join(err, errors.New("value vanished"))
					return
				}
			}
			done <- nil
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
