package console

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/impbot/impbot/bot"
)

// parseLine reads one JSON input line; bad is the output line of a
// malformed one.
func parseLine(line []byte) (in In, bad *Out) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, &Out{Replies: []bot.Reply{}, Error: "malformed input line: " + err.Error()}
	}
	if dec.More() {
		return in, &Out{User: in.User, Replies: []bot.Reply{}, Error: "malformed input line: more than one JSON value"}
	}
	if isBlank(in.User) {
		return in, &Out{Replies: []bot.Reply{}, Error: `malformed input line: "user" is required`}
	}
	if in.Text != "" && in.Action != "" {
		return in, &Out{User: in.User, Replies: []bot.Reply{}, Error: `malformed input line: give "text" or "action", not both`}
	}
	return in, nil
}

// answer runs a well-formed input through h.
func answer(ctx context.Context, h bot.Handler, in In) Out {
	req := &bot.Request{Platform: Platform, ChatID: in.User, UserID: in.User, Text: in.Text, Action: in.Action, Lang: in.Lang}
	resp, err := h.Handle(ctx, req)
	if err != nil {
		return Out{User: in.User, Replies: []bot.Reply{}, Error: err.Error()}
	}
	if resp == nil {
		resp = &bot.Response{}
	}
	return Out{User: in.User, Replies: NormalizeReplies(resp.Replies), Dialogue: resp.Dialogue}
}

// Handle runs one JSON input through h and returns the output line.
func Handle(ctx context.Context, h bot.Handler, line []byte) Out {
	in, bad := parseLine(line)
	if bad != nil {
		return *bad
	}
	return answer(ctx, h, in)
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// lineOut is the output of an input line that is not handed to h (too
// long, not UTF-8, malformed), or nil for a line to hand over; skip is set
// for a blank line.
func lineOut(line []byte, tooLong bool) (out *Out, in In, skip bool) {
	switch {
	case tooLong:
		return &Out{Replies: []bot.Reply{}, Error: fmt.Sprintf("malformed input line: longer than %d bytes", MaxLine)}, in, false
	case len(bytes.TrimSpace(line)) == 0:
		return nil, in, true
	case !utf8.Valid(line):
		return &Out{Replies: []bot.Reply{}, Error: "malformed input line: not valid UTF-8"}, in, false
	}
	in, bad := parseLine(line)
	return bad, in, false
}

// JSONLOptions configure RunJSONLWith.
type JSONLOptions struct {
	// Workers is how many lines are answered at once: 0 means
	// DefaultWorkers, 1 one at a time (each answer flushed at once).
	Workers int
}

// DefaultWorkers is the number of lines answered at once by RunJSONL:
// twice the usable cores (an answer may wait on a shared session store),
// at least 4.
func DefaultWorkers() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// RunJSONL reads one JSON object per line from in and writes exactly one JSON
// line per input line to out, in input order. Blank lines are skipped. Lines
// are answered in parallel (DefaultWorkers), but the lines of one user one
// after the other, in order; out is flushed whenever no complete input line
// is left in the input buffer, so a tool that waits for an answer before
// sending the next line gets it at once. It returns at the end of input (all
// answers written) or when ctx is cancelled.
func RunJSONL(ctx context.Context, h bot.Handler, in io.Reader, out io.Writer) error {
	return RunJSONLWith(ctx, h, in, out, JSONLOptions{})
}

// RunJSONLWith is RunJSONL with options.
func RunJSONLWith(ctx context.Context, h bot.Handler, in io.Reader, out io.Writer, o JSONLOptions) error {
	if o.Workers == 0 {
		o.Workers = DefaultWorkers()
	}
	if o.Workers <= 1 {
		return runJSONLSequential(ctx, h, in, out)
	}
	return runJSONLParallel(ctx, h, in, out, o.Workers)
}

// newEncoder is the JSON-lines encoder (no HTML escaping: the output is
// read by programs).
func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// runJSONLSequential answers one line at a time, flushing after each.
func runJSONLSequential(ctx context.Context, h bot.Handler, in io.Reader, out io.Writer) error {
	r := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriter(out)
	enc := newEncoder(w)
	for ctx.Err() == nil {
		line, tooLong, err := readLine(r, MaxLine)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read input: %w", err)
		}
		bad, in, skip := lineOut(line, tooLong)
		if skip {
			continue
		}
		o := bad
		if o == nil {
			a := answer(ctx, h, in)
			o = &a
		}
		if err := enc.Encode(o); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	return ctx.Err()
}

// job is one input line on its way to the output, or (flush) the point
// where the input had no complete line left.
type job struct {
	flush bool
	in    In
	out   []byte        // the encoded output line, set before done closes
	done  chan struct{} // closed when out is set
	next  *job          // the same user's next line, queued behind this one (guarded by userQueues.mu)
}

// userQueues keeps each user's lines in order: a line whose user has one
// being answered waits behind it, and the worker that finishes a line takes
// the user's next one.
type userQueues struct {
	mu   sync.Mutex
	tail map[string]*job // the last queued line of each user with one in progress
}

// enqueue reports whether j can start now (its user has nothing in
// progress); otherwise it is queued behind the user's last line.
func (q *userQueues) enqueue(j *job) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if t, ok := q.tail[j.in.User]; ok {
		t.next = j
		q.tail[j.in.User] = j
		return false
	}
	q.tail[j.in.User] = j
	return true
}

