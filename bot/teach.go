package bot

import "context"

// Proposal is a question the bot missed (or answered with low confidence)
// and the articles it most likely belongs to, for staff to confirm.
type Proposal struct {
	Question string
	Lang     string
	Count    int
	Articles []string // likely article IDs, best first
}

// Teacher lets staff teach the bot a missed phrasing from a chat, without
// editing files: the service implements it over `kb gaps` and `kb learn`.
type Teacher interface {
	// Proposals returns up to n of the most frequent missed questions.
	Proposals(ctx context.Context, n int) ([]Proposal, error)
	// Learn adds question (in lang) to the article's questions, checks the
	// knowledge and reloads it. It returns a short confirmation.
	Learn(ctx context.Context, question, lang, articleID string) (string, error)
}
