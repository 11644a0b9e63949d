package insights

// The shared store: with sessions.backend: redis every replica records into
// the same Redis, so the report of any replica (or `impbot kb gaps`) shows
// the gaps of all of them. Same privacy rules as the bbolt store: a record
// holds the question's text, outcome, platform, language and nearest
// articles, never who asked; the retention and "recording off" rules apply.
//
// Keys, under the configured prefix:
//
//	<prefix>:insights:q        sorted set of questions, scored by time (ms);
//	                           each member is a versioned record (magic byte,
//	                           format version, 8 random bytes, JSON)
//	<prefix>:insights:fb:<day> hash of the day's counts per article
//	                           ("u:<id>" and "d:<id>"), expiring after the
//	                           feedback retention
//	<prefix>:insights:fbdays   sorted set of the days with counts
//
// Writes go through the same background writer as bbolt (one pipeline per
// batch), so the router never waits for Redis. While Redis is unreachable
// records are dropped and counted (Dropped), never retried in a loop.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/impbot/impbot/bot/cluster"
)

// Record format in Redis. A replica reads every version up to its own; a
// record of a newer format (written by a newer replica during a rolling
// upgrade) is skipped, not misread.
const (
	redisMagic   = 0xB7
	redisVersion = 1
	// DefaultMaxShared bounds the questions kept in Redis (the oldest go
	// first), whatever the retention.
	DefaultMaxShared = 100000
)

// OpenRedis returns a store that records into the shared Redis r. It
// deletes expired records (all questions when recording is off) if Redis
// answers; a Redis that is down at start only loses records until it comes.
func OpenRedis(r *cluster.Redis, opt Options) (*Store, error) {
	if r == nil {
		return nil, errors.New("insights: no redis connection")
	}
	s, err := Open(nil, opt)
	if err != nil {
		return nil, err
	}
	s.red = r
	if s.opt.MaxShared <= 0 {
		s.opt.MaxShared = DefaultMaxShared
	}
	if err := s.Sweep(); err != nil {
		s.opt.Log.Warn("insights: deleting expired records in redis failed; the next sweep retries", "err", err)
	}
	s.queue = make(chan any, queueSize)
	s.done = make(chan struct{})
	go s.writer()
	return s, nil
}

func (s *Store) redisQKey() string           { return s.red.Key("insights", "q") }
func (s *Store) redisDaysKey() string        { return s.red.Key("insights", "fbdays") }
func (s *Store) redisDayKey(d string) string { return s.red.Key("insights", "fb", d) }

// writeRedis writes a batch in one pipeline. On failure the batch's records
// are counted as dropped.
func (s *Store) writeRedis(batch []any) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var flushes []flushReq
	n := 0
	pipe := s.red.Client().Pipeline()
	for _, ev := range batch {
		switch ev := ev.(type) {
		case flushReq:
			flushes = append(flushes, ev)
		case record:
			m, err := encodeMember(ev)
			if err != nil {
				s.opt.Log.Error("insights: encode question", "err", err)
				continue
			}
			pipe.ZAdd(ctx, s.redisQKey(), redis.Z{Score: float64(ev.Time.UnixMilli()), Member: m})
			n++
		case feedbackEvent:
			f := "d:" + ev.id
			if ev.up {
				f = "u:" + ev.id
			}
			k := s.redisDayKey(ev.day)
			pipe.HIncrBy(ctx, k, f, 1)
			// A backstop: the sweep deletes old days by the clock; a day
			// nobody sweeps still goes away by itself.
			pipe.PExpire(ctx, k, s.opt.FeedbackRetention+48*time.Hour)
			pipe.ZAdd(ctx, s.redisDaysKey(), redis.Z{Score: float64(dayUnix(ev.day)), Member: ev.day})
			n++
		}
	}
	var err error
	if n > 0 {
		// Keep at most MaxShared questions (the newest).
		pipe.ZRemRangeByRank(ctx, s.redisQKey(), 0, int64(-s.opt.MaxShared-1))
		_, err = pipe.Exec(ctx)
		if err = s.red.Check(err); err != nil {
			s.dropped.Add(uint64(n))
			err = fmt.Errorf("insights: write %d record(s) to redis: %w", n, err)
			s.opt.Log.Warn("insights: records dropped", "count", n, "err", err)
		}
	}
	for _, f := range flushes {
		f <- err
	}
}

