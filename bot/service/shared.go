package service

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/impbot/impbot/index"
	"github.com/impbot/impbot/knowledge"
)

// embedded is the embedded knowledge and its index, built once per process
// and shared by every App built on them: the embedded knowledge never
// changes (nothing to reload), and a process that builds several apps
// (tests, `kb test` after `chat`) builds the index once.
var embedded struct {
	once sync.Once
	b    *knowledge.Base
	ix   *index.Index
	err  error
}

// knowledgeIndex loads the knowledge folder dir ("" = embedded) within lim
// (entries skipped are logged to log) and builds its index. shared reports
// the embedded index, which must never be closed.
func knowledgeIndex(dir string, lim knowledge.Limits, log *slog.Logger) (b *knowledge.Base, ix *index.Index, shared bool, err error) {
	if dir != "" {
		if b, err = loadKnowledgeLimits(dir, lim, log); err != nil {
			return nil, nil, false, err
		}
		if ix, err = buildIndex(b, log); err != nil {
			return nil, nil, false, err
		}
		return b, ix, false, nil
	}
	embedded.once.Do(func() {
		if embedded.b, embedded.err = loadKnowledge(""); embedded.err != nil {
			return
		}
		embedded.ix, embedded.err = buildIndex(embedded.b, log)
	})
	return embedded.b, embedded.ix, true, embedded.err
}

// buildIndex builds the index of b, or opens it from the index cache when
// it holds this knowledge's (see index.CacheDir), and logs which.
func buildIndex(b *knowledge.Base, log *slog.Logger) (*index.Index, error) {
	start := time.Now()
	ix, err := index.Build(b)
	if err != nil {
		return nil, fmt.Errorf("build index: %w", err)
	}
	if log != nil {
		log.Info("index ready", "articles", b.Count(), "from_cache", ix.FromCache(), "ms", time.Since(start).Milliseconds())
	}
	return ix, nil
}
