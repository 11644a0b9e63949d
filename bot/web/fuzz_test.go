package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// FuzzWebInput: whatever the widget (or anyone) posts, the server answers
// with a JSON message and a status below 500, never a panic; a question in
// a valid session always gets entries back.
func FuzzWebInput(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello"}`, `{"type":"hello","sid":"x","lang":"fr"}`, `{"type":"msg","text":"hi"}`,
		`{"type":"handoff","name":"A","email":"a@b","question":"q"}`, `{"type":1}`, `[`, `null`, "\xff",
	} {
		f.Add(s, "how much is the fee?")
	}
	f.Add(`{}`, "<script>alert(1)</script> [x](javascript:alert(1)) ![i](http://a/i.png)")
	f.Add(`{}`, strings.Repeat("é", 3000))
	// JSON writes each of these as a six-byte escape: a text of MaxText
	// characters must still fit in one frame, and a far longer one is
	// refused with a reason (CI's fuzzing found the 16 KiB frame too small).
	f.Add(`{}`, strings.Repeat("<", MaxText))
	f.Add(`{}`, strings.Repeat("\x01", 3000))
	f.Add(`{}`, strings.Repeat("<", 12000))
	s, err := New(Config{Handler: echoHandler, PerIP: 1e9, PerIPBurst: 1 << 30, PerSession: 1e9, PerSessionBurst: 1 << 30})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	s.markReady()
	post := func(t *testing.T, path, body string) (int, Out) {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
		var o Out
		if err := json.Unmarshal(rec.Body.Bytes(), &o); err != nil {
			t.Fatalf("POST %s %q: %d, not JSON: %q", path, body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q: %d", path, body, rec.Code)
		}
		return rec.Code, o
	}
	f.Fuzz(func(t *testing.T, body, text string) {
		post(t, "/chat/hello", body)
		post(t, "/chat/send", body)
		code, hello := post(t, "/chat/hello", `{"type":"hello"}`)
		if code != http.StatusOK || hello.SID == "" {
			t.Fatalf("hello: %d %+v", code, hello)
		}
		msg, _ := json.Marshal(In{Type: "msg", SID: hello.SID, ID: "1", Text: text})
		code, out := post(t, "/chat/send", string(msg))
		if len(msg) > maxFrame {
			// Only a text far over MaxText gets here: refused whole, with a reason.
			if code != http.StatusRequestEntityTooLarge || out.Type != "error" || !strings.Contains(out.Text, "too long") {
				t.Fatalf("send of a %d-byte frame: %d %+v", len(msg), code, out)
			}
			return
		}
		if code != http.StatusOK || (out.Type != "entries" && out.Type != "error") {
			t.Fatalf("send %q: %d %+v", text, code, out)
		}
	})
}

var (
	// An event handler counts only inside a tag: text such as "0 onA=" is
	// escaped prose, not an attribute (goldmark escapes every "<" of text).
	scriptRE = regexp.MustCompile(`(?i)<\s*script|<\s*iframe|<[^>]*\son[a-z]+\s*=`)
	attrRE   = regexp.MustCompile(`(?i)\s(href|src)\s*=\s*"([^"]*)"`)
)

// FuzzRenderHTML: a reply's Markdown never renders to script, event
// handlers or links that are not http(s).
func FuzzRenderHTML(f *testing.F) {
	for _, s := range []string{
		"**IEC** see [the page](https://www.canada.ca/iec) & <b>raw</b>",
		"<script>alert(1)</script><img src=x onerror=alert(1)>",
		"[x](javascript:alert(1)) [y](JaVaScRiPt:alert(1)) [z](data:text/html,x) <javascript:alert(1)>",
		"![img](http://a/i.png) ![img](javascript:x)",
		"| a | b |\n|:--|--:|\n| 1 | 2 |\n\n~~gone~~",
		"[ref]\n\n[ref]: javascript:alert(1)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, md string) {
		out := RenderHTML(md)
		if m := scriptRE.FindString(out); m != "" {
			t.Fatalf("RenderHTML(%q) = %q: contains %q", md, out, m)
		}
		for _, m := range attrRE.FindAllStringSubmatch(out, -1) {
			u := strings.ToLower(strings.TrimSpace(m[2]))
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Fatalf("RenderHTML(%q) = %q: %s=%q", md, out, m[1], m[2])
			}
		}
	})
}
