package knowledge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Limits bound what a knowledge folder may hold, so that one giant or
// runaway file cannot take the bot's memory (a 50 MB article once took it
// from 60 MB to 3.9 GB). A folder over a limit is refused like any other
// problem: the knowledge already served stays.
type Limits struct {
	FileBytes  int64 // one file (article or YAML); default 256 KiB
	Articles   int   // articles in all languages; default 2,000
	TotalBytes int64 // all files read; default 20 MiB
}

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{FileBytes: 256 << 10, Articles: 2000, TotalBytes: 20 << 20}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.FileBytes <= 0 {
		l.FileBytes = d.FileBytes
	}
	if l.Articles <= 0 {
		l.Articles = d.Articles
	}
	if l.TotalBytes <= 0 {
		l.TotalBytes = d.TotalBytes
	}
	return l
}

// errNotRegular marks an entry that is not a regular file (a named pipe, a
// device, a socket, a symbolic link loop): it is skipped with a warning.
var errNotRegular = errors.New("not a regular file")

// regularFS is a folder on disk that opens only regular files and folders.
// It opens without blocking (a named pipe with no writer would block an
// ordinary open forever) and checks what it opened, so a file swapped
// between a check and the open cannot get through. A symbolic link is
// followed once by the system; a loop fails to open and is refused.
type regularFS string

func (d regularFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	full := filepath.Join(string(d), filepath.FromSlash(name))
	f, err := os.OpenFile(full, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) && (errno == syscall.ELOOP || errno == syscall.ENXIO || errno == syscall.ENODEV) {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w (%v)", errNotRegular, errno)}
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() && !st.IsDir() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w (%s)", errNotRegular, kind(st.Mode()))}
	}
	return f, nil
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

// reader reads the files of one load within the limits.
type reader struct {
	fsys     fs.FS
	lim      Limits
	total    int64
	articles int
}

// read returns a file's content, or a problem: over a limit (with the line
// where the limit is crossed), not a regular file (skip is set: a warning,
// the load goes on), or unreadable.
func (r *reader) read(p, display string, article bool) (data []byte, prob *Problem, skip bool) {
	if article {
		r.articles++
		if r.articles > r.lim.Articles {
			return nil, &Problem{File: display, Line: 1, Message: fmt.Sprintf("more than %d articles in the folder (knowledge.max_articles)", r.lim.Articles)}, false
		}
	}
	f, err := r.fsys.Open(p)
	if err != nil {
		if errors.Is(err, errNotRegular) {
			return nil, &Problem{File: display, Message: "skipped: " + errors.Unwrap(err).Error()}, true
		}
		return nil, &Problem{File: display, Message: err.Error()}, false
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && !st.Mode().IsRegular() {
		return nil, &Problem{File: display, Message: "skipped: " + errNotRegular.Error() + " (" + kind(st.Mode()) + ")"}, true
	}
	// Read one byte past the smaller limit to know whether it is crossed.
	max := min(r.lim.FileBytes, r.lim.TotalBytes-r.total)
	data, err = io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, &Problem{File: display, Message: err.Error()}, false
	}
	if int64(len(data)) > max {
		line := bytes.Count(data[:max], []byte("\n")) + 1
		if max == r.lim.FileBytes {
			return nil, &Problem{File: display, Line: line, Message: fmt.Sprintf("file larger than %s (knowledge.max_file_kb); split it", size(r.lim.FileBytes))}, false
		}
		return nil, &Problem{File: display, Line: line, Message: fmt.Sprintf("the folder passes %s here (knowledge.max_total_mb)", size(r.lim.TotalBytes))}, false
	}
	r.total += int64(len(data))
	return data, nil, false
}

func size(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	if n >= 1<<10 {
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
