package dispatch

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/patchpanda/patchpanda/internal/command"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// A comment is never ignored unparsed when its body holds a command,
// however the JSON around it escapes the text: as encoding/json does (<, >
// and & as \u003c…), without HTML escapes, or with every solidus escaped
// as \/.
func FuzzACommentWithACommandIsNeverIgnored(f *testing.F) {
	for _, body := range []string{"/patchpanda generate", "Thanks!\n/PatchPanda help", "```\n/patchpanda\n```\n/patchpanda", "  /PATCHPANDA", "/patchpanda <x>"} {
		for mode := range 3 {
			f.Add(body, uint8(mode))
		}
	}
	f.Fuzz(func(t *testing.T, body string, mode uint8) {
		if _, ok := command.Parse(body); !ok {
			return
		}
		payload := map[string]any{"action": "created", "comment": map[string]any{"id": 1, "body": body}}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(mode%3 == 0)
		if err := enc.Encode(payload); err != nil {
			t.Fatal(err)
		}
		raw := buf.Bytes()
		if mode%3 == 2 {
			raw = bytes.ReplaceAll(raw, []byte("/"), []byte(`\/`))
		}
		var back map[string]any
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatalf("the payload is not JSON: %v", err)
		}
		if ignored(patchpanda.Delivery{Event: "issue_comment", Action: "created", Payload: raw}) {
			t.Errorf("a comment holding a command was ignored: %s", raw)
		}
	})
}
