package session

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"go.etcd.io/bbolt"
)

// What to do with a store file that fails its check at start.
const (
	// OnCorruptMove moves the file aside (<path>.corrupt-<time>) and starts
	// with an empty store: conversations in progress start over, nothing
	// else stops the bot.
	OnCorruptMove = "move"
	// OnCorruptRefuse refuses to start, naming the file.
	OnCorruptRefuse = "refuse"
)

// ErrCorrupt means the store file failed its check.
var ErrCorrupt = errors.New("the store file is damaged")

// OpenOptions configures OpenFile.
type OpenOptions struct {
	// OnCorrupt is OnCorruptMove (the default when empty) or OnCorruptRefuse.
	OnCorrupt string
	// Log receives the notice when a damaged file is moved aside.
	Log *slog.Logger
	// Timeout bounds the wait for the file lock (another process holding
	// the file); default 2s.
	Timeout time.Duration
	// Now names the moved file (tests); default time.Now.
	Now func() time.Time
}

// OpenFile opens the bbolt file at path, creating it (and its folder) if
// needed, after checking it can be trusted: a file cut short, or with
// damaged pages, would otherwise crash the process when bbolt reads it
// (SIGBUS in the memory map, or a panic such as "invalid freelist page"),
// and a service manager would restart it into the same crash forever.
//
// A damaged file is moved aside and a fresh one created (OnCorruptMove), or
// the open fails with ErrCorrupt naming the file (OnCorruptRefuse).
func OpenFile(path string, o OpenOptions) (*bbolt.DB, error) {
	switch o.OnCorrupt {
	case "":
		o.OnCorrupt = OnCorruptMove
	case OnCorruptMove, OnCorruptRefuse:
	default:
		return nil, fmt.Errorf("sessions.on_corrupt: %q is neither %q nor %q", o.OnCorrupt, OnCorruptMove, OnCorruptRefuse)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create folder for %s: %w", path, err)
	}
	db, err := openChecked(path, o.Timeout)
	if err == nil {
		return db, nil
	}
	if !errors.Is(err, ErrCorrupt) {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if o.OnCorrupt == OnCorruptRefuse {
		return nil, fmt.Errorf("store %s: %w; move it away to start with an empty store, or set sessions.on_corrupt: move", path, err)
	}
	aside := path + ".corrupt-" + o.Now().UTC().Format("20060102T150405Z")
	if rerr := os.Rename(path, aside); rerr != nil {
		return nil, fmt.Errorf("store %s: %w, and it cannot be moved aside: %v", path, err, rerr)
	}
	o.Log.Error("the store file was damaged; it was moved aside and an empty store is used. "+
		"Conversations in progress start over; pending handoffs, queued replies and recorded unanswered questions in it are lost. "+
		"Keep the moved file for diagnosis (bbolt check), or delete it; check the disk (full, failing) and that only one impbot uses the file",
		"file", path, "moved_to", aside, "err", err)
	db, err = openChecked(path, o.Timeout)
	if err != nil {
		return nil, fmt.Errorf("open fresh store %s: %w", path, err)
	}
	return db, nil
}

// openChecked opens path and checks every page, turning the faults and
// panics a damaged file causes into ErrCorrupt. A file that is not damaged
// is returned open.
func openChecked(path string, timeout time.Duration) (db *bbolt.DB, err error) {
	var size int64
	if fi, serr := os.Stat(path); serr == nil {
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file", path)
		}
		size = fi.Size()
	}
	// A fault in the memory map (the file shorter than its pages say)
	// becomes a panic in this goroutine instead of killing the process.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				// Closing may touch the damaged map again; give up on it.
				func() {
					defer func() { _ = recover() }()
					_ = db.Close()
				}()
			}
			db, err = nil, fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) || errors.Is(err, os.ErrPermission) {
			return nil, err
		}
		if size > 0 {
			// bbolt refuses files with bad meta pages (invalid, checksum).
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		return nil, err
	}
	if cerr := check(db, size); cerr != nil {
		_ = db.Close()
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, cerr)
	}
	return db, nil
}

// check verifies the file holds every page its meta page counts (bbolt's
// own check would fault on a missing one in a goroutine of its own, which
// no recover can catch), then runs bbolt's consistency check.
func check(db *bbolt.DB, size int64) error {
	return db.View(func(tx *bbolt.Tx) error {
		if size > 0 && size < tx.Size() {
			return fmt.Errorf("the file is %d bytes but its pages need %d: it was cut short", size, tx.Size())
		}
		// Touch every key in this goroutine first (faults are caught here).
		err := tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			return walk(b, 0)
		})
		if err != nil {
			return err
		}
		var errs []error
		for e := range tx.Check() {
			if len(errs) < 5 {
				errs = append(errs, e)
			}
		}
		return errors.Join(errs...)
	})
}

func walk(b *bbolt.Bucket, depth int) error {
	if depth > 16 {
		return errors.New("buckets nested too deep")
	}
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			if c := b.Bucket(k); c != nil {
				return walk(c, depth+1)
			}
		}
		return nil
	})
}
