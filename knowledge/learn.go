package knowledge

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrKnownQuestion is returned by AddQuestion when the article already has
// the phrasing.
var ErrKnownQuestion = errors.New("the article already has this question")

// AddQuestion returns an article file with question appended to its
// `questions` list. Only that list changes: the other lines, comments,
// quoting and indentation stay as they are; the new item follows the style
// of the existing ones.
func AddQuestion(data []byte, question string) ([]byte, error) {
	question = strings.Join(strings.Fields(question), " ")
	if question == "" {
		return nil, errors.New("empty question")
	}
	if len(question) > 300 {
		return nil, errors.New("question longer than 300 characters")
	}
	text := string(data)
	crlf := strings.Contains(text, "\r\n")
	if crlf {
		text = strings.ReplaceAll(text, "\r\n", "\n")
	}
	lines := strings.Split(text, "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) != "---" {
		return nil, errors.New("not an article: no front matter")
	}
	end := -1
	for i := 1; i < len(lines); i++ {
		if strings.TrimRight(lines[i], " \t") == "---" {
			end = i
			break
		}
	}
	if end < 0 {
		return nil, errors.New("not an article: front matter not closed")
	}
	a, probs := ParseArticle("article", data)
	if a == nil {
		return nil, fmt.Errorf("the article does not parse: %v", probs)
	}
	norm := func(s string) string {
		return strings.ToLower(strings.Join(strings.Fields(strings.Trim(s, " ?!.")), " "))
	}
	for _, q := range a.Questions {
		if norm(q) == norm(question) {
			return nil, ErrKnownQuestion
		}
	}
	key := -1
	for i := 1; i < end; i++ {
		if strings.HasPrefix(lines[i], "questions:") {
			key = i
			break
		}
	}
	if key < 0 {
		return nil, errors.New("the article has no questions list")
	}
	scalar, err := yamlScalar(question)
	if err != nil {
		return nil, err
	}
	rest := strings.TrimSpace(strings.TrimPrefix(lines[key], "questions:"))
	var out []string
	switch {
	case strings.HasPrefix(rest, "["):
		// Flow style on one line: questions: [a, b]
		close := strings.LastIndex(lines[key], "]")
		if close < 0 {
			return nil, errors.New("questions: a flow list spread over several lines is not supported; use one item per line")
		}
		inner := strings.TrimSpace(lines[key][strings.Index(lines[key], "[")+1 : close])
		sep := ", "
		if inner == "" {
			sep = ""
		}
		q, err := yaml.Marshal(&yaml.Node{Kind: yaml.ScalarNode, Style: yaml.DoubleQuotedStyle, Value: question})
		if err != nil {
			return nil, err
		}
		line := lines[key][:close] + sep + strings.TrimSuffix(string(q), "\n") + lines[key][close:]
		out = append(append(append([]string{}, lines[:key]...), line), lines[key+1:]...)
	case rest == "" || strings.HasPrefix(rest, "#"):
		// Block style: the items follow, each "<indent>- item", maybe with
		// continuation lines and comments in between.
		indent := "  "
		last := key
		itemRE := regexp.MustCompile(`^(\s*)- `)
		for i := key + 1; i < end; i++ {
			l := lines[i]
			if _, ok := topKey(l); ok {
				break
			}
			if m := itemRE.FindStringSubmatch(l); m != nil {
				indent = m[1]
				last = i
				continue
			}
			trimmed := strings.TrimSpace(l)
			if trimmed != "" && !strings.HasPrefix(trimmed, "#") && last > key {
				last = i // a continuation of the previous item
			}
		}
		out = append(out, lines[:last+1]...)
		out = append(out, indent+"- "+scalar)
		out = append(out, lines[last+1:]...)
	default:
		return nil, errors.New("questions must be a list")
	}
	res := strings.Join(out, "\n")
	if crlf {
		res = strings.ReplaceAll(res, "\n", "\r\n")
	}
	// The result must still parse and hold the new question.
	b, probs := ParseArticle("article", []byte(res))
	if b == nil || len(b.Questions) != len(a.Questions)+1 || norm(b.Questions[len(b.Questions)-1]) != norm(question) {
		return nil, fmt.Errorf("could not add the question safely (%v)", probs)
	}
	return []byte(res), nil
}

// yamlScalar writes s as a one-line YAML scalar, quoted only when needed.
func yamlScalar(s string) (string, error) {
	out, err := yaml.Marshal(s)
	if err != nil {
		return "", err
	}
	v := strings.TrimSuffix(string(out), "\n")
	if strings.Contains(v, "\n") || strings.HasPrefix(v, "|") || strings.HasPrefix(v, ">") {
		q, err := yaml.Marshal(&yaml.Node{Kind: yaml.ScalarNode, Style: yaml.DoubleQuotedStyle, Value: s})
		if err != nil {
			return "", err
		}
		v = strings.TrimSuffix(string(q), "\n")
	}
	return v, nil
}

// LearnQuestion adds question to the article id in lang of the knowledge
// folder dir (the file dir/lang/id.md), writing the file in place. It
// returns the file's path.
func LearnQuestion(dir, lang, id, question string) (string, error) {
	if !idRE.MatchString(id) || !langRE.MatchString(lang) {
		return "", fmt.Errorf("bad article id %q or language %q", id, lang)
	}
	p := filepath.Join(dir, lang, id+".md")
	data, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("article %s/%s: %w", lang, id, err)
	}
	out, err := AddQuestion(data, question)
	if err != nil {
		return p, fmt.Errorf("%s: %w", p, err)
	}
	st, err := os.Stat(p)
	if err != nil {
		return p, err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, out, st.Mode().Perm()); err != nil {
		return p, fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return p, fmt.Errorf("write %s: %w", p, err)
	}
	return p, nil
}

// frenchHints are frequent French words that rarely appear in English
// questions, for GuessLang.
var frenchHints = map[string]bool{
	"je": true, "suis": true, "est": true, "les": true, "des": true, "une": true, "pour": true, "mon": true,
	"ma": true, "mes": true, "quel": true, "quelle": true, "est-ce": true, "peux": true, "puis": true,
	"avec": true, "sans": true, "permis": true, "travail": true, "comment": true, "combien": true, "où": true,
	"ai": true, "j'ai": true, "dois": true, "faut": true, "au": true, "du": true, "et": true, "pas": true,
}

// GuessLang says whether a short question is French or English, for staff
// tools (the router has its own detection).
func GuessLang(q string) string {
	n := 0
	for _, w := range strings.Fields(strings.ToLower(q)) {
		w = strings.Trim(w, ".,;:!?«»\"()")
		if frenchHints[w] {
			n++
		}
		if strings.ContainsAny(w, "éèêàçùâîôû") {
			n++
		}
	}
	if n >= 2 {
		return "fr"
	}
	return "en"
}
