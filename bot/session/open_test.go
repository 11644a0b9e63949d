package session

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// makeStore writes a store with enough sessions to span many pages and
// returns its path and page size.
func makeStore(t *testing.T) (string, int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sessions.db")
	db, err := OpenFile(path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewBolt(db, time.Hour); err != nil {
		t.Fatal(err)
	}
	exp := make([]byte, 8)
	binary.BigEndian.PutUint64(exp, uint64(time.Now().Add(time.Hour).UnixNano()))
	err = db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(BoltBucket))
		for i := range 400 {
			if err := b.Put(hashKey(fmt.Sprint("k", i)), append(exp, bytes.Repeat([]byte{byte(i)}, 200)...)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ps := db.Info().PageSize
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path, ps
}

// damage applies one of the two damages seen in the field.
func damage(t *testing.T, path string, ps int, how string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 6*ps {
		t.Fatalf("store too small for the test: %d bytes", len(data))
	}
	switch how {
	case "cut after the meta pages": // was: fatal error: fault (SIGBUS)
		data = data[:2*ps]
	case "random after the meta pages": // was: panic: invalid freelist page
		r := rand.New(rand.NewPCG(1, 2))
		for i := 2 * ps; i < len(data); i++ {
			data[i] = byte(r.Uint32())
		}
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestOpenFileDamagedIsMovedAside(t *testing.T) {
	for _, how := range []string{"cut after the meta pages", "random after the meta pages"} {
		t.Run(how, func(t *testing.T) {
			path, ps := makeStore(t)
			damage(t, path, ps, how)
			var logs bytes.Buffer
			at := time.Date(2026, 12, 4, 17, 30, 0, 0, time.UTC)
			db, err := OpenFile(path, OpenOptions{Log: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return at }})
			if err != nil {
				t.Fatalf("damaged store (%s) stops the start: %v", how, err)
			}
			defer db.Close()
			aside := path + ".corrupt-20261204T173000Z"
			if _, err := os.Stat(aside); err != nil {
				t.Fatalf("damaged file not moved aside to %s: %v", aside, err)
			}
			if !strings.Contains(logs.String(), aside) || !strings.Contains(logs.String(), "level=ERROR") {
				t.Fatalf("log does not say where the file went: %s", logs.String())
			}
			// The fresh store works.
			s, err := NewBolt(db, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := s.Put(ctx, "k", []byte("v")); err != nil {
				t.Fatal(err)
			}
			if v, ok, err := s.Get(ctx, "k"); err != nil || !ok || string(v) != "v" {
				t.Fatalf("fresh store: got %q %v %v", v, ok, err)
			}
		})
	}
}

func TestOpenFileDamagedRefused(t *testing.T) {
	for _, how := range []string{"cut after the meta pages", "random after the meta pages"} {
		t.Run(how, func(t *testing.T) {
			path, ps := makeStore(t)
			damage(t, path, ps, how)
			_, err := OpenFile(path, OpenOptions{OnCorrupt: OnCorruptRefuse})
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Fatalf("want ErrCorrupt naming %s, got %v", path, err)
			}
			if _, serr := os.Stat(path); serr != nil {
				t.Fatalf("refused file was touched: %v", serr)
			}
		})
	}
}

func TestOpenFileHealthyKeepsData(t *testing.T) {
	path, _ := makeStore(t)
	db, err := OpenFile(path, OpenOptions{OnCorrupt: OnCorruptRefuse})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, _ := NewBolt(db, time.Hour)
	if _, ok, err := s.Get(context.Background(), "k7"); err != nil || !ok {
		t.Fatalf("healthy store lost its data: %v %v", ok, err)
	}
	if m, _ := filepath.Glob(path + ".corrupt-*"); len(m) != 0 {
		t.Fatalf("healthy file moved: %v", m)
	}
	if _, err := OpenFile(filepath.Join(t.TempDir(), "x.db"), OpenOptions{OnCorrupt: "ignore"}); err == nil {
		t.Fatal("unknown on_corrupt accepted")
	}
}