// sweepRedis deletes questions before qCut and the feedback days before
// fCut.
func (s *Store) sweepRedis(qCut time.Time, fCut string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := s.red.Client()
	if s.opt.Retention <= 0 {
		// Recording off: what earlier runs recorded goes too.
		if err := s.red.Check(c.Del(ctx, s.redisQKey()).Err()); err != nil {
			return fmt.Errorf("insights: delete questions in redis: %w", err)
		}
	} else if err := s.red.Check(c.ZRemRangeByScore(ctx, s.redisQKey(), "-inf", "("+strconv.FormatInt(qCut.UnixMilli(), 10)).Err()); err != nil {
		return fmt.Errorf("insights: sweep questions in redis: %w", err)
	}
	cut := strconv.FormatInt(dayUnix(fCut), 10)
	days, err := c.ZRangeByScore(ctx, s.redisDaysKey(), &redis.ZRangeBy{Min: "-inf", Max: "(" + cut}).Result()
	if err = s.red.Check(err); err != nil {
		return fmt.Errorf("insights: sweep feedback in redis: %w", err)
	}
	if len(days) == 0 {
		return nil
	}
	pipe := c.TxPipeline()
	for _, d := range days {
		pipe.Del(ctx, s.redisDayKey(d))
	}
	pipe.ZRemRangeByScore(ctx, s.redisDaysKey(), "-inf", "("+cut)
	if _, err := pipe.Exec(ctx); s.red.Check(err) != nil {
		return fmt.Errorf("insights: sweep feedback in redis: %w", s.red.Check(err))
	}
	return nil
}

// ReadRedisReport builds a report from the shared Redis, for `impbot kb
// gaps` with sessions.backend: redis (any machine that reaches the Redis).
func ReadRedisReport(ctx context.Context, r *cluster.Redis, ro ReportOptions, now time.Time) (*Report, error) {
	var b reportBuilder
	b.init(ro, now)
	b.rep.Recording = true
	if err := readRedis(ctx, r, &b); err != nil {
		return nil, err
	}
	return b.finish(), nil
}

func readRedis(ctx context.Context, r *cluster.Redis, b *reportBuilder) error {
	c := r.Client()
	min := strconv.FormatInt(b.ro.Since.UnixMilli(), 10)
	members, err := c.ZRangeByScore(ctx, r.Key("insights", "q"), &redis.ZRangeBy{Min: min, Max: "+inf"}).Result()
	if err = r.Check(err); err != nil {
		return fmt.Errorf("insights: read questions from redis: %w", err)
	}
	for _, m := range members {
		if rec, ok := decodeMember(m); ok {
			b.addQuestion(rec)
		}
	}
	days, err := c.ZRangeByScore(ctx, r.Key("insights", "fbdays"), &redis.ZRangeBy{
		Min: strconv.FormatInt(dayUnix(day(b.ro.Since)), 10), Max: "+inf"}).Result()
	if err = r.Check(err); err != nil {
		return fmt.Errorf("insights: read feedback days from redis: %w", err)
	}
	if len(days) == 0 {
		return nil
	}
	pipe := c.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(days))
	for i, d := range days {
		cmds[i] = pipe.HGetAll(ctx, r.Key("insights", "fb", d))
	}
	if _, err := pipe.Exec(ctx); r.Check(err) != nil {
		return fmt.Errorf("insights: read feedback from redis: %w", r.Check(err))
	}
	for i, d := range days {
		per := map[string]*counts{}
		for f, v := range cmds[i].Val() {
			kind, id, ok := strings.Cut(f, ":")
			n, err := strconv.ParseUint(v, 10, 64)
			if !ok || id == "" || err != nil {
				continue
			}
			c := per[id]
			if c == nil {
				c = &counts{}
				per[id] = c
			}
			switch kind {
			case "u":
				c.up += n
			case "d":
				c.down += n
			}
		}
		for id, c := range per {
			b.addFeedback(d, id, *c)
		}
	}
	return nil
}

func encodeMember(rec record) (string, error) {
	data, err := json.Marshal(rec)
	if err != nil {
		return "", err
	}
	m := make([]byte, 10, 10+len(data))
	m[0], m[1] = redisMagic, redisVersion
	if _, err := rand.Read(m[2:10]); err != nil {
		return "", err
	}
	return string(append(m, data...)), nil
}

// decodeMember reads a stored question; ok is false for a damaged record
// or an unknown (newer) format.
func decodeMember(m string) (record, bool) {
	var rec record
	if len(m) < 10 || m[0] != redisMagic || m[1] == 0 || m[1] > redisVersion {
		return rec, false
	}
	if err := json.Unmarshal([]byte(m[10:]), &rec); err != nil {
		return rec, false
	}
	return rec, true
}

// dayUnix is the day's midnight UTC in Unix seconds (0 for a bad day).
func dayUnix(d string) int64 {
	t, err := time.Parse("2006-01-02", d)
	if err != nil {
		return 0
	}
	return t.Unix()
}