// finished returns the user's next line after j, or nil when j was the last.
func (q *userQueues) finished(j *job) *job {
	q.mu.Lock()
	defer q.mu.Unlock()
	if j.next == nil {
		delete(q.tail, j.in.User)
	}
	return j.next
}

// window bounds the lines read ahead of the output, per worker.
const window = 64

func runJSONLParallel(ctx context.Context, h bot.Handler, in io.Reader, out io.Writer, workers int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	order := make(chan *job, workers*window) // every line and flush point, in input order
	work := make(chan *job, workers)
	queues := &userQueues{tail: map[string]*job{}}

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var buf bytes.Buffer
			enc := newEncoder(&buf)
			for j := range work {
				for ; j != nil; j = queues.finished(j) {
					o := answer(ctx, h, j.in)
					buf.Reset()
					if err := enc.Encode(&o); err != nil { // cannot fail: Out has only plain types
						o = Out{User: o.User, Replies: []bot.Reply{}, Error: "encode answer: " + err.Error()}
						buf.Reset()
						enc.Encode(&o)
					}
					j.out = append([]byte(nil), buf.Bytes()...)
					close(j.done)
				}
			}
		})
	}

	werr := make(chan error, 1)
	go func() {
		w := bufio.NewWriterSize(out, 64<<10)
		var err error
		stopped := false // cancelled, or a write failed: drain without writing
		for j := range order {
			if stopped {
				continue
			}
			if j.flush {
				if err = w.Flush(); err != nil {
					stopped = true
					cancel()
				}
				continue
			}
			select {
			case <-j.done:
			case <-ctx.Done():
				select {
				case <-j.done:
				default:
					stopped = true // the lines not yet answered are not waited for
					continue
				}
			}
			if _, err = w.Write(j.out); err != nil {
				stopped = true
				cancel() // stop reading; the lines under way finish
			}
		}
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			err = fmt.Errorf("write output: %w", err)
		}
		werr <- err
	}()

	rerr := readJobs(ctx, bufio.NewReaderSize(in, 64<<10), order, work, queues)
	close(order)
	close(work)
	wg.Wait()
	if err := <-werr; err != nil {
		return err
	}
	return rerr
}

// readJobs reads the input lines into order (and work, those to answer)
// until the end of input or ctx is cancelled.
func readJobs(ctx context.Context, r *bufio.Reader, order, work chan<- *job, queues *userQueues) error {
	var enc *json.Encoder
	var buf bytes.Buffer
	send := func(ch chan<- *job, j *job) bool {
		select {
		case ch <- j:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for ctx.Err() == nil {
		line, tooLong, err := readLine(r, MaxLine)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read input: %w", err)
		}
		bad, in, skip := lineOut(line, tooLong)
		if !skip {
			j := &job{in: in, done: make(chan struct{})}
			if bad != nil {
				if enc == nil {
					enc = newEncoder(&buf)
				}
				buf.Reset()
				enc.Encode(bad)
				j.out = append([]byte(nil), buf.Bytes()...)
				close(j.done)
			}
			if !send(order, j) {
				break
			}
			if bad == nil && queues.enqueue(j) && !send(work, j) {
				break
			}
		}
		if !completeLineBuffered(r) && !send(order, &job{flush: true}) {
			break
		}
	}
	return ctx.Err()
}

// completeLineBuffered reports whether r holds a whole line that reading
// it would not wait for.
func completeLineBuffered(r *bufio.Reader) bool {
	n := r.Buffered()
	if n == 0 {
		return false
	}
	b, _ := r.Peek(n)
	return bytes.IndexByte(b, '\n') >= 0
}
