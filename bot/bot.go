// Package bot is the platform-neutral core: the request and response types
// that every adapter speaks, the handler and middleware shapes, and the
// router that answers questions and runs the dialogue. Platform adapters live
// in subpackages (bot/console, bot/telegram, bot/discord) and own their
// transport; nothing platform-specific reaches this package.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
)

// Request is one incoming message or button press, from any platform.
type Request struct {
	// Platform names the adapter: "console", "telegram", "discord".
	Platform string
	// ChatID identifies the conversation (a private chat, a group, a channel).
	ChatID string
	// UserID identifies the person within the platform.
	UserID string
	// Lang is the user's language if the platform knows it ("en", "fr");
	// empty to let the router detect it from the text.
	Lang string
	// Text is the message text (empty for a button press).
	Text string
	// Action is the payload of a pressed button (empty for a message).
	Action string
	// Group is true when the message comes from a group or server channel
	// rather than a private chat.
	Group bool
}

// SessionKey identifies the conversation state of one user in one chat.
func (r *Request) SessionKey() string {
	return r.Platform + ":" + r.ChatID + ":" + r.UserID
}

// Button is an action the user can take with one tap.
type Button struct {
	Label  string `json:"label"`
	Action string `json:"action"`
}

// Reply is one message to send back. Text is Markdown (bold, links, lists);
// adapters render it for their platform and split it if too long.
type Reply struct {
	Text string `json:"text"`
	// Topic is the article answered ("" when none).
	Topic string `json:"topic"`
	// Score is the confidence of the answer, 0..1.
	Score float64 `json:"score"`
	// Suggestions lists other candidate article IDs, best first.
	Suggestions []string `json:"suggestions"`
	Buttons     []Button `json:"buttons"`
}

// DialogueState describes the eligibility dialogue after a request: the fact
// being asked, or the outcomes when it has ended.
type DialogueState struct {
	// Started is true on the response that begins a dialogue (for metrics;
	// not part of the JSON).
	Started  bool
	Ask      string
	Options  []string
	Done     bool
	Outcomes []string
}

// MarshalJSON writes {"ask":…,"options":[…]} while asking and
// {"done":true,"outcomes":[…]} when done.
func (d *DialogueState) MarshalJSON() ([]byte, error) {
	if d.Done {
		out := d.Outcomes
		if out == nil {
			out = []string{}
		}
		return json.Marshal(struct {
			Done     bool     `json:"done"`
			Outcomes []string `json:"outcomes"`
		}{true, out})
	}
	opts := d.Options
	if opts == nil {
		opts = []string{}
	}
	return json.Marshal(struct {
		Ask     string   `json:"ask"`
		Options []string `json:"options"`
	}{d.Ask, opts})
}

// Response is everything the bot says in answer to one request.
type Response struct {
	Replies  []Reply
	Dialogue *DialogueState
}

// Handler answers requests. Errors go to the middleware that wraps it.
type Handler interface {
	Handle(ctx context.Context, req *Request) (*Response, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request) (*Response, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, req *Request) (*Response, error) {
	return f(ctx, req)
}

// Middleware wraps a handler.
type Middleware func(Handler) Handler

// Chain wraps h in middleware; the first is the outermost.
func Chain(h Handler, m ...Middleware) Handler {
	for i := len(m) - 1; i >= 0; i-- {
		h = m[i](h)
	}
	return h
}

// Action prefixes used in button payloads. Payloads stay short: Telegram
// allows 64 bytes of callback data, Discord 100 characters of custom_id.
const (
	ActArticle  = "a:" // a:<article id>
	ActCommand  = "c:" // c:<command>
	ActDialogue = "d:" // d:<value> answers the current dialogue question
	ActFeedback = "f:" // f:+:<id> or f:-:<id>
	ActHandoff  = "h:" // h:<article id or empty>
	maxAction   = 64
)

// ArticleAction is the button payload that opens an article.
func ArticleAction(id string) string { return ActArticle + id }

// CommandAction is the button payload that runs a command.
func CommandAction(cmd string) string { return ActCommand + cmd }

// ParseCommand splits "/cmd@botname args" into its lower-case command name
// and arguments. ok is false when text is not a command.
func ParseCommand(text string) (cmd, args string, ok bool) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "/") || len(text) < 2 {
		return "", "", false
	}
	head, rest, _ := strings.Cut(text[1:], " ")
	head, _, _ = strings.Cut(head, "@")
	if head == "" {
		return "", "", false
	}
	for _, r := range head {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return "", "", false
		}
	}
	return strings.ToLower(head), strings.TrimSpace(rest), true
}

// Stats receives counts from the adapters (for metrics). Implementations
// must be safe for concurrent use and quick.
type Stats interface {
	// MessageIn counts a message or button press received on a platform.
	MessageIn(platform string)
	// MessageOut counts a message sent on a platform.
	MessageOut(platform string)
	// APIError counts a failed call to a platform's API; kind is a short
	// label such as "429", "5xx", "network", "4xx".
	APIError(platform, kind string)
	// Reconnect counts a reconnection to a platform (Discord's gateway).
	Reconnect(platform string)
}

// NopStats discards counts.
type NopStats struct{}

func (NopStats) MessageIn(string)        {}
func (NopStats) MessageOut(string)       {}
func (NopStats) APIError(string, string) {}
func (NopStats) Reconnect(string)        {}

// ErrUnavailable marks an error of a shared store that is unreachable for
// now (Redis down): callers degrade (answer from the FAQ, say the dialogue
// is briefly unavailable) instead of failing, and it passes by itself.
var ErrUnavailable = errors.New("shared store briefly unavailable")
