// Package service assembles impbot: the configuration, the app (knowledge,
// index, router, dialogue, middleware), the platform adapters, the HTTP
// server for operations (/healthz, /readyz, /metrics, /admin), hot reload
// of the knowledge, the gaps report and the knowledge tools behind
// `impbot kb`. The command in cmd/impbot parses flags and calls it.
package service

import (
	"log/slog"

	"github.com/impbot/impbot/knowledge"
)

// NewApp builds the bot from the config.
func NewApp(cfg Config, log *slog.Logger) (*App, error) { return newApp(cfg, log) }

// LoadKnowledge loads a knowledge folder, or the embedded knowledge when dir
// is "".
func LoadKnowledge(dir string) (*knowledge.Base, error) { return loadKnowledge(dir) }

// CheckKnowledge loads and validates a folder ("" = embedded) like
// `impbot kb check`, the eligibility rules included.
func CheckKnowledge(dir string) (*knowledge.Base, knowledge.Problems) { return checkKnowledge(dir) }
